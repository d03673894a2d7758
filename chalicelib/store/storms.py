"""Per account: the alarms that fired in the last window, and the storm summary when they are many."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store import table as keys
from chalicelib.store.alarm_states import AlarmMessage
from chalicelib.store.deliveries import held
from chalicelib.store.table import Table

STORM_TTL_S = 7 * 24 * 3600
OPEN_PREFIX = "storm:"  # a storm among the open alarms (and the Acknowledge value of its summary)


@dataclass
class StormEntry:
    """One alarm of the window, as the summary names it."""

    name: str
    arn: str
    function: str
    kind: str  # its most likely cause
    summary: str
    fired_at: float
    facts: dict[str, Any] = field(default_factory=dict)  # what a shared cause is judged on
    resolved: bool = False


@dataclass
class StormRecord:
    scope: str  # the account
    entries: list[StormEntry] = field(default_factory=list)  # the window's alarms, oldest first
    summary: AlarmMessage | None = None  # set once the window's alarms are a storm
    replies: dict[str, AlarmMessage] = field(default_factory=dict)  # function -> its thread reply
    updated_at: float = 0.0  # when the summary was last drawn
    dirty: bool = False  # something happened since
    flush_at: float = 0.0  # an attempt will redraw it then
    ack: dict[str, Any] | None = None  # {"user", "at"}: someone is on it

    @property
    def last_fired(self) -> float:
        return max((e.fired_at for e in self.entries), default=0.0)


class Storms:
    def __init__(
        self,
        table: Table,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table, self.clock, self.sleep = table, clock, sleep

    def get(self, scope: str) -> StormRecord | None:
        doc = keys.get_doc(self.table, keys.storm(scope))
        if doc is None:
            return None
        summary = doc.pop("summary", None)
        return StormRecord(
            scope=doc["scope"],
            entries=[StormEntry(**e) for e in doc["entries"]],
            summary=AlarmMessage(**summary) if summary else None,
            replies={f: AlarmMessage(**m) for f, m in doc["replies"].items()},
            updated_at=doc["updated_at"],
            dirty=doc["dirty"],
            flush_at=doc.get("flush_at", 0.0),
            ack=doc.get("ack"),
        )

    def save(self, record: StormRecord) -> None:
        """Write the record; only under `hold`."""
        expires = int(self.clock()) + STORM_TTL_S
        keys.put_doc(self.table, keys.storm(record.scope), record, expires)

    def opened(self, scope: str) -> None:
        """Listed with the open alarms (as `storm:<account>`) while it lasts, for the Home tab."""
        expires = int(self.clock()) + STORM_TTL_S
        self.table.put(keys.keyed(keys.open_alarm(f"{OPEN_PREFIX}{scope}"), expires_at=expires))

    def hold(self, scope: str, attempt: str, deadline: float) -> AbstractContextManager[None]:
        return held(self.table, keys.storm_lock(scope), attempt, deadline, self.clock, self.sleep)
