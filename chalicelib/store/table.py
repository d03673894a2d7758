"""The table every store part writes, and the key scheme, in one place.

One DynamoDB table, string keys `pk`/`sk`, TTL on `expires_at`:

| part | pk | sk |
|---|---|---|
| deliveries | `dedupe#<delivery key>` | `-` |
| actions | `action#<id>` | `-` |
| action history | `history` and `history#<function or queue>` | `<time>#<id>` |
| audit runs | `audit`, `audit#<member account>` | `latest`, `run#<time>` |
| replay marks | `replayed#<queue ARN>` | `<message id>` |
| alarm states | `alarm#<alarm ARN>` | `state` |
| alarm locks | `alarmlock#<alarm ARN>` | `-` |
| storms | `storm#<account>` | `state` |
| a storm's alarms | `stormalarm#<account>#<storm id>` | `<time>#<alarm ARN>` |
| a storm's recovered alarms | `stormok#<account>#<storm id>` | `<alarm ARN>` |
| storm locks | `stormlock#<account>` | `-` |
| snoozes | `snooze` | `<alarm ARN>` |
| open alarms (for reminders and Home) | `open` | `<alarm ARN>` |
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol

from chalicelib.aws.dynamodb import Condition, Item

NO_SK = "-"


class Table(Protocol):
    """What the store needs of a table: DynamoTable in the cloud, MemoryTable in unit tests."""

    def put(
        self, item: Item, condition: Condition | None = None, *, return_old: bool = False
    ) -> Item | None: ...
    def get(self, pk: str, sk: str) -> Item | None: ...
    def get_many(self, keys: list[tuple[str, str]]) -> list[Item]: ...
    def put_many(self, items: list[Item]) -> None: ...
    def update(self, pk: str, sk: str, fields: Item) -> None: ...
    def delete(self, pk: str, sk: str, condition: Condition | None = None) -> None: ...
    def query(
        self, pk: str, limit: int, newest_first: bool = True, *, consistent: bool = False
    ) -> list[Item]: ...


def delivery(key: str) -> tuple[str, str]:
    return f"dedupe#{key}", NO_SK


def alarm_state(alarm_arn: str) -> tuple[str, str]:
    return f"alarm#{alarm_arn}", "state"


def alarm_lock(alarm_arn: str) -> tuple[str, str]:
    return f"alarmlock#{alarm_arn}", NO_SK


def snooze(alarm_arn: str) -> tuple[str, str]:
    return "snooze", alarm_arn


def open_alarm(alarm_arn: str) -> tuple[str, str]:
    return "open", alarm_arn


def storm(scope: str) -> tuple[str, str]:
    return f"storm#{scope}", "state"


def storm_alarms(
    scope: str, storm_id: str, fired_at: float | None = None, arn: str = ""
) -> tuple[str, str]:
    """A storm's alarms, an item each: the partition, and one alarm's sort key."""
    return f"stormalarm#{scope}#{storm_id}", "" if fired_at is None else f"{fired_at:017.6f}#{arn}"


def storm_resolved(scope: str, storm_id: str, arn: str = "") -> tuple[str, str]:
    return f"stormok#{scope}#{storm_id}", arn


def storm_lock(scope: str) -> tuple[str, str]:
    return f"stormlock#{scope}", NO_SK


def action(action_id: str) -> tuple[str, str]:
    return f"action#{action_id}", NO_SK


def history(target: str | None, when: float | None = None, action_id: str = "") -> tuple[str, str]:
    """The history partition (all actions, or one function's/queue's) and an entry's sort key."""
    pk = f"history#{target}" if target is not None else "history"
    return pk, "" if when is None else f"{when:017.6f}#{action_id}"


def audit_run(latest: bool, when: float = 0.0, account: str = "") -> tuple[str, str]:
    """An account's audit runs: Shepherd's own under `audit`, a member's under `audit#<id>`."""
    return f"audit#{account}" if account else "audit", "latest" if latest else f"run#{when:017.6f}"


def replay_mark(queue_arn: str, message_id: str) -> tuple[str, str]:
    return f"replayed#{queue_arn}", message_id


def keyed(key: tuple[str, str], **fields: int | float | str | bytes) -> Item:
    """An item: its key and fields."""
    return {"pk": key[0], "sk": key[1], **fields}


def put_doc(table: Table, key: tuple[str, str], record: Any, expires_at: int) -> None:
    """Write a dataclass record as one JSON document, kept until `expires_at` (epoch seconds)."""
    table.put(keyed(key, doc=json.dumps(dataclasses.asdict(record)), expires_at=expires_at))


def get_doc(table: Table, key: tuple[str, str]) -> dict[str, Any] | None:
    """The JSON document `put_doc` wrote, or None."""
    item = table.get(*key)
    return doc_of(item) if item else None


def doc_of(item: Item) -> dict[str, Any]:
    """The JSON document of an item `put_doc` wrote."""
    return dict(json.loads(str(item["doc"])))
