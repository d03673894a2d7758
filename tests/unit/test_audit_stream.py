"""The audit's input read an item at a time: the same account as `json.load` sees it, however the
chunks fall, with the same clear errors, and the policies known before the first principal."""

from __future__ import annotations

import gc
import json
import random
from pathlib import Path
from typing import Any

import pytest

from chalicelib.audit import analyzer, source, stream
from chalicelib.audit.catalogue import positions
from chalicelib.audit.document import Recent
from chalicelib.errors import BadInput

ADMIN_ARN = "arn:aws:iam::123456789012:policy/admin"


def policy(arn: str = ADMIN_ARN, action: str = "*") -> dict[str, object]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "DefaultVersionId": "v2",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Statement": []}},
            {
                "VersionId": "v2",
                "IsDefaultVersion": True,
                "Document": {"Statement": {"Effect": "Allow", "Action": action, "Resource": "*"}},
            },
        ],
    }


def role(name: str, *arns: str) -> dict[str, object]:
    return {
        "RoleName": name,
        "Path": "/",
        "AssumeRolePolicyDocument": {"Statement": []},
        "RolePolicyList": [
            {
                "PolicyName": "inline",
                "PolicyDocument": {
                    "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
                },
            }
        ],
        "AttachedManagedPolicies": [{"PolicyName": "x", "PolicyArn": a} for a in arns],
        "Tags": [{"Key": "note", "Value": 'quotes " and \\ and ] and } and é, 1.5e3'}],
    }


def account() -> dict[str, object]:
    """In the CLI's key order: the principals first, the policies last."""
    return {
        "UserDetailList": [
            {
                "UserName": "ops",
                "GroupList": ["admins"],
                "UserPolicyList": [],
                "AttachedManagedPolicies": [],
            }
        ],
        "GroupDetailList": [
            {
                "GroupName": "admins",
                "GroupPolicyList": [],
                "AttachedManagedPolicies": [{"PolicyName": "admin", "PolicyArn": ADMIN_ARN}],
            }
        ],
        "RoleDetailList": [role(f"r{i}", ADMIN_ARN) for i in range(3)] + [role("plain")],
        "Policies": [policy()],
        "Count": 12345,
        "IsTruncated": False,
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "details.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, stream.CHUNK])
def test_every_item_is_read_whole_wherever_the_chunks_fall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(stream, "CHUNK", chunk)
    details = account()
    path = write(tmp_path, json.dumps(details, indent=1, ensure_ascii=False))
    got = list(stream.items(path, frozenset(stream.LISTS)))
    expected = [(key, item) for key in stream.LISTS for item in details[key]]  # type: ignore[attr-defined]
    assert sorted(got, key=repr) == sorted(expected, key=repr)


def test_a_file_with_its_policies_last_is_judged_as_the_same_account_in_memory(
    tmp_path: Path,
) -> None:
    details = account()
    path = write(tmp_path, json.dumps(details))
    streamed = analyzer.audit(source.File(path))
    loaded = analyzer.audit(details)
    assert streamed.findings == loaded.findings
    assert {f.principal for f in streamed.findings if f.kind == "full_admin"} == {
        "role/r0",
        "role/r1",
        "role/r2",
        "user/ops",
    }
    assert streamed.principals == {"roles": 4, "users": 1, "groups": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: Expecting value"),
        ("[]", "get-account-authorization-details"),
        ('{"Roles": []}', "get-account-authorization-details"),
        ('{"RoleDetailList": {"a": 1}}', "RoleDetailList must be a list"),
        ('{"RoleDetailList": [1 2]}', "Expecting ',' delimiter"),
        ('{"RoleDetailList": [],\n\n "Policies": [{"Arn": ]}', "line 3"),
        ('{"RoleDetailList": [{"RoleName": "a"', "truncated?"),
        ('{"RoleDetailList": [], "IsTruncated": true}', "IsTruncated is true"),
    ],
)
def test_a_bad_file_is_bad_input_saying_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BadInput, match=None) as caught:
        analyzer.audit(source.File(write(tmp_path, text)))
    assert message in str(caught.value)


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "details.json"
    path.write_bytes(b'{"RoleDetailList": ["\xff\xfe"]}')
    with pytest.raises(BadInput, match="not UTF-8"):
        analyzer.audit(source.File(path))


def test_positions_are_the_lowest_set_bits_in_order() -> None:
    rng = random.Random(3)
    for _ in range(200):
        bits = sorted(rng.sample(range(23_000), rng.randint(0, 80)))
        mask = sum(1 << b for b in bits)
        n = rng.randint(1, 100)
        assert positions(mask, n) == bits[:n]
    assert positions((1 << 22_000) - 1, 50) == list(range(50))
    assert positions(0, 5) == []


def test_recent_keeps_the_most_recently_used_and_lets_the_oldest_go() -> None:
    made: list[str] = []
    recent: Recent[str] = Recent(size=2)

    def get(key: str) -> str:
        return recent.get(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("a"), get("c"), get("a"), get("b")] == list("ABACAB")
    assert made == ["a", "b", "c", "b"]  # "b" was the oldest when "c" came: judged again


def test_aws_managed_policies_nothing_holds_are_not_kept() -> None:
    """The AWSManagedPolicy filter may list every AWS managed policy; only held ones count."""
    held = {**policy("arn:aws:iam::aws:policy/ReadOnlyAccess", "s3:Get*"), "AttachmentCount": 2}
    idle = {**policy("arn:aws:iam::aws:policy/AdministratorAccess"), "AttachmentCount": 0}
    unsaid = policy("arn:aws:iam::aws:policy/PowerUserAccess")  # no count: kept, to be safe
    report = analyzer.audit({"Policies": [held, idle, unsaid], "RoleDetailList": []})
    assert report.policies == 2 and report.findings == []


def test_the_collector_is_off_for_the_walk_and_back_after_it_even_on_bad_input() -> None:
    seen: list[bool] = []

    class Watching(source.InMemory):
        def then(self) -> Any:
            seen.append(gc.isenabled())
            return super().then()

    assert gc.isenabled()
    analyzer.audit(Watching({"RoleDetailList": [role("r")]}))
    assert seen == [False] and gc.isenabled()
    with pytest.raises(BadInput):
        analyzer.audit({"RoleDetailList": [{"RolePolicyList": []}]})
    assert gc.isenabled()
