"""The in-memory twin answers as DynamoDB does: the same conditions hold and fail on both."""

from __future__ import annotations

import gzip
import random

import boto3
import pytest

from chalicelib.aws.dynamodb import Absent, AllOf, AnyOf, Below, Condition, DynamoTable, Equals
from chalicelib.aws.errors import ConditionFailed, Invalid
from chalicelib.store.audit_runs import AuditRuns
from chalicelib.store.memory import MemoryTable
from chalicelib.store.table import Table

CASES: list[tuple[str, Condition, bool]] = [
    ("absent on a stored item", Absent(), False),
    ("equals the stored status", Equals("status", "pending"), True),
    ("equals another status", Equals("status", "done"), False),
    ("below the stored lease", Below("lease_until", 100), False),
    ("above the stored lease", Below("lease_until", 200), True),
    ("all of, one failing", AllOf((Equals("status", "pending"), Below("lease_until", 100))), False),
    ("any of, one holding", AnyOf((Absent(), Equals("status", "pending"))), True),
    ("a field the item lacks", Equals("owner", "x"), False),
]


@pytest.fixture(params=["dynamodb", "memory"])
def table(request: pytest.FixtureRequest, aws: boto3.Session) -> Table:
    if request.param == "memory":
        return MemoryTable()
    return DynamoTable(aws.client("dynamodb"), "shepherd-state")


@pytest.mark.parametrize(("case", "condition", "holds"), CASES, ids=[c[0] for c in CASES])
def test_a_condition_holds_or_fails_alike(
    table: Table, case: str, condition: Condition, holds: bool
) -> None:
    table.put({"pk": "k", "sk": "-", "status": "pending", "lease_until": 150})
    replacement = {"pk": "k", "sk": "-", "v": 2}
    if holds:
        table.put(replacement, condition)
        assert table.get("k", "-") == replacement
    else:
        with pytest.raises(ConditionFailed):
            table.put(replacement, condition)
        assert table.get("k", "-") == {
            "pk": "k",
            "sk": "-",
            "status": "pending",
            "lease_until": 150,
        }


def test_query_reads_one_partition_newest_first(table: Table) -> None:
    for sk in ("001", "003", "002"):
        table.put({"pk": "history", "sk": sk, "doc": sk})
    table.put({"pk": "other", "sk": "009"})
    assert [i["sk"] for i in table.query("history", limit=2)] == ["003", "002"]


def test_values_come_back_as_they_went_in(table: Table) -> None:
    item = {"pk": "k", "sk": "-", "n": 3, "f": 1.5, "b": b"\x00\x01", "s": "x"}
    table.put(item)
    assert table.get("k", "-") == item
    table.update("k", "-", {"n": 4})
    assert table.get("k", "-") == {**item, "n": 4}
    table.delete("k", "-")
    assert table.get("k", "-") is None


def test_batches_write_and_read_many_alike_beyond_one_call(table: Table) -> None:
    items = [{"pk": "replayed#q", "sk": f"m-{i:03}", "expires_at": i} for i in range(130)]
    table.put_many(items)  # 6 BatchWriteItem calls of 25 at most
    keys = [("replayed#q", f"m-{i:03}") for i in range(0, 260, 2)]  # half of them exist
    found = table.get_many(keys)  # 2 BatchGetItem calls of 100 at most
    assert sorted(i["sk"] for i in found) == [f"m-{i:03}" for i in range(0, 130, 2)]
    assert table.get_many([]) == []


def test_a_put_returns_the_item_it_replaced_alike(table: Table) -> None:
    assert table.put({"pk": "k", "sk": "-", "v": 1}, Absent(), return_old=True) is None
    old = table.put({"pk": "k", "sk": "-", "v": 2}, Equals("v", 1), return_old=True)
    assert old == {"pk": "k", "sk": "-", "v": 1}
    assert table.put({"pk": "k", "sk": "-", "v": 3}) is None  # not asked: not returned


def test_an_item_over_400_kb_is_refused_alike(table: Table) -> None:
    with pytest.raises(Invalid):
        table.put({"pk": "k", "sk": "-", "b": b"x" * 410_000})
    assert table.get("k", "-") is None


def test_an_audit_of_100_000_findings_is_kept_in_parts_and_read_whole(table: Table) -> None:
    """A 10,000-role account has ~100,000 findings: ~1 MB of compressed keys, in parts."""
    rng = random.Random(5)
    finding_keys = [
        f"resource_wildcard|role/svc-{i}|inline|S1|{rng.getrandbits(48):012x}"
        for i in range(100_000)
    ]
    runs = AuditRuns(table, clock=lambda: 1_000.0)
    runs.save(finding_keys, {"findings": len(finding_keys)})
    assert runs.latest() == sorted(finding_keys)
    parts = [i for i in table.query("audit", 50) if str(i["sk"]).startswith("keys#")]
    assert len(parts) > 1

    later = AuditRuns(table, clock=lambda: 2_000.0)
    later.save(finding_keys[:10], {"findings": 10})
    assert later.latest() == sorted(finding_keys[:10])
    left = [i["sk"] for i in table.query("audit", 50) if str(i["sk"]).startswith("keys#")]
    assert left == [f"keys#{2_000:017.6f}#000"]  # the superseded generation's parts are gone


def test_a_run_staged_but_never_promoted_leaves_the_last_one_whole(table: Table) -> None:
    runs = AuditRuns(table, clock=lambda: 1_000.0)
    runs.save(["a", "b"], {"findings": 2})
    staged = AuditRuns(table, clock=lambda: 2_000.0).stage(["c"])  # killed before the promote
    assert runs.latest() == ["a", "b"]
    AuditRuns(table, clock=lambda: 2_001.0).promote(staged, {"findings": 1})
    AuditRuns(table, clock=lambda: 2_002.0).promote(staged, {"findings": 1})  # a retry
    assert runs.latest() == ["c"]


def test_keys_stored_whole_before_parts_are_still_read(table: Table) -> None:
    table.put({"pk": "audit", "sk": "latest", "keys": gzip.compress(b'["x"]'), "at": 1.0})
    assert AuditRuns(table).latest() == ["x"]
