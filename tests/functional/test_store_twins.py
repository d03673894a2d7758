"""The in-memory twin answers as DynamoDB does: the same conditions hold and fail on both."""

from __future__ import annotations

import boto3
import pytest

from chalicelib.aws.dynamodb import Absent, AllOf, AnyOf, Below, Condition, DynamoTable, Equals
from chalicelib.aws.errors import ConditionFailed
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
