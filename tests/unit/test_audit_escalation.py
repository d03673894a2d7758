"""Escalation as an attacker walks it, from literal policies: conditions that decide a path, Denies
as IAM applies them, what a resource reaches (the whole account, the principal itself), the trust
graph, and the published paths as data. Each case has its near miss beside it."""

from __future__ import annotations

from typing import Any

from chalicelib.audit.analyzer import audit
from chalicelib.audit.findings import Finding

ACCOUNT = "111122223333"
LAMBDA = {
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
NOBODY: dict[str, Any] = {"Statement": []}
ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
LAMBDA_PATH = ["lambda:CreateFunction", "lambda:InvokeFunction"]


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def stmt(action: Any, resource: Any = "*", effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    key = "NotResource" if extra.pop("not_resource", False) else "Resource"
    return {"Effect": effect, "Action": action, key: resource, **extra}


def role(
    name: str, *statements: dict[str, Any], trust: Any = None, attached: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Arn": arn("role", name),
        "Path": "/",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": trust if trust is not None else [],
        },
        "RolePolicyList": [
            {"PolicyName": "inline", "PolicyDocument": {"Statement": list(statements)}}
        ]
        if statements
        else [],
        "AttachedManagedPolicies": [
            {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached
        ],
    }


def managed(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "Arn": arn("policy", name),
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "Document": {"Statement": list(statements)},
            }
        ],
    }


def trusts(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "Effect": "Allow",
            "Principal": {"AWS": [arn("role", n) if not n.isdigit() else n for n in names]},
            "Action": "sts:AssumeRole",
            **extra,
        }
    ]


def escalations(
    *roles: dict[str, Any],
    policies: tuple[dict[str, Any], ...] = (),
    users: tuple[dict[str, Any], ...] = (),
) -> dict[str, list[Finding]]:
    report = audit(
        {"RoleDetailList": list(roles), "UserDetailList": list(users), "Policies": list(policies)}
    )
    out: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.kind == "privilege_escalation":
            out.setdefault(f.principal, []).append(f)
    return out


def escalates(name: str, *roles: dict[str, Any], **kw: Any) -> bool:
    return f"role/{name}" in escalations(*roles, **kw)


# --- conditions that decide a path ---------------------------------------------------------


def passes(condition: dict[str, Any]) -> dict[str, Any]:
    return role("app", stmt("iam:PassRole", Condition=condition), stmt(LAMBDA_PATH))


def test_pass_role_only_to_another_service_completes_no_lambda_path() -> None:
    to_ec2 = {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert not escalates("app", passes(to_ec2))
    to_lambda = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    assert escalates("app", passes(to_lambda))
    like = {"ForAnyValue:StringLike": {"iam:PassedToService": ["lambda.*"]}}
    assert escalates("app", passes(like))


def test_a_condition_shepherd_cannot_judge_keeps_the_path_and_says_so() -> None:
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    [found] = escalations(passes(mfa))["role/app"]
    assert "under a condition not judged" in found.detail
    assert found.severity == "medium"  # lowered from high, never silenced


def test_attach_role_policy_limited_to_an_approved_policy_is_no_path() -> None:
    read_only = {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
    assert not escalates("app", role("app", stmt("iam:AttachRolePolicy", Condition=read_only)))
    any_aws = {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/*"}}
    assert escalates("app", role("app", stmt("iam:AttachRolePolicy", Condition=any_aws)))


def test_changes_that_must_carry_a_permissions_boundary_are_no_path() -> None:
    bounded = {"StringEquals": {"iam:PermissionsBoundary": arn("policy", "boundary")}}
    assert not escalates("app", role("app", stmt(["iam:PutRolePolicy"], Condition=bounded)))
    if_exists = {"StringEqualsIfExists": {"iam:PermissionsBoundary": arn("policy", "boundary")}}
    assert escalates("app", role("app", stmt(["iam:PutRolePolicy"], Condition=if_exists)))


def test_pass_role_for_another_service_s_resources_only_is_no_lambda_path() -> None:
    ec2_only = {"ArnLike": {"iam:AssociatedResourceArn": "arn:aws:ec2:*:*:instance/*"}}
    assert not escalates("app", passes(ec2_only))


# --- Denies as IAM applies them --------------------------------------------------------------


def test_a_deny_with_not_resource_takes_back_all_but_what_it_names() -> None:
    other = arn("role", "reporting")
    deny = stmt("iam:AttachRolePolicy", other, "Deny", not_resource=True)
    assert not escalates("app", role("app", stmt("iam:AttachRolePolicy"), deny))
    # …and when what it leaves is the principal itself, attaching to itself is the path.
    deny_self = stmt("iam:AttachRolePolicy", arn("role", "app"), "Deny", not_resource=True)
    assert escalates("app", role("app", stmt("iam:AttachRolePolicy"), deny_self))


def test_a_deny_of_the_admin_roles_leaves_pass_role_nothing_worth_passing() -> None:
    admin = role("admin-lambda", ADMIN, trust=[LAMBDA])
    deny = stmt("iam:PassRole", arn("role", "admin-*"), "Deny")
    app = role("app", stmt("iam:PassRole"), stmt(LAMBDA_PATH), deny)
    assert not escalates("app", app, admin)
    # A privileged role outside the Deny that trusts Lambda is still there to pass.
    power = role("ops-power", ADMIN, trust=[LAMBDA])
    [found] = escalations(app, admin, power)["role/app"]
    assert (
        "It can pass `ops-power`, which is an administrator, to lambda.amazonaws.com"
        in found.detail
    )


def test_pass_role_on_named_roles_is_a_path_only_if_one_is_privileged() -> None:
    worker = role("worker", stmt("sqs:SendMessage"), trust=[LAMBDA])
    app = role("app", stmt("iam:PassRole", arn("role", "worker")), stmt(LAMBDA_PATH))
    assert not escalates("app", app, worker)
    admin = role("worker", ADMIN, trust=[LAMBDA])
    assert escalates("app", app, admin)


def test_a_deny_whose_condition_holds_for_the_path_takes_it_back() -> None:
    only_ec2 = {"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    deny = stmt("iam:PassRole", "*", "Deny", Condition=only_ec2)
    assert not escalates("app", role("app", stmt("iam:PassRole"), stmt(LAMBDA_PATH), deny))


def test_a_deny_under_a_condition_not_judged_may_not_apply_the_path_stays() -> None:
    region = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    deny = stmt("iam:PassRole", "*", "Deny", Condition=region)
    assert escalates("app", role("app", stmt("iam:PassRole"), stmt(LAMBDA_PATH), deny))


# --- what a resource reaches -----------------------------------------------------------------


def test_every_role_of_the_account_is_every_role() -> None:
    assert escalates(
        "app", role("app", stmt("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/*"))
    )
    assert not escalates("app", role("app", stmt("iam:AttachRolePolicy", arn("role", "reporting"))))


def test_every_user_of_the_account_is_every_user() -> None:
    user = {
        "UserName": "dev",
        "Arn": arn("user", "dev"),
        "Path": "/",
        "UserPolicyList": [
            {
                "PolicyName": "inline",
                "PolicyDocument": {
                    "Statement": [stmt("iam:AttachUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/*")]
                },
            }
        ],
        "GroupList": [],
        "AttachedManagedPolicies": [],
    }
    assert "user/dev" in escalations(users=(user,))


def test_a_principal_acting_on_itself_escalates() -> None:
    assert escalates("app", role("app", stmt("iam:AttachRolePolicy", arn("role", "app"))))
    assert escalates("app", role("app", stmt("iam:PutRolePolicy", arn("role", "app"))))


def test_a_new_version_of_the_policy_attached_to_itself_escalates() -> None:
    mine = managed("app-policy", stmt("iam:CreatePolicyVersion", arn("policy", "app-policy")))
    found = escalations(role("app", attached=(mine["Arn"],)), policies=(mine,))
    assert "role/app" in found
    other = managed("app-policy", stmt("iam:CreatePolicyVersion", arn("policy", "someone-elses")))
    assert "role/app" not in escalations(role("app", attached=(other["Arn"],)), policies=(other,))


# --- the trust graph --------------------------------------------------------------------------


def test_a_role_that_may_assume_a_role_that_escalates_is_shown_the_path() -> None:
    deploy = role(
        "deploy", stmt("iam:AttachRolePolicy", arn("role", "deploy")), trust=trusts("ci-runner")
    )
    runner = role("ci-runner", stmt("sts:AssumeRole", arn("role", "deploy")))
    [found] = escalations(runner, deploy)["role/ci-runner"]
    assert found.detail.startswith("It can become `deploy`, which can AttachRolePolicy")
    assert "`ci-runner` → assumes `deploy`" in found.detail
    assert found.policy == "(assumes roles)"


def test_a_two_hop_chain_to_an_administrator() -> None:
    admin = role("graph-admin", ADMIN, trust=trusts("hop"))
    hop = role("hop", stmt("sts:AssumeRole", arn("role", "graph-admin")), trust=trusts("start"))
    start = role("start", stmt("sts:AssumeRole", arn("role", "hop")))
    [found] = escalations(start, hop, admin)["role/start"]
    assert "`start` → assumes `hop` → assumes `graph-admin`" in found.detail
    assert "which is an administrator" in found.detail


def test_a_trust_in_the_account_root_admits_whoever_its_policies_allow() -> None:
    admin = role("graph-admin", ADMIN, trust=trusts(ACCOUNT))
    assert escalates("anyone", role("anyone", stmt("sts:AssumeRole")), admin)


def test_no_edge_when_the_trust_names_someone_else() -> None:
    names_other = role("graph-admin", ADMIN, trust=trusts("someone-else"))
    app = role("app", stmt("sts:AssumeRole", arn("role", "graph-admin")))
    assert not escalates("app", app, names_other)


def test_a_trust_that_names_a_principal_needs_no_allow_of_its_own() -> None:
    """In one account, a role's trust policy naming a principal's ARN is enough (a
    resource-based grant); a root trust is not, and a Deny or a boundary still applies."""
    names_app = role("graph-admin", ADMIN, trust=trusts("app"))
    assert escalates("app", role("app", stmt("s3:GetObject")), names_app)
    root_only = role("graph-admin", ADMIN, trust=trusts(ACCOUNT))
    assert not escalates("app", role("app", stmt("s3:GetObject")), root_only)
    denied = role("app", stmt("s3:GetObject"), stmt("sts:AssumeRole", "*", "Deny"))
    assert not escalates("app", denied, names_app)
    bounded = role("app", stmt("s3:GetObject"))
    bounded["PermissionsBoundary"] = {"PermissionsBoundaryArn": arn("policy", "reads")}
    reads = managed("reads", stmt("s3:Get*"))
    assert not escalates("app", bounded, names_app, policies=(reads,))


def test_a_deny_that_covers_every_direct_call_takes_the_path_back() -> None:
    direct = {"Bool": {"aws:ViaAWSService": "false"}}
    deny = stmt("iam:*", "*", "Deny", Condition=direct)
    assert not escalates("app", role("app", stmt("iam:AttachRolePolicy"), deny))
    # …unless it may have CloudFormation make the call for it.
    cfn = stmt("cloudformation:CreateStack")
    assert escalates("app", role("app", stmt("iam:AttachRolePolicy"), cfn, deny))


def test_joining_a_privileged_group_by_name() -> None:
    admins = {
        "GroupName": "admin-group",
        "Arn": arn("group", "admin-group"),
        "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": {"Statement": [ADMIN]}}],
        "AttachedManagedPolicies": [],
    }
    readers = {**admins, "GroupName": "readers", "Arn": arn("group", "readers")}
    readers["GroupPolicyList"] = [
        {"PolicyName": "r", "PolicyDocument": {"Statement": [stmt("s3:GetObject")]}}
    ]

    def user(group: str) -> dict[str, Any]:
        return {
            "UserName": "dev",
            "Arn": arn("user", "dev"),
            "UserPolicyList": [
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Statement": [stmt("iam:AddUserToGroup", arn("group", group))]
                    },
                }
            ],
            "GroupList": [],
            "AttachedManagedPolicies": [],
        }

    def found(group: str) -> bool:
        report = audit({"UserDetailList": [user(group)], "GroupDetailList": [admins, readers]})
        return any(
            f.kind == "privilege_escalation" and f.principal == "user/dev" for f in report.findings
        )

    assert found("admin-group")
    assert not found("readers")


def test_a_bounded_role_that_may_remove_its_own_boundary() -> None:
    boundary = managed(
        "boundary", stmt("s3:*"), stmt("iam:DeleteRolePermissionsBoundary", arn("role", "app"))
    )
    app = role("app", ADMIN)
    app["PermissionsBoundary"] = {"PermissionsBoundaryArn": boundary["Arn"]}
    assert escalates("app", app, policies=(boundary,))
    unbounded = role("app", stmt("iam:DeleteRolePermissionsBoundary", arn("role", "app")))
    assert not escalates("app", unbounded)  # it has no boundary to remove


def test_a_trust_condition_on_the_principal_arn_is_judged() -> None:
    excluded = {"ArnNotLike": {"aws:PrincipalArn": arn("role", "app")}}
    admin = role("graph-admin", ADMIN, trust=trusts(ACCOUNT, Condition=excluded))
    assert not escalates("app", role("app", stmt("sts:AssumeRole")), admin)


def test_a_graph_finding_keeps_its_key_from_one_run_to_the_next() -> None:
    def run() -> str:
        admin = role("graph-admin", ADMIN, trust=trusts("app"))
        [f] = escalations(role("app", stmt("sts:AssumeRole", arn("role", "graph-admin"))), admin)[
            "role/app"
        ]
        return f.key

    assert run() == run()


# --- published paths, as data ------------------------------------------------------------------


def test_published_paths_cloudsplaining_lacks_are_found_with_their_source() -> None:
    for action, source in (
        ("ssm:SendCommand", "SSMEdgeChecker"),
        ("ssm:StartSession", "SSMEdgeChecker"),
        ("codebuild:StartBuild", "CodeBuildEdgeChecker"),
        ("codebuild:StartBuildBatch", "CodeBuildEdgeChecker"),
        ("cloudformation:UpdateStack", "CloudFormationEdgeChecker"),
        ("apprunner:UpdateService", "App Runner"),
    ):
        [found] = escalations(role("app", stmt(action)))["role/app"]
        assert source in found.detail, action


def test_a_new_path_is_a_data_row() -> None:
    import json

    from chalicelib.audit.escalation import DATA

    methods = json.loads(DATA.read_text())["methods"]
    assert all(m["source"] for m in methods.values())
    assert methods["PassExistingRoleToNewLambdaThenInvoke"]["passes_to"] == "lambda.amazonaws.com"
    assert (
        methods["PassExistingRoleToNewECSTaskViaRunTask"]["passes_to"] == "ecs-tasks.amazonaws.com"
    )
