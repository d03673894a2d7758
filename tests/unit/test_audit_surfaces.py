"""The audit's edges: every page of the account, the CLI's exit codes, what changed between runs,
and the bot's own policies passing its own audit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.audit import analyzer, report, suppressions
from chalicelib.aws.iam import IamApi
from chalicelib.cli import main

ROOT = Path(__file__).resolve().parents[2]


def role(name: str, action: str) -> dict[str, Any]:
    return {
        "RoleName": name,
        "RoleId": f"AROA{name.upper():0<17}"[:21],
        "Arn": f"arn:aws:iam::123456789012:role/{name}",
        "Path": "/",
        "CreateDate": "2026-01-01T00:00:00Z",
        "RolePolicyList": [
            {
                "PolicyName": "p",
                "PolicyDocument": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
                ),
            }
        ],
        "AttachedManagedPolicies": [],
    }


def test_policies_and_groups_are_listed_before_the_principals_every_page_read() -> None:
    """Two listings with Filter, each paged by Marker: the managed policies (and groups) are
    known before the first principal is judged, and no page is merged into one listing."""
    iam = boto3.client("iam", region_name="us-east-1")
    admin = {
        "PolicyName": "admin",
        "Arn": "arn:aws:iam::123456789012:policy/admin",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "Document": json.dumps(
                    {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
                ),
            }
        ],
    }
    holder = {
        **role("holder", "s3:GetObject"),
        "AttachedManagedPolicies": [{"PolicyName": "admin", "PolicyArn": admin["Arn"]}],
    }
    groups = ["LocalManagedPolicy", "AWSManagedPolicy", "Group"]
    with Stubber(iam) as stubber:
        stubber.add_response(
            "get_account_authorization_details",
            {"Policies": [admin], "IsTruncated": False},
            {"Filter": groups, "MaxItems": 1000},
        )
        stubber.add_response(
            "get_account_authorization_details",
            {"RoleDetailList": [role("first", "*")], "IsTruncated": True, "Marker": "m1"},
            {"Filter": ["Role", "User"], "MaxItems": 1000},
        )
        stubber.add_response(
            "get_account_authorization_details",
            {"RoleDetailList": [holder], "IsTruncated": False},
            {"Filter": ["Role", "User"], "MaxItems": 1000, "Marker": "m1"},
        )
        result = analyzer.audit(IamApi(iam).details())
        stubber.assert_no_pending_responses()
    assert {(f.principal, f.kind) for f in result.findings} == {
        ("role/first", "full_admin"),
        ("role/holder", "full_admin"),
    }
    assert result.principals["roles"] == 2 and result.policies == 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "details.json"
    path.write_text(text)
    return path


def test_cli_audit_of_a_file_exits_0_with_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, json.dumps({"RoleDetailList": [role("admin", "*")]}))
    assert main(["audit", "--input", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [f["kind"] for f in out["findings"]] == ["full_admin"]
    assert set(out["findings"][0]) >= {
        "kind",
        "severity",
        "principal",
        "policy",
        "statement",
        "detail",
        "actions",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"RoleDetailList": [{"RoleName": "a", "RolePolicyList": [', "truncated"),
        ("{not json", "not valid JSON"),
        ('{"Roles": []}', "get-account-authorization-details"),
        ('{"RoleDetailList": [], "IsTruncated": true, "Marker": "x"}', "IsTruncated"),
        ('{"RoleDetailList": [{"RolePolicyList": []}]}', "malformed"),
    ],
)
def test_cli_audit_of_a_bad_file_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    assert main(["audit", "--input", str(write(tmp_path, content))]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_cli_audit_of_a_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--input", "/nonexistent/details.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_diff_names_what_is_new_and_what_was_fixed() -> None:
    before = analyzer.audit({"RoleDetailList": [role("a", "*"), role("b", "iam:PassRole")]})
    after = analyzer.audit({"RoleDetailList": [role("a", "*"), role("c", "s3:*")]})
    change = report.diff([f.key for f in before.findings], after)
    assert {f.principal for f in change.new} == {"role/c"}
    assert {k.split("|")[1] for k in change.fixed} == {"role/b"}
    assert report.diff([f.key for f in after.findings], after).empty


def test_thread_details_fit_slack_and_say_what_was_left_out() -> None:
    many = analyzer.audit({"RoleDetailList": [role(f"r{i}", "*") for i in range(400)]})
    chunks = report.thread_texts(many.findings, limit=5)
    assert len(chunks) == 6
    assert all(len(c) <= report.THREAD_CHUNK for c in chunks)
    assert "more" in chunks[-1]


def own_policies() -> dict[str, Any]:
    """The bot's functions as the account will hold them: one role per policy file."""
    roles = []
    for path in sorted((ROOT / "policies").glob("*.json")):
        doc = json.loads(path.read_text())
        if "Statement" not in doc:
            continue  # operators and suppressions files are not IAM documents
        roles.append(
            {
                "RoleName": f"shepherd-prod-{path.stem}",
                "Path": "/",
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                },
                "RolePolicyList": [{"PolicyName": path.stem, "PolicyDocument": doc}],
                "AttachedManagedPolicies": [],
            }
        )
    return {"RoleDetailList": roles}


def test_own_policies_pass_the_own_audit() -> None:
    result = analyzer.audit(own_policies(), suppressions=suppressions.load())
    assert [f"{f.kind} {f.principal} {f.statement}" for f in result.findings] == []


def test_own_suppressions_are_needed_reasoned_and_current() -> None:
    unsuppressed = analyzer.audit(own_policies())
    accepted = suppressions.load()
    assert all(s.reason and s.expires > date.today() for s in accepted)
    for s in accepted:  # each one still hides something: no stale suppressions
        assert any(s.covers(f) for f in unsuppressed.findings), s


def test_cli_diagnose_of_an_event_that_is_not_an_alarm_exits_2_and_says_what_it_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = (
        Path(__file__).parents[1] / "events" / "not-alarms" / "eventbridge-guardduty-finding.json"
    )
    assert main(["diagnose", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no alarm or destination record" in err
    assert "GuardDuty Finding" in err


def test_a_reader_that_stops_early_ends_the_audit_quietly(tmp_path: Path) -> None:
    """`shepherd audit | head`: the pipe closes after a line; exit 0, nothing on stderr."""
    path = write(
        tmp_path, json.dumps({"RoleDetailList": [role(f"r{i}", "*") for i in range(2000)]})
    )
    shepherd = Path(sys.executable).parent / "shepherd"
    with subprocess.Popen(
        [str(shepherd), "audit", "--input", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"IAM wildcard audit: 2000 finding(s)")
        proc.stdout.close()  # more than a pipe's buffer is still to come
        assert proc.wait(timeout=60) == 0
        assert proc.stderr.read() == b""
