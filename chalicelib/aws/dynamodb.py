"""DynamoDB as the store needs it: items of plain values, conditional writes, one partition's query.

Conditions are data (`Absent`, `Equals`, `Below`, `AllOf`, `AnyOf`) so that the store's in-memory twin
(chalicelib/store/memory.py) evaluates exactly what DynamoDB is asked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from chalicelib.aws.errors import Throttled, calls

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Value = str | int | float | bytes
Item = dict[str, Value]


@dataclass(frozen=True)
class Absent:
    """No item has this key yet."""


@dataclass(frozen=True)
class Equals:
    field: str
    value: Value


@dataclass(frozen=True)
class Below:
    field: str
    value: int | float


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


Condition = Union[Absent, Equals, Below, AllOf, AnyOf]  # noqa: UP007 (a forward reference)


BATCH_GET, BATCH_WRITE = 100, 25  # DynamoDB's limits per BatchGetItem / BatchWriteItem
BATCH_ROUNDS = 5  # calls made for one batch's unprocessed keys before giving up


class DynamoTable:
    """One table with string keys `pk`/`sk`."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    @calls("dynamodb")
    def put(
        self, item: Item, condition: Condition | None = None, *, return_old: bool = False
    ) -> Item | None:
        """Write `item`; ConditionFailed if `condition` does not hold for the stored one. With
        `return_old`, the item it replaced (None if there was none), in the same round trip."""
        kwargs: dict[str, Any] = {}
        if condition is not None:
            kwargs = _Expression().compile(condition)
        if return_old:
            kwargs["ReturnValues"] = "ALL_OLD"
        response = self.client.put_item(
            TableName=self.name, Item={k: _attr(v) for k, v in item.items()}, **kwargs
        )
        old = response.get("Attributes")
        return {k: _value(v) for k, v in old.items()} if old else None

    @calls("dynamodb")
    def get(self, pk: str, sk: str) -> Item | None:
        item = self.client.get_item(TableName=self.name, Key=_key(pk, sk), ConsistentRead=True).get(
            "Item"
        )
        return {k: _value(v) for k, v in item.items()} if item else None

    @calls("dynamodb")
    def get_many(self, keys: list[tuple[str, str]]) -> list[Item]:
        """The items of `keys` that exist (BatchGetItem, 100 keys a call, strongly consistent)."""
        found: list[Item] = []
        for start in range(0, len(keys), BATCH_GET):
            request: Any = {
                self.name: {
                    "Keys": [_key(*k) for k in keys[start : start + BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            for _ in range(BATCH_ROUNDS):
                response = self.client.batch_get_item(RequestItems=request)
                found += [
                    {k: _value(v) for k, v in i.items()}
                    for i in response.get("Responses", {}).get(self.name, [])
                ]
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise Throttled("dynamodb", "keys left unprocessed", "UnprocessedKeys")
        return found

    @calls("dynamodb")
    def put_many(self, items: list[Item]) -> None:
        """Write `items` unconditionally (BatchWriteItem, 25 a call, the unprocessed retried)."""
        for start in range(0, len(items), BATCH_WRITE):
            request: Any = {
                self.name: [
                    {"PutRequest": {"Item": {k: _attr(v) for k, v in item.items()}}}
                    for item in items[start : start + BATCH_WRITE]
                ]
            }
            for _ in range(BATCH_ROUNDS):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems")
                if not request:
                    break
            else:
                raise Throttled("dynamodb", "items left unprocessed", "UnprocessedItems")

    @calls("dynamodb")
    def update(self, pk: str, sk: str, fields: Item) -> None:
        """Set `fields` on an item (creating it when missing)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": _attr(v) for i, v in enumerate(fields.values())}
        self.client.update_item(
            TableName=self.name,
            Key=_key(pk, sk),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @calls("dynamodb")
    def delete(self, pk: str, sk: str, condition: Condition | None = None) -> None:
        """Delete the item; with `condition`, ConditionFailed unless it holds."""
        kwargs: dict[str, Any] = _Expression().compile(condition) if condition else {}
        self.client.delete_item(TableName=self.name, Key=_key(pk, sk), **kwargs)

    @calls("dynamodb")
    def query(
        self, pk: str, limit: int, newest_first: bool = True, *, consistent: bool = False
    ) -> list[Item]:
        """Up to `limit` items of one partition, by sort key (past DynamoDB's 1 MB pages);
        `consistent`: with every write acknowledged before the read (ConsistentRead)."""
        found: list[Item] = []
        start: dict[str, Any] | None = None
        while len(found) < limit:
            page: Any = {"ExclusiveStartKey": start} if start else {}
            response = self.client.query(
                TableName=self.name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ScanIndexForward=not newest_first,
                ConsistentRead=consistent,
                Limit=limit - len(found),
                **page,
            )
            found.extend({k: _value(v) for k, v in i.items()} for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return found


@calls("dynamodb")
def create_table(client: DynamoDBClient, table: str) -> bool:
    """Create the state table if missing; True if it was created. Safe to run twice."""
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return True


class _Expression:
    """A Condition as a ConditionExpression with its names and values."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def compile(self, condition: Condition) -> dict[str, Any]:
        expression = self._part(condition)
        out: dict[str, Any] = {"ConditionExpression": expression}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out

    def _part(self, c: Condition) -> str:
        if isinstance(c, Absent):
            return "attribute_not_exists(pk)"
        if isinstance(c, AllOf | AnyOf):
            joiner = " AND " if isinstance(c, AllOf) else " OR "
            return joiner.join(f"({self._part(p)})" for p in c.parts)
        name, value = f"#n{len(self.names)}", f":v{len(self.values)}"
        self.names[name] = c.field
        self.values[value] = _attr(c.value)
        return f"{name} {'=' if isinstance(c, Equals) else '<'} {value}"


def _key(pk: str, sk: str) -> Any:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _attr(value: Value) -> Any:
    if isinstance(value, bool):
        raise TypeError("store booleans as strings")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _value(attr: Any) -> Value:
    if "S" in attr:
        return str(attr["S"])
    if "B" in attr:
        return bytes(attr["B"])
    text = str(attr["N"])
    return float(text) if any(ch in text for ch in ".eE") else int(text)
