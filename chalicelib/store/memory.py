"""The in-memory twin of DynamoTable: same conditions, same errors, for unit tests and tools."""

from __future__ import annotations

import copy
import threading

from chalicelib.aws.dynamodb import Absent, AllOf, AnyOf, Condition, Equals, Item
from chalicelib.aws.errors import ConditionFailed, Invalid

ITEM_LIMIT = 400 * 1024  # DynamoDB's largest item: names and values, as moto enforces it


class MemoryTable:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Item] = {}
        self._lock = threading.Lock()

    def put(
        self, item: Item, condition: Condition | None = None, *, return_old: bool = False
    ) -> Item | None:
        key = (str(item["pk"]), str(item["sk"]))
        if _size(item) > ITEM_LIMIT:
            raise Invalid(
                "dynamodb", "Item size has exceeded the maximum allowed size", "ValidationException"
            )
        with self._lock:
            old = self.items.get(key)
            if condition is not None and not _holds(condition, old):
                raise ConditionFailed(
                    "dynamodb", "the item changed", "ConditionalCheckFailedException"
                )
            self.items[key] = copy.deepcopy(item)
        return copy.deepcopy(old) if return_old and old is not None else None

    def get(self, pk: str, sk: str) -> Item | None:
        with self._lock:
            item = self.items.get((pk, sk))
            return copy.deepcopy(item) if item is not None else None

    def get_many(self, keys: list[tuple[str, str]]) -> list[Item]:
        with self._lock:
            return [copy.deepcopy(self.items[k]) for k in keys if k in self.items]

    def put_many(self, items: list[Item]) -> None:
        for item in items:
            self.put(item)

    def update(self, pk: str, sk: str, fields: Item) -> None:
        with self._lock:
            self.items.setdefault((pk, sk), {"pk": pk, "sk": sk}).update(copy.deepcopy(fields))

    def delete(self, pk: str, sk: str, condition: Condition | None = None) -> None:
        with self._lock:
            if condition is not None and not _holds(condition, self.items.get((pk, sk))):
                raise ConditionFailed(
                    "dynamodb", "the item changed", "ConditionalCheckFailedException"
                )
            self.items.pop((pk, sk), None)

    def query(
        self, pk: str, limit: int, newest_first: bool = True, *, consistent: bool = False
    ) -> list[Item]:
        with self._lock:
            found = sorted((sk, item) for (p, sk), item in self.items.items() if p == pk)
        if newest_first:
            found.reverse()
        return [copy.deepcopy(item) for _, item in found[:limit]]


def _size(item: Item) -> int:
    return sum(
        len(k.encode()) + (len(v) if isinstance(v, bytes) else len(str(v).encode()))
        for k, v in item.items()
    )


def _holds(c: Condition, item: Item | None) -> bool:
    if isinstance(c, Absent):
        return item is None
    if isinstance(c, AllOf):
        return all(_holds(p, item) for p in c.parts)
    if isinstance(c, AnyOf):
        return any(_holds(p, item) for p in c.parts)
    if item is None or c.field not in item:
        return False
    value = item[c.field]
    if isinstance(c, Equals):
        return value == c.value
    return isinstance(value, int | float) and value < c.value
