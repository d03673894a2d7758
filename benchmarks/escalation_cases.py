"""A labelled corpus of IAM privilege-escalation cases, as one account's authorization details.

`python benchmarks/escalation_cases.py` writes build/bench/escalation-cases.json (the shape
`aws iam get-account-authorization-details` prints, account 111122223333) and
build/bench/escalation-labels.json (one label per principal). benchmarks/escalation_peers.py
scores Shepherd and peer tools on them.

One principal per case, named after its case: a role, or a user where the method is about users
(access keys, login profiles, user and group policies). Each principal holds only its own
policies. Labels:

- "escalation": the principal can gain privileges it does not have (positive);
- "clean": a near miss that AWS would not let escalate (negative);
- "target": the shared privileged roles, users and groups the cases aim at. Not scored.

Every case role trusts only a role in another account (444455556666), so no case principal can
assume, pass or otherwise use another case's principal: each case stands alone. The only roles
a service can be handed are the targets: admin-<service> (AdministratorAccess, trusting that
service), lambda-basic and sandbox-runner (no privileges). A positive granted on Resource "*"
assumes, as the published method does, that the resource it needs exists (a function, stack,
CodeBuild project, notebook or instance running with a privileged role); the authorization
details cannot show those resources.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
ACCOUNT = "111122223333"
EXTERNAL_CI = "arn:aws:iam::444455556666:role/ci-runner"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
DATE = "2026-01-05T10:00:00Z"

# Sources, cited per case below.
RHINO = (
    "Rhino Security Labs, 'AWS Privilege Escalation – Methods and Mitigation' "
    "(S. Gietzen, 2018), method {}"
)
PF = "pathfinding.cloud {}"  # https://pathfinding.cloud/paths/<id>
CS = "cloudsplaining 0.9.1 privilege-escalation list ({})"
PMAPPER = "pmapper 1.1.5 {} (principalmapper/graphing/)"
AWSDOC = "AWS IAM User Guide: {}"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def _id(prefix: str, name: str) -> str:
    digest = hashlib.sha256(f"{prefix}{name}".encode()).hexdigest().upper()
    return prefix + "".join(c if c.isalpha() else "ABCDEFGHIJ"[int(c)] for c in digest)[:17]


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(
    actions: str | list[str],
    resources: str | list[str] = "*",
    condition: dict[str, Any] | None = None,
    *,
    not_resource: bool = False,
) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Allow", "Action": actions}
    s["NotResource" if not_resource else "Resource"] = resources
    if condition:
        s["Condition"] = condition
    return s


def deny(
    actions: str | list[str],
    resources: str | list[str] = "*",
    condition: dict[str, Any] | None = None,
    *,
    not_resource: bool = False,
    not_action: bool = False,
) -> dict[str, Any]:
    s = allow(actions, resources, condition, not_resource=not_resource)
    s["Effect"] = "Deny"
    if not_action:
        s["NotAction"] = s.pop("Action")
    return s


def trust(principal: dict[str, Any], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        s["Condition"] = condition
    return doc(s)


def service(name: str | list[str]) -> dict[str, Any]:
    return trust({"Service": name})


LAMBDA = ["lambda:CreateFunction", "lambda:InvokeFunction"]
PASSED_TO = "iam:PassedToService"


class Builder:
    """Accumulates the account's details and the case labels."""

    def __init__(self) -> None:
        self.roles: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.labels: list[dict[str, str]] = []

    # -- entities ---------------------------------------------------------------------------
    def managed(
        self, name: str, document: dict[str, Any], *older: dict[str, Any], aws: bool = False
    ) -> str:
        """A managed policy: `document` is its default version, `older` its other versions (v2,
        v3, ... not default). AWS managed policies are listed too when something holds them,
        as the real command does."""
        policy_arn = f"arn:aws:iam::aws:policy/{name}" if aws else arn("policy", name)
        versions = [
            {"Document": d, "VersionId": f"v{i + 2}", "IsDefaultVersion": False, "CreateDate": DATE}
            for i, d in enumerate(older)
        ]
        versions.insert(
            0,
            {"Document": document, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": DATE},
        )
        self.policies[policy_arn] = {
            "PolicyName": name,
            "PolicyId": _id("ANPA", policy_arn),
            "Arn": policy_arn,
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": DATE,
            "UpdateDate": DATE,
            "PolicyVersionList": versions,
        }
        return policy_arn

    @staticmethod
    def _inline(name: str, statements: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
        return (
            [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else []
        )

    def _attached(self, arns: tuple[str, ...]) -> list[dict[str, str]]:
        for a in arns:
            self.policies[a]["AttachmentCount"] += 1
        return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in arns]

    def _boundary(self, boundary: str | None) -> dict[str, Any]:
        if boundary is None:
            return {}
        self.policies[boundary]["PermissionsBoundaryUsageCount"] += 1
        return {
            "PermissionsBoundary": {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        }

    def role(
        self,
        name: str,
        *statements: dict[str, Any],
        trusts: dict[str, Any] | None = None,
        attach: tuple[str, ...] = (),
        boundary: str | None = None,
        profile: bool = False,
    ) -> None:
        role_arn = arn("role", name)
        r: dict[str, Any] = {
            "Path": "/",
            "RoleName": name,
            "RoleId": _id("AROA", name),
            "Arn": role_arn,
            "CreateDate": DATE,
            "AssumeRolePolicyDocument": trusts or trust({"AWS": EXTERNAL_CI}),
            "InstanceProfileList": [],
            "RolePolicyList": self._inline(name, statements),
            "AttachedManagedPolicies": self._attached(attach),
            **self._boundary(boundary),
            "Tags": [],
            "RoleLastUsed": {},
        }
        if profile:
            r["InstanceProfileList"] = [
                {
                    "Path": "/",
                    "InstanceProfileName": name,
                    "InstanceProfileId": _id("AIPA", name),
                    "Arn": arn("instance-profile", name),
                    "CreateDate": DATE,
                    "Roles": [{k: r[k] for k in ("Path", "RoleName", "RoleId", "Arn")}],
                }
            ]
        self.roles[name] = r

    def user(
        self,
        name: str,
        *statements: dict[str, Any],
        groups: tuple[str, ...] = (),
        attach: tuple[str, ...] = (),
        boundary: str | None = None,
    ) -> None:
        self.users[name] = {
            "Path": "/",
            "UserName": name,
            "UserId": _id("AIDA", name),
            "Arn": arn("user", name),
            "CreateDate": DATE,
            "UserPolicyList": self._inline(name, statements),
            "GroupList": list(groups),
            "AttachedManagedPolicies": self._attached(attach),
            **self._boundary(boundary),
            "Tags": [],
        }

    def group(self, name: str, *statements: dict[str, Any], attach: tuple[str, ...] = ()) -> None:
        self.groups[name] = {
            "Path": "/",
            "GroupName": name,
            "GroupId": _id("AGPA", name),
            "Arn": arn("group", name),
            "CreateDate": DATE,
            "GroupPolicyList": self._inline(name, statements),
            "AttachedManagedPolicies": self._attached(attach),
        }

    # -- labels -----------------------------------------------------------------------------
    def label(self, principal: str, expected: str, method: str, source: str, note: str) -> None:
        self.labels.append(
            {
                "principal": principal,
                "expected": expected,
                "method": method,
                "source": source,
                "note": note,
            }
        )

    def case(
        self,
        expected: str,
        name: str,
        method: str,
        source: str,
        note: str,
        *statements: dict[str, Any],
        user: bool = False,
        **kw: Any,
    ) -> None:
        if user:
            self.user(name, *statements, **kw)
        else:
            self.role(name, *statements, **kw)
        self.label(f"{'user' if user else 'role'}/{name}", expected, method, source, note)

    def details(self) -> dict[str, Any]:
        return {
            "UserDetailList": list(self.users.values()),
            "GroupDetailList": list(self.groups.values()),
            "RoleDetailList": list(self.roles.values()),
            "Policies": list(self.policies.values()),
        }


def _targets(b: Builder) -> None:
    """The privileged (and unprivileged) roles, users and groups the cases aim at."""
    b.managed(
        "AdministratorAccess", doc(allow("*")), aws=True
    )  # AWS managed: every action, every resource
    t = "target"
    src = "shared target"
    for name, svc in (
        ("admin-lambda", "lambda.amazonaws.com"),
        ("admin-ec2", "ec2.amazonaws.com"),
        ("admin-glue", "glue.amazonaws.com"),
        ("admin-cfn", "cloudformation.amazonaws.com"),
        ("admin-datapipeline", ["datapipeline.amazonaws.com", "elasticmapreduce.amazonaws.com"]),
        ("admin-apprunner", "tasks.apprunner.amazonaws.com"),
        ("admin-codebuild", "codebuild.amazonaws.com"),
        ("admin-sagemaker", "sagemaker.amazonaws.com"),
        ("admin-ecs", "ecs-tasks.amazonaws.com"),
        ("admin-bedrock", "bedrock-agentcore.amazonaws.com"),
    ):
        b.case(
            t,
            name,
            "admin role for a service",
            src,
            f"AdministratorAccess, trusts {svc}",
            trusts=service(svc),
            attach=(ADMIN_ARN,),
            profile=name == "admin-ec2",
        )
    b.case(
        t,
        "lambda-basic",
        "unprivileged Lambda role",
        src,
        "CloudWatch Logs only; the only non-admin role that trusts Lambda",
        allow(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            f"arn:aws:logs:*:{ACCOUNT}:*",
        ),
        trusts=service("lambda.amazonaws.com"),
    )
    b.case(
        t,
        "sandbox-runner",
        "unprivileged EC2 role",
        src,
        "no policies; trusts ec2.amazonaws.com",
        trusts=service("ec2.amazonaws.com"),
        profile=True,
    )
    b.case(
        t, "admin-user", "admin user", src, "AdministratorAccess", user=True, attach=(ADMIN_ARN,)
    )
    b.case(t, "sandbox-user", "unprivileged user", src, "no policies, no keys", user=True)
    b.group("admin-group", attach=(ADMIN_ARN,))
    b.group("readers", allow(["iam:Get*", "iam:List*", "cloudwatch:Get*", "cloudwatch:List*"]))
    # The trust graph.
    b.case(
        t,
        "graph-admin",
        "admin role assumable by named principals",
        src,
        "AdministratorAccess; trust names esc-chain-1, graph-hop, esc-chain-user, "
        "esc-trust-names-user, miss-trust-no-identity, miss-chain-deny-assume",
        trusts=trust(
            {
                "AWS": [
                    arn("role", "esc-chain-1"),
                    arn("role", "graph-hop"),
                    arn("user", "esc-chain-user"),
                    arn("user", "esc-trust-names-user"),
                    arn("role", "miss-trust-no-identity"),
                    arn("role", "miss-chain-deny-assume"),
                ]
            }
        ),
        attach=(ADMIN_ARN,),
    )
    b.case(
        t,
        "graph-hop",
        "middle of a two-hop chain",
        src,
        "trusts esc-chain-2hop; may assume graph-admin",
        allow("sts:AssumeRole", arn("role", "graph-admin")),
        trusts=trust({"AWS": arn("role", "esc-chain-2hop")}),
    )
    b.case(
        t,
        "graph-admin-root",
        "admin role trusting the account",
        src,
        "AdministratorAccess; trusts arn:aws:iam::111122223333:root with no condition",
        trusts=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
        attach=(ADMIN_ARN,),
    )
    b.case(
        t,
        "graph-admin-pinned",
        "admin role trusting the account, pinned to one principal",
        src,
        "AdministratorAccess; trusts the account root only when aws:PrincipalArn is graph-hop",
        trusts=trust(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            {"ArnEquals": {"aws:PrincipalArn": arn("role", "graph-hop")}},
        ),
        attach=(ADMIN_ARN,),
    )
    b.case(
        t,
        "graph-admin-strict",
        "admin role trusting one other role",
        src,
        "AdministratorAccess; trust names only sandbox-runner",
        trusts=trust({"AWS": arn("role", "sandbox-runner")}),
        attach=(ADMIN_ARN,),
    )
    b.case(
        t,
        "graph-deployer",
        "role that can escalate (PassRole + Lambda)",
        src,
        "trusts esc-chain-to-escalator; iam:PassRole + lambda create/invoke on *",
        allow(["iam:PassRole", *LAMBDA]),
        trusts=trust({"AWS": arn("role", "esc-chain-to-escalator")}),
    )
    b.case(
        t,
        "graph-readonly",
        "read-only role",
        src,
        "trusts miss-chain-to-readonly; IAM and CloudWatch reads",
        allow(["iam:Get*", "iam:List*", "cloudwatch:Get*", "cloudwatch:List*"]),
        trusts=trust({"AWS": arn("role", "miss-chain-to-readonly")}),
    )
    # Policies a case may touch but nobody privileged holds.
    b.managed("unattached-policy", doc(allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    b.managed(
        "dev-boundary",
        doc(allow(["s3:*", "logs:*"], ["arn:aws:s3:::dev-*", f"arn:aws:logs:*:{ACCOUNT}:*"])),
    )


def _rhino(b: Builder) -> None:
    """Rhino Security Labs' 21 methods (2018), each granted on Resource "*"."""
    esc = functools.partial(b.case, "escalation")
    r = RHINO.format

    # source: Rhino 2018 #1; pathfinding.cloud iam-001; cloudsplaining CreateNewPolicyVersion
    esc(
        "esc-create-policy-version",
        "iam:CreatePolicyVersion",
        f"{r(1)}; {PF.format('iam-001')}",
        "new default version of any customer managed policy, e.g. one it holds",
        allow("iam:CreatePolicyVersion"),
    )
    # source: Rhino 2018 #2; cloudsplaining SetExistingDefaultPolicyVersion
    held = b.managed(
        "esc-set-default-policy-version-policy",
        doc(allow("iam:SetDefaultPolicyVersion")),
        doc(allow("*")),  # v2, not default: what SetDefaultPolicyVersion turns on
    )
    esc(
        "esc-set-default-policy-version",
        "iam:SetDefaultPolicyVersion",
        f"{r(2)}; {CS.format('SetExistingDefaultPolicyVersion')}",
        "its own policy has a non-default v2 allowing * on *",
        attach=(held,),
    )
    # source: Rhino 2018 #3; pathfinding.cloud ec2-001; pmapper ec2_edges
    esc(
        "esc-passrole-ec2",
        "iam:PassRole + ec2:RunInstances",
        f"{r(3)}; {PF.format('ec2-001')}; {PMAPPER.format('ec2_edges')}",
        "launch an instance with the admin-ec2 profile",
        allow(["iam:PassRole", "ec2:RunInstances"]),
    )
    # source: Rhino 2018 #4; pathfinding.cloud iam-002; pmapper iam_edges
    esc(
        "esc-create-access-key",
        "iam:CreateAccessKey",
        f"{r(4)}; {PF.format('iam-002')}; {PMAPPER.format('iam_edges')}",
        "keys for admin-user",
        allow("iam:CreateAccessKey"),
        user=True,
    )
    # source: Rhino 2018 #5; pathfinding.cloud iam-004; pmapper iam_edges
    esc(
        "esc-create-login-profile",
        "iam:CreateLoginProfile",
        f"{r(5)}; {PF.format('iam-004')}; {PMAPPER.format('iam_edges')}",
        "console password for admin-user",
        allow("iam:CreateLoginProfile"),
        user=True,
    )
    # source: Rhino 2018 #6; pathfinding.cloud iam-006; pmapper iam_edges
    esc(
        "esc-update-login-profile",
        "iam:UpdateLoginProfile",
        f"{r(6)}; {PF.format('iam-006')}; {PMAPPER.format('iam_edges')}",
        "reset another user's console password",
        allow("iam:UpdateLoginProfile"),
        user=True,
    )
    # source: Rhino 2018 #7; pathfinding.cloud iam-008
    esc(
        "esc-attach-user-policy",
        "iam:AttachUserPolicy",
        f"{r(7)}; {PF.format('iam-008')}",
        "attach AdministratorAccess to itself",
        allow("iam:AttachUserPolicy"),
        user=True,
    )
    # source: Rhino 2018 #8; pathfinding.cloud iam-010
    b.group("esc-attach-group-policy-team")
    esc(
        "esc-attach-group-policy",
        "iam:AttachGroupPolicy",
        f"{r(8)}; {PF.format('iam-010')}",
        "attach AdministratorAccess to its own group",
        allow("iam:AttachGroupPolicy"),
        user=True,
        groups=("esc-attach-group-policy-team",),
    )
    # source: Rhino 2018 #9; pathfinding.cloud iam-009
    esc(
        "esc-attach-role-policy",
        "iam:AttachRolePolicy",
        f"{r(9)}; {PF.format('iam-009')}",
        "attach AdministratorAccess to itself",
        allow("iam:AttachRolePolicy"),
    )
    # source: Rhino 2018 #10; pathfinding.cloud iam-007
    esc(
        "esc-put-user-policy",
        "iam:PutUserPolicy",
        f"{r(10)}; {PF.format('iam-007')}",
        "inline * on * for itself",
        allow("iam:PutUserPolicy"),
        user=True,
    )
    # source: Rhino 2018 #11; pathfinding.cloud iam-011
    b.group("esc-put-group-policy-team")
    esc(
        "esc-put-group-policy",
        "iam:PutGroupPolicy",
        f"{r(11)}; {PF.format('iam-011')}",
        "inline * on * for its own group",
        allow("iam:PutGroupPolicy"),
        user=True,
        groups=("esc-put-group-policy-team",),
    )
    # source: Rhino 2018 #12; pathfinding.cloud iam-005
    esc(
        "esc-put-role-policy",
        "iam:PutRolePolicy",
        f"{r(12)}; {PF.format('iam-005')}",
        "inline * on * for itself",
        allow("iam:PutRolePolicy"),
    )
    # source: Rhino 2018 #13; pathfinding.cloud iam-013
    esc(
        "esc-add-user-to-group",
        "iam:AddUserToGroup",
        f"{r(13)}; {PF.format('iam-013')}",
        "join admin-group",
        allow("iam:AddUserToGroup"),
        user=True,
    )
    # source: Rhino 2018 #14; pathfinding.cloud iam-012; pmapper iam_edges
    esc(
        "esc-update-assume-role-policy",
        "iam:UpdateAssumeRolePolicy + sts:AssumeRole",
        f"{r(14)}; {PF.format('iam-012')}; {PMAPPER.format('iam_edges')}",
        "rewrite an admin role's trust to name itself, then assume it",
        allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]),
    )
    # source: Rhino 2018 #15; pathfinding.cloud lambda-001; pmapper lambda_edges
    esc(
        "esc-passrole-lambda",
        "iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction",
        f"{r(15)}; {PF.format('lambda-001')}; {PMAPPER.format('lambda_edges')}",
        "a function running as admin-lambda",
        allow(["iam:PassRole", *LAMBDA]),
    )
    # source: Rhino 2018 #16; pathfinding.cloud lambda-002
    esc(
        "esc-passrole-lambda-event-source",
        "iam:PassRole + lambda:CreateFunction + lambda:CreateEventSourceMapping",
        f"{r(16)}; {PF.format('lambda-002')}",
        "a function as admin-lambda, triggered by an existing stream",
        allow(["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"]),
    )
    # source: Rhino 2018 #17; pathfinding.cloud lambda-003; pmapper lambda_edges
    esc(
        "esc-update-function-code",
        "lambda:UpdateFunctionCode",
        f"{r(17)}; {PF.format('lambda-003')}; {PMAPPER.format('lambda_edges')}",
        "rewrite an existing function that runs with a privileged role",
        allow("lambda:UpdateFunctionCode"),
    )
    # source: Rhino 2018 #18; pathfinding.cloud glue-001
    esc(
        "esc-passrole-glue",
        "iam:PassRole + glue:CreateDevEndpoint",
        f"{r(18)}; {PF.format('glue-001')}",
        "a dev endpoint running as admin-glue",
        allow(["iam:PassRole", "glue:CreateDevEndpoint", "glue:GetDevEndpoint"]),
    )
    # source: Rhino 2018 #19; pathfinding.cloud glue-002
    esc(
        "esc-glue-update-dev-endpoint",
        "glue:UpdateDevEndpoint",
        f"{r(19)}; {PF.format('glue-002')}",
        "add an SSH key to an existing privileged dev endpoint",
        allow(["glue:UpdateDevEndpoint", "glue:GetDevEndpoint"]),
    )
    # source: Rhino 2018 #20; pathfinding.cloud cloudformation-001; pmapper cloudformation_edges
    esc(
        "esc-passrole-cloudformation",
        "iam:PassRole + cloudformation:CreateStack",
        f"{r(20)}; {PF.format('cloudformation-001')}; {PMAPPER.format('cloudformation_edges')}",
        "a stack run as admin-cfn creates what it likes",
        allow(["iam:PassRole", "cloudformation:CreateStack", "cloudformation:DescribeStacks"]),
    )
    # source: Rhino 2018 #21; pathfinding.cloud datapipeline-001
    esc(
        "esc-passrole-datapipeline",
        "iam:PassRole + datapipeline:CreatePipeline + datapipeline:PutPipelineDefinition",
        f"{r(21)}; {PF.format('datapipeline-001')}",
        "a pipeline running a shell command as admin-datapipeline",
        allow(
            [
                "iam:PassRole",
                "datapipeline:CreatePipeline",
                "datapipeline:PutPipelineDefinition",
                "datapipeline:ActivatePipeline",
            ]
        ),
    )


def _later(b: Builder) -> None:
    """Paths published after 2018 (pathfinding.cloud ids where it has one)."""
    esc = functools.partial(b.case, "escalation")
    p = PF.format

    # source: pathfinding.cloud apprunner-002 (UpdateService); cloudsplaining PassRoleToUpdatedAppRunnerService
    esc(
        "esc-apprunner-update-service",
        "apprunner:UpdateService + iam:PassRole",
        f"{p('apprunner-002')}; {CS.format('PassRoleToUpdatedAppRunnerService')}",
        "point an existing service at new code running as admin-apprunner",
        allow(["apprunner:UpdateService", "iam:PassRole"]),
    )
    # source: pathfinding.cloud apprunner-001
    esc(
        "esc-apprunner-create-service",
        "apprunner:CreateService + iam:PassRole",
        p("apprunner-001"),
        "a new service running as admin-apprunner",
        allow(["apprunner:CreateService", "iam:PassRole"]),
    )
    # source: cloudsplaining UpdateExistingCloudFormationStack (stack with a privileged role)
    esc(
        "esc-cfn-update-stack",
        "cloudformation:UpdateStack",
        CS.format("UpdateExistingCloudFormationStack"),
        "update a stack that already runs with a service role",
        allow(["cloudformation:UpdateStack", "cloudformation:DescribeStacks"]),
    )
    # source: cloudsplaining PassRoleToUpdatedCloudFormationStack; pmapper cloudformation_edges
    esc(
        "esc-cfn-update-stack-passrole",
        "iam:PassRole + cloudformation:UpdateStack",
        f"{CS.format('PassRoleToUpdatedCloudFormationStack')}; {PMAPPER.format('cloudformation_edges')}",
        "update any stack, handing it admin-cfn",
        allow(["iam:PassRole", "cloudformation:UpdateStack"]),
    )
    # source: pathfinding.cloud cloudformation-005
    esc(
        "esc-cfn-change-set",
        "cloudformation:CreateChangeSet + cloudformation:ExecuteChangeSet",
        p("cloudformation-005"),
        "change set on a stack that runs with a service role",
        allow(["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"]),
    )
    # source: cloudsplaining StartCodeBuildWithBuildspecOverride; pmapper codebuild_edges
    esc(
        "esc-codebuild-start-build",
        "codebuild:StartBuild (buildspec override)",
        f"{CS.format('StartCodeBuildWithBuildspecOverride')}; {PMAPPER.format('codebuild_edges')}",
        "override the buildspec of a project whose service role is admin-codebuild",
        allow("codebuild:StartBuild"),
    )
    # source: cloudsplaining StartCodeBuildBatchWithBuildspecOverride
    esc(
        "esc-codebuild-start-build-batch",
        "codebuild:StartBuildBatch (buildspec override)",
        CS.format("StartCodeBuildBatchWithBuildspecOverride"),
        "the batch variant of the buildspec override",
        allow("codebuild:StartBuildBatch"),
    )
    # source: pathfinding.cloud codebuild-001; pmapper codebuild_edges
    esc(
        "esc-codebuild-create-project",
        "iam:PassRole + codebuild:CreateProject + codebuild:StartBuild",
        f"{p('codebuild-001')}; {PMAPPER.format('codebuild_edges')}",
        "a new project with admin-codebuild as its service role",
        allow(["iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"]),
    )
    # source: cloudsplaining SendSSMCommandToInstanceWithRole; pmapper ssm_edges
    esc(
        "esc-ssm-send-command",
        "ssm:SendCommand",
        f"{CS.format('SendSSMCommandToInstanceWithRole')}; {PMAPPER.format('ssm_edges')}",
        "run a command on an instance with the admin-ec2 profile",
        allow("ssm:SendCommand"),
    )
    # source: cloudsplaining StartSSMSessionOnInstanceWithRole; pmapper ssm_edges
    esc(
        "esc-ssm-start-session",
        "ssm:StartSession",
        f"{CS.format('StartSSMSessionOnInstanceWithRole')}; {PMAPPER.format('ssm_edges')}",
        "a shell on an instance with the admin-ec2 profile",
        allow("ssm:StartSession"),
    )
    # source: pathfinding.cloud sagemaker-001; pmapper sagemaker_edges
    esc(
        "esc-sagemaker-notebook",
        "iam:PassRole + sagemaker:CreateNotebookInstance",
        f"{p('sagemaker-001')}; {PMAPPER.format('sagemaker_edges')}",
        "a notebook as admin-sagemaker, opened through a presigned URL",
        allow(
            [
                "iam:PassRole",
                "sagemaker:CreateNotebookInstance",
                "sagemaker:CreatePresignedNotebookInstanceUrl",
            ]
        ),
    )
    # source: pathfinding.cloud sagemaker-004
    esc(
        "esc-sagemaker-presigned-url",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        p("sagemaker-004"),
        "open an existing notebook that runs with a privileged role",
        allow("sagemaker:CreatePresignedNotebookInstanceUrl"),
    )
    # source: pathfinding.cloud sagemaker-002
    esc(
        "esc-sagemaker-training-job",
        "iam:PassRole + sagemaker:CreateTrainingJob",
        p("sagemaker-002"),
        "a training job container running as admin-sagemaker",
        allow(["iam:PassRole", "sagemaker:CreateTrainingJob"]),
    )
    # source: pathfinding.cloud ecs-004
    esc(
        "esc-ecs-run-task",
        "iam:PassRole + ecs:RegisterTaskDefinition + ecs:RunTask",
        p("ecs-004"),
        "a task with admin-ecs as task role",
        allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"]),
    )
    # source: pathfinding.cloud ecs-003
    esc(
        "esc-ecs-create-service",
        "iam:PassRole + ecs:RegisterTaskDefinition + ecs:CreateService",
        p("ecs-003"),
        "a service whose tasks run as admin-ecs",
        allow(["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"]),
    )
    # source: pathfinding.cloud ec2-003
    esc(
        "esc-ec2-spot",
        "iam:PassRole + ec2:RequestSpotInstances",
        p("ec2-003"),
        "a spot instance with the admin-ec2 profile",
        allow(["iam:PassRole", "ec2:RequestSpotInstances"]),
    )
    # source: pathfinding.cloud ec2-002
    esc(
        "esc-ec2-user-data",
        "ec2:ModifyInstanceAttribute + ec2:StopInstances + ec2:StartInstances",
        p("ec2-002"),
        "new user data on a stopped privileged instance",
        allow(["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"]),
    )
    # source: pathfinding.cloud ec2-004
    esc(
        "esc-ec2-launch-template",
        "ec2:CreateLaunchTemplateVersion + ec2:ModifyLaunchTemplate",
        p("ec2-004"),
        "new default version of a launch template with a privileged profile",
        allow(["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"]),
    )
    # source: pathfinding.cloud glue-003
    esc(
        "esc-glue-create-job",
        "iam:PassRole + glue:CreateJob + glue:StartJobRun",
        p("glue-003"),
        "a job running as admin-glue",
        allow(["iam:PassRole", "glue:CreateJob", "glue:StartJobRun"]),
    )
    # source: pathfinding.cloud lambda-006
    esc(
        "esc-lambda-passrole-add-permission",
        "iam:PassRole + lambda:CreateFunction + lambda:AddPermission",
        p("lambda-006"),
        "a function as admin-lambda that it lets itself invoke via a resource policy",
        allow(["iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission"]),
    )
    # source: pathfinding.cloud bedrock-001
    esc(
        "esc-bedrock-code-interpreter",
        "iam:PassRole + bedrock-agentcore:CreateCodeInterpreter + StartCodeInterpreterSession + "
        "InvokeCodeInterpreter",
        p("bedrock-001"),
        "code interpreter running as admin-bedrock",
        allow(
            [
                "iam:PassRole",
                "bedrock-agentcore:CreateCodeInterpreter",
                "bedrock-agentcore:StartCodeInterpreterSession",
                "bedrock-agentcore:InvokeCodeInterpreter",
            ]
        ),
    )
    # source: pmapper autoscaling_edges (not in cloudsplaining's list)
    esc(
        "esc-autoscaling-launch-config",
        "iam:PassRole + autoscaling:CreateLaunchConfiguration + autoscaling:CreateAutoScalingGroup",
        PMAPPER.format("autoscaling_edges"),
        "a group launching instances with the admin-ec2 profile (launch configurations are "
        "closed to accounts created since late 2024; launch templates are the same path)",
        allow(
            [
                "iam:PassRole",
                "autoscaling:CreateLaunchConfiguration",
                "autoscaling:CreateAutoScalingGroup",
            ]
        ),
    )
    # source: AWS IAM User Guide, permissions boundaries (delegation example denies
    # iam:DeleteRolePermissionsBoundary for this reason)
    bound = b.managed(
        "esc-delete-own-boundary-boundary",
        doc(
            allow(["s3:Get*", "s3:List*"]),
            allow("iam:DeleteRolePermissionsBoundary", arn("role", "esc-delete-own-boundary")),
        ),
    )
    esc(
        "esc-delete-own-boundary",
        "iam:DeleteRolePermissionsBoundary on itself",
        AWSDOC.format("permissions boundaries, delegating responsibility"),
        "holds AdministratorAccess capped by a boundary it may delete",
        attach=(ADMIN_ARN,),
        boundary=bound,
    )
    bound = b.managed(
        "esc-put-own-boundary-boundary",
        doc(
            allow(["s3:Get*", "s3:List*"]),
            allow("iam:PutRolePermissionsBoundary", arn("role", "esc-put-own-boundary")),
        ),
    )
    # source: AWS IAM User Guide, permissions boundaries (iam:PutRolePermissionsBoundary on itself)
    esc(
        "esc-put-own-boundary",
        "iam:PutRolePermissionsBoundary on itself",
        AWSDOC.format("permissions boundaries, delegating responsibility"),
        "holds AdministratorAccess capped by a boundary it may replace (e.g. with AdministratorAccess)",
        attach=(ADMIN_ARN,),
        boundary=bound,
    )


def _scoped_and_self(b: Builder) -> None:
    """Account-scoped wildcards and self-escalation: the grant names ARNs, not "*"."""
    esc = functools.partial(b.case, "escalation")
    p = PF.format
    fn = f"arn:aws:lambda:*:{ACCOUNT}:function:*"

    def held(name: str, *statements: dict[str, Any]) -> tuple[str, ...]:
        return (b.managed(f"{name}-policy", doc(*statements)),)

    # Account-scoped wildcards (granted through customer managed policies).
    # source: pathfinding.cloud iam-009, on arn:aws:iam::<account>:role/*
    name = "esc-scoped-attach-role-policy"
    esc(
        name,
        "iam:AttachRolePolicy on role/*",
        p("iam-009"),
        "includes its own role",
        attach=held(name, allow("iam:AttachRolePolicy", arn("role", "*"))),
    )
    # source: pathfinding.cloud iam-008, on user/*
    name = "esc-scoped-attach-user-policy"
    esc(
        name,
        "iam:AttachUserPolicy on user/*",
        p("iam-008"),
        "includes itself",
        attach=held(name, allow("iam:AttachUserPolicy", arn("user", "*"))),
        user=True,
    )
    # source: pathfinding.cloud iam-005, on role/*
    name = "esc-scoped-put-role-policy"
    esc(
        name,
        "iam:PutRolePolicy on role/*",
        p("iam-005"),
        "includes its own role",
        attach=held(name, allow("iam:PutRolePolicy", arn("role", "*"))),
    )
    # source: pathfinding.cloud lambda-001, PassRole on role/*
    name = "esc-scoped-passrole-lambda"
    esc(
        name,
        "iam:PassRole on role/* + lambda create/invoke on account functions",
        p("lambda-001"),
        "role/* includes admin-lambda",
        attach=held(name, allow("iam:PassRole", arn("role", "*")), allow(LAMBDA, fn)),
    )
    # source: pathfinding.cloud ec2-001, PassRole on role/admin-*
    name = "esc-scoped-passrole-admin-prefix"
    esc(
        name,
        "iam:PassRole on role/admin-* + ec2:RunInstances",
        p("ec2-001"),
        "role/admin-* includes admin-ec2",
        attach=held(name, allow("iam:PassRole", arn("role", "admin-*")), allow("ec2:RunInstances")),
    )
    # source: pathfinding.cloud iam-002, on user/*
    name = "esc-scoped-create-access-key"
    esc(
        name,
        "iam:CreateAccessKey on user/*",
        p("iam-002"),
        "user/* includes admin-user",
        attach=held(name, allow("iam:CreateAccessKey", arn("user", "*"))),
        user=True,
    )
    # source: pathfinding.cloud iam-001, on policy/* (its own grant is a policy/*)
    name = "esc-scoped-create-policy-version"
    esc(
        name,
        "iam:CreatePolicyVersion on policy/*",
        p("iam-001"),
        "policy/* includes the customer managed policy it holds",
        attach=held(name, allow("iam:CreatePolicyVersion", arn("policy", "*"))),
    )

    # Self-escalation: the grant names only the principal's own ARN (or its own policy).
    # source: pathfinding.cloud iam-001, on the policy attached to itself
    name = "esc-self-create-policy-version"
    esc(
        name,
        "iam:CreatePolicyVersion on its own policy",
        p("iam-001"),
        "rewrite the policy it holds",
        attach=held(name, allow("iam:CreatePolicyVersion", arn("policy", f"{name}-policy"))),
    )
    # source: Rhino 2018 #2, on its own policy
    name = "esc-self-set-default-version"
    own = b.managed(
        f"{name}-policy",
        doc(allow("iam:SetDefaultPolicyVersion", arn("policy", f"{name}-policy"))),
        doc(allow("*")),
    )
    esc(
        name,
        "iam:SetDefaultPolicyVersion on its own policy",
        RHINO.format(2),
        "its own policy has a non-default v2 allowing * on *",
        attach=(own,),
    )
    # source: pathfinding.cloud iam-009; pmapper gathering is_admin (AttachRolePolicy on itself)
    name = "esc-self-attach-role-policy"
    esc(
        name,
        "iam:AttachRolePolicy on itself",
        f"{p('iam-009')}; {PMAPPER.format('gathering')}",
        "attach AdministratorAccess to itself",
        allow("iam:AttachRolePolicy", arn("role", name)),
    )
    # source: pathfinding.cloud iam-005; pmapper gathering is_admin (PutRolePolicy on itself)
    name = "esc-self-put-role-policy"
    esc(
        name,
        "iam:PutRolePolicy on itself",
        f"{p('iam-005')}; {PMAPPER.format('gathering')}",
        "inline * on * for itself",
        allow("iam:PutRolePolicy", arn("role", name)),
    )
    # source: pathfinding.cloud iam-008
    name = "esc-self-attach-user-policy"
    esc(
        name,
        "iam:AttachUserPolicy on itself",
        p("iam-008"),
        "attach AdministratorAccess to itself",
        allow("iam:AttachUserPolicy", arn("user", name)),
        user=True,
    )
    # source: pathfinding.cloud iam-007
    name = "esc-self-put-user-policy"
    esc(
        name,
        "iam:PutUserPolicy on itself",
        p("iam-007"),
        "inline * on * for itself",
        allow("iam:PutUserPolicy", arn("user", name)),
        user=True,
    )
    # source: pathfinding.cloud iam-013 (resource is the group)
    name = "esc-self-add-to-admin-group"
    esc(
        name,
        "iam:AddUserToGroup on group/admin-group",
        p("iam-013"),
        "join admin-group",
        allow("iam:AddUserToGroup", arn("group", "admin-group")),
        user=True,
    )


def _trust_graph(b: Builder) -> None:
    esc = functools.partial(b.case, "escalation")
    miss = functools.partial(b.case, "clean")
    sts = PMAPPER.format("sts_edges")
    harmless = allow(["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"])

    # source: pmapper sts_edges (AssumeRole edge to an admin)
    esc(
        "esc-chain-1",
        "sts:AssumeRole -> graph-admin",
        sts,
        "graph-admin's trust names it; graph-admin holds AdministratorAccess",
        allow("sts:AssumeRole", arn("role", "graph-admin")),
    )
    # source: pmapper sts_edges, two hops
    esc(
        "esc-chain-2hop",
        "sts:AssumeRole -> graph-hop -> graph-admin",
        sts,
        "graph-hop trusts it and may assume graph-admin, which trusts graph-hop",
        allow("sts:AssumeRole", arn("role", "graph-hop")),
    )
    # source: pmapper sts_edges (trust of the account root defers to identity policy)
    esc(
        "esc-trust-account-root",
        "sts:AssumeRole -> graph-admin-root (trusts account root)",
        sts,
        "a trust of :root with no condition admits any principal of the account whose identity "
        "policy allows the call",
        allow("sts:AssumeRole", arn("role", "graph-admin-root")),
    )
    # source: pmapper sts_edges (user principal)
    esc(
        "esc-chain-user",
        "sts:AssumeRole -> graph-admin (user)",
        sts,
        "graph-admin's trust names the user",
        allow("sts:AssumeRole", arn("role", "graph-admin")),
        user=True,
    )
    # source: pmapper sts_edges + lambda_edges (assume a role that can itself escalate)
    esc(
        "esc-chain-to-escalator",
        "sts:AssumeRole -> graph-deployer (PassRole + Lambda)",
        f"{sts}; {PMAPPER.format('lambda_edges')}",
        "graph-deployer trusts it and can pass admin-lambda to a new function",
        allow("sts:AssumeRole", arn("role", "graph-deployer")),
    )
    # source: AWS IAM User Guide, policy evaluation within a single account
    esc(
        "esc-trust-names-user",
        "graph-admin's trust names the user; no identity sts:AssumeRole",
        AWSDOC.format("policy evaluation logic, requests within a single account"),
        "a resource-based policy naming an IAM user ARN in the same account grants on its own, "
        "without an identity-policy allow (unlike one naming a role ARN)",
        harmless,
        user=True,
    )

    # source: pmapper sts_edges (trust must admit the caller)
    miss(
        "miss-trust-other-principal",
        "sts:AssumeRole on a role that does not trust it",
        sts,
        "graph-admin-strict's trust names only sandbox-runner",
        allow("sts:AssumeRole", arn("role", "graph-admin-strict")),
    )
    # source: AWS IAM User Guide, policy evaluation within a single account
    miss(
        "miss-trust-no-identity",
        "trusted by graph-admin, no sts:AssumeRole in its policies or its boundary",
        AWSDOC.format(
            "update a role trust policy (a principal's boundary must allow sts:AssumeRole)"
        ),
        "without the boundary this would escalate: AWS lets a same-account principal named in a "
        "trust policy assume the role with no identity-policy allow (see esc-trust-names-user); a "
        "grant to a role ARN is still limited by the session's permissions boundary, which here "
        "allows only CloudWatch reads",
        harmless,
        boundary=b.managed("miss-trust-no-identity-boundary", doc(harmless)),
    )
    # source: AWS IAM User Guide, aws:PrincipalArn in trust policies
    miss(
        "miss-trust-root-pinned",
        "sts:AssumeRole on a :root trust pinned by aws:PrincipalArn",
        AWSDOC.format("aws:PrincipalArn condition key"),
        "graph-admin-pinned trusts :root only for aws:PrincipalArn graph-hop",
        allow("sts:AssumeRole", arn("role", "graph-admin-pinned")),
    )
    # source: AWS IAM User Guide, explicit deny overrides
    miss(
        "miss-chain-deny-assume",
        "trusted by graph-admin, sts:AssumeRole on *, Deny on role/graph-*",
        AWSDOC.format("policy evaluation logic, explicit deny"),
        "its Deny on graph-* wins over both allows; every role outside graph-* that it may "
        "assume by policy trusts only a service or another account",
        allow("sts:AssumeRole"),
        deny("sts:AssumeRole", arn("role", "graph-*")),
    )
    # source: pmapper sts_edges (edge to a non-admin)
    miss(
        "miss-chain-to-readonly",
        "sts:AssumeRole -> graph-readonly",
        sts,
        "graph-readonly only reads IAM and CloudWatch",
        allow("sts:AssumeRole", arn("role", "graph-readonly")),
    )


def _conditions_and_denies(b: Builder) -> None:
    esc = functools.partial(b.case, "escalation")
    miss = functools.partial(b.case, "clean")
    key = AWSDOC.format("IAM condition keys ({})").format
    boundary = arn("policy", "dev-boundary")

    # source: AWS IAM User Guide, iam:PassedToService; pathfinding.cloud lambda-001
    miss(
        "miss-passrole-to-ec2-only",
        "iam:PassRole (PassedToService ec2) + lambda create/invoke",
        key("iam:PassedToService"),
        "the Lambda path needs PassedToService lambda.amazonaws.com",
        allow("iam:PassRole", "*", {"StringEquals": {PASSED_TO: "ec2.amazonaws.com"}}),
        allow(LAMBDA),
    )
    miss(
        "miss-passrole-stringlike-ec2",
        "iam:PassRole (StringLike ec2) + lambda create/invoke",
        key("iam:PassedToService"),
        "StringLike without wildcards is an exact match",
        allow("iam:PassRole", "*", {"StringLike": {PASSED_TO: "ec2.amazonaws.com"}}),
        allow(LAMBDA),
    )
    miss(
        "miss-passrole-foranyvalue-ec2",
        "iam:PassRole (ForAnyValue:StringEquals ec2) + lambda create/invoke",
        key("iam:PassedToService"),
        "ForAnyValue over the single value lambda.amazonaws.com: no match",
        allow(
            "iam:PassRole", "*", {"ForAnyValue:StringEquals": {PASSED_TO: ["ec2.amazonaws.com"]}}
        ),
        allow(LAMBDA),
    )
    esc(
        "esc-passrole-to-lambda-only",
        "iam:PassRole (PassedToService lambda) + lambda create/invoke",
        f"{key('iam:PassedToService')}; {PF.format('lambda-001')}",
        "the condition is exactly the Lambda path's",
        allow("iam:PassRole", "*", {"StringEquals": {PASSED_TO: "lambda.amazonaws.com"}}),
        allow(LAMBDA),
    )
    esc(
        "esc-passrole-multi-service",
        "iam:PassRole (PassedToService ec2 or lambda) + lambda create/invoke",
        f"{key('iam:PassedToService')}; {PF.format('lambda-001')}",
        "lambda is one of the values",
        allow(
            "iam:PassRole",
            "*",
            {"StringEquals": {PASSED_TO: ["ec2.amazonaws.com", "lambda.amazonaws.com"]}},
        ),
        allow(LAMBDA),
    )
    # source: AWS IAM User Guide, iam:PolicyARN
    miss(
        "miss-attach-role-policy-readonly-only",
        "iam:AttachRolePolicy limited to ReadOnlyAccess",
        key("iam:PolicyARN"),
        "only ReadOnlyAccess may be attached: reads, not escalation",
        allow("iam:AttachRolePolicy", "*", {"ArnEquals": {"iam:PolicyARN": READONLY_ARN}}),
    )
    esc(
        "esc-attach-role-policy-aws-managed",
        "iam:AttachRolePolicy limited to arn:aws:iam::aws:policy/*",
        f"{key('iam:PolicyARN')}; {PF.format('iam-009')}",
        "AdministratorAccess matches",
        allow(
            "iam:AttachRolePolicy", "*", {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/*"}}
        ),
    )
    # source: AWS IAM User Guide, permissions boundaries (delegation with iam:PermissionsBoundary)
    miss(
        "miss-boundary-required-role-admin",
        "iam:CreateRole + iam:PutRolePolicy + iam:AttachRolePolicy requiring iam:PermissionsBoundary",
        key("iam:PermissionsBoundary"),
        "only roles bounded by dev-boundary (S3 dev-* and logs); it has no boundary itself and "
        "cannot assume or pass what it creates",
        allow(
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"],
            "*",
            {"StringEquals": {"iam:PermissionsBoundary": boundary}},
        ),
    )
    miss(
        "miss-boundary-required-put-role-policy",
        "iam:PutRolePolicy requiring iam:PermissionsBoundary",
        key("iam:PermissionsBoundary"),
        "only roles bounded by dev-boundary; not itself",
        allow("iam:PutRolePolicy", "*", {"StringEquals": {"iam:PermissionsBoundary": boundary}}),
    )

    # Denies.
    ev = AWSDOC.format("policy evaluation logic, explicit deny")
    # source: AWS IAM User Guide, explicit deny with NotResource
    miss(
        "miss-deny-attach-notresource",
        "iam:AttachRolePolicy on *, Deny NotResource sandbox-runner",
        ev,
        "it may only attach to sandbox-runner, which it cannot assume or pass",
        allow("iam:AttachRolePolicy"),
        deny("iam:AttachRolePolicy", arn("role", "sandbox-runner"), not_resource=True),
    )
    esc(
        "esc-deny-admin-prefix-only",
        "iam:AttachRolePolicy on *, Deny on role/admin-*",
        f"{ev}; {PF.format('iam-009')}",
        "the Deny leaves its own role open",
        allow("iam:AttachRolePolicy"),
        deny("iam:AttachRolePolicy", arn("role", "admin-*")),
    )
    miss(
        "miss-deny-passrole-admin",
        "iam:PassRole on * + lambda create/invoke, Deny PassRole role/admin-*",
        ev,
        "the only other role trusting Lambda is lambda-basic (logs only)",
        allow(["iam:PassRole", *LAMBDA]),
        deny("iam:PassRole", arn("role", "admin-*")),
    )
    # source: AWS IAM User Guide, aws:ViaAWSService (forward access sessions)
    via = AWSDOC.format("aws:ViaAWSService condition key")
    direct = {"Bool": {"aws:ViaAWSService": "false"}}
    miss(
        "miss-deny-direct-iam",
        "iam:* on *, Deny iam:* when aws:ViaAWSService is false",
        via,
        "every call it can make itself is direct, so the Deny always applies; it holds no service "
        "that would call IAM with its credentials",
        allow("iam:*"),
        deny("iam:*", "*", direct),
    )
    esc(
        "esc-deny-direct-iam-via-cfn",
        "iam:* on *, Deny iam:* when direct, + cloudformation:CreateStack",
        f"{via}; aws:CalledVia lists cloudformation.amazonaws.com",
        "a stack created without a service role calls IAM with its credentials through "
        "CloudFormation (aws:ViaAWSService true), which the Deny does not cover",
        allow(["iam:*", "cloudformation:CreateStack"]),
        deny("iam:*", "*", direct),
    )
    miss(
        "miss-deny-notaction",
        "iam:* on *, Deny NotAction iam:Get*/iam:List*",
        ev,
        "only IAM reads survive",
        allow("iam:*"),
        deny(["iam:Get*", "iam:List*"], not_action=True),
    )
    miss(
        "miss-deny-run-instances",
        "iam:PassRole + ec2:RunInstances, Deny ec2:RunInstances",
        ev,
        "no instance, no path",
        allow(["iam:PassRole", "ec2:RunInstances"]),
        deny("ec2:RunInstances"),
    )
    caps = b.managed("miss-boundary-caps-admin-boundary", doc(allow(["s3:*", "logs:*"])))
    miss(
        "miss-boundary-caps-admin",
        "AdministratorAccess within an S3/Logs boundary",
        AWSDOC.format("permissions boundaries"),
        "the boundary allows no IAM, no PassRole",
        attach=(ADMIN_ARN,),
        boundary=caps,
    )


def _other_misses(b: Builder) -> None:
    miss = functools.partial(b.case, "clean")
    p = PF.format

    # source: pathfinding.cloud iam-009 (needs a role it can use)
    miss(
        "miss-attach-role-policy-other-role",
        "iam:AttachRolePolicy on sandbox-runner only",
        p("iam-009"),
        "it cannot assume or pass sandbox-runner",
        allow("iam:AttachRolePolicy", arn("role", "sandbox-runner")),
    )
    # source: pathfinding.cloud lambda-001 (the passed role must be privileged)
    miss(
        "miss-passrole-unprivileged",
        "iam:PassRole on lambda-basic + lambda create/invoke",
        p("lambda-001"),
        "lambda-basic holds only CloudWatch Logs",
        allow("iam:PassRole", arn("role", "lambda-basic")),
        allow(LAMBDA),
    )
    miss(
        "miss-lambda-no-passrole",
        "lambda:CreateFunction + lambda:InvokeFunction, no PassRole",
        p("lambda-001"),
        "a function needs a role it may pass",
        allow(LAMBDA),
    )
    # source: pathfinding.cloud iam-002 (keys for another user)
    miss(
        "miss-create-own-access-key",
        "iam:CreateAccessKey on itself",
        p("iam-002"),
        "its own credentials: nothing gained",
        allow("iam:CreateAccessKey", arn("user", "miss-create-own-access-key")),
        user=True,
    )
    miss(
        "miss-create-login-profile-self",
        "iam:CreateLoginProfile on itself",
        p("iam-004"),
        "a console password for itself: same permissions",
        allow("iam:CreateLoginProfile", arn("user", "miss-create-login-profile-self")),
        user=True,
    )
    miss(
        "miss-update-login-profile-self",
        "iam:UpdateLoginProfile on itself",
        p("iam-006"),
        "changes its own password",
        allow("iam:UpdateLoginProfile", arn("user", "miss-update-login-profile-self")),
        user=True,
    )
    miss(
        "miss-get-list-only",
        "iam:Get* + iam:List*",
        "-",
        "reads only",
        allow(["iam:Get*", "iam:List*"]),
    )
    miss(
        "miss-ec2-run-no-passrole",
        "ec2:RunInstances, no PassRole",
        p("ec2-001"),
        "instances without a profile",
        allow(["ec2:RunInstances", "ec2:Describe*"]),
    )
    miss(
        "miss-passrole-no-service",
        "iam:PassRole on * alone",
        p("lambda-001"),
        "nothing to pass a role to",
        allow("iam:PassRole"),
    )
    # source: pathfinding.cloud iam-001 (the policy must be held by someone it can use)
    miss(
        "miss-create-policy-version-unattached",
        "iam:CreatePolicyVersion on an unattached policy",
        p("iam-001"),
        "unattached-policy is held by nobody",
        allow("iam:CreatePolicyVersion", arn("policy", "unattached-policy")),
    )
    # source: pathfinding.cloud iam-007 (another user, but no way to act as it)
    miss(
        "miss-put-user-policy-other-user",
        "iam:PutUserPolicy on sandbox-user only",
        p("iam-007"),
        "sandbox-user has no keys or password and it cannot create them",
        allow("iam:PutUserPolicy", arn("user", "sandbox-user")),
    )
    # source: pathfinding.cloud iam-013 (the group must be privileged)
    miss(
        "miss-add-user-to-readonly-group",
        "iam:AddUserToGroup on group/readers",
        p("iam-013"),
        "readers only reads IAM and CloudWatch",
        allow("iam:AddUserToGroup", arn("group", "readers")),
        user=True,
    )
    # source: AWS Systems Manager docs, SendCommand authorizes instance and document
    miss(
        "miss-ssm-send-command-document-only",
        "ssm:SendCommand on a document ARN only",
        "AWS Systems Manager User Guide: restricting command access",
        "SendCommand needs the instance as a resource too",
        allow("ssm:SendCommand", "arn:aws:ssm:*::document/AWS-RunShellScript"),
    )


@functools.cache
def _built() -> Builder:
    b = Builder()
    _targets(b)
    _rhino(b)
    _later(b)
    _scoped_and_self(b)
    _trust_graph(b)
    _conditions_and_denies(b)
    _other_misses(b)
    return b


def cases() -> list[dict[str, str]]:
    """Every principal's label: {principal, expected, method, source, note}; expected is
    "escalation", "clean" or "target" (not scored)."""
    return [dict(c) for c in _built().labels]


def account() -> dict[str, Any]:
    """The account's details, as `aws iam get-account-authorization-details` prints them."""
    return json.loads(json.dumps(_built().details()))


def main() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "escalation-cases.json").write_text(json.dumps(account(), indent=1))
    (BUILD / "escalation-labels.json").write_text(json.dumps(cases(), indent=1))
    labels = cases()
    counts = {k: sum(c["expected"] == k for c in labels) for k in ("escalation", "clean", "target")}
    print(
        f"{BUILD / 'escalation-cases.json'}: {counts['escalation']} escalation, "
        f"{counts['clean']} clean, {counts['target']} targets",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
