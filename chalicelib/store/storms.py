"""Per account: the alarms that fired in the last window, and the storm summary when they are many.

Nothing of a storm grows in one item. A storm is:

- a head (`storm#<account>`): its summary message, thread replies (for at most `MAX_REPLIES`
  functions), the count of its alarms, the functions they are on (at most `MAX_FUNCTIONS` named),
  and only the newest `KEEP_RECENT` alarms, which are all a new alarm is judged against;
- one item per alarm it took in (`stormalarm#<account>#<storm id>`, sorted by when it fired),
  written once, on a condition, so a retried delivery is not counted twice;
- one item per alarm back to OK (`stormok#<account>#<storm id>`, by ARN).

Taking an alarm in reads and writes the head and writes one small item; the summary, drawn at most
every few seconds, reads the newest `MAX_ENTRIES` alarms back (`full`). A 1,000-alarm storm is
1,000 items of under a kilobyte, never one that passes DynamoDB's 400 KB.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.dynamodb import Absent
from chalicelib.aws.errors import ConditionFailed
from chalicelib.store import table as keys
from chalicelib.store.alarm_states import AlarmMessage
from chalicelib.store.deliveries import held
from chalicelib.store.table import Table

STORM_TTL_S = 7 * 24 * 3600
KEEP_RECENT = 50  # alarms kept in the head: the window a new alarm is judged against
MAX_ENTRIES = 2000  # the newest alarms read back to draw a summary (about 1.7 MB, in pages)
MAX_REPLIES = 100  # functions with a diagnosis reply in a storm's thread
MAX_FUNCTIONS = 1000  # functions named in the head (about 40 KB); more are counted, not named
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
    # The window's alarms, oldest first: the newest KEEP_RECENT as read from the head, or (from
    # `Storms.full`) the newest MAX_ENTRIES, each marked resolved or not.
    entries: list[StormEntry] = field(default_factory=list)
    summary: AlarmMessage | None = None  # set once the window's alarms are a storm
    replies: dict[str, AlarmMessage] = field(default_factory=dict)  # function -> its thread reply
    updated_at: float = 0.0  # when the summary was last drawn
    dirty: bool = False  # something happened since
    flush_at: float = 0.0  # an attempt will redraw it then
    ack: dict[str, Any] | None = None  # {"user", "at"}: someone is on it
    storm_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # its items' partition
    count: int = 0  # alarms taken in
    named: list[str] = field(default_factory=list)  # the functions they are on (MAX_FUNCTIONS)
    more_functions: int = 0  # functions past MAX_FUNCTIONS

    def __post_init__(self) -> None:
        self.count = max(self.count, len(self.entries))
        if not self.named:  # a record made from entries (a head read back names its own)
            for e in self.entries:
                self._name(e.function)

    def _name(self, function: str) -> None:
        if function in self.named:
            return
        if len(self.named) < MAX_FUNCTIONS:
            self.named.append(function)
        else:
            self.more_functions += 1

    @property
    def functions(self) -> int:
        return len(self.named) + self.more_functions

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
        """The head: what a new alarm is judged against (its `entries` are the newest few)."""
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
            storm_id=doc.get("storm_id") or "",
            count=int(doc.get("count", 0)),
            named=list(doc.get("named", [])),
            more_functions=int(doc.get("more_functions", 0)),
        )

    def add(self, record: StormRecord, entry: StormEntry) -> bool:
        """Take an alarm into the storm (its item written first); False if this firing of it is
        in already (a retried delivery). Only under `hold`; `save` writes the head after."""
        key = keys.storm_alarms(record.scope, record.storm_id, entry.fired_at, entry.arn)
        expires = int(self.clock()) + STORM_TTL_S
        doc = json.dumps(dataclasses.asdict(entry))
        try:
            self.table.put(keys.keyed(key, doc=doc, expires_at=expires), Absent())
        except ConditionFailed:
            # In already (a retried delivery): its item is what counts it when the summary is
            # drawn, even if the attempt that wrote it died before the head.
            return False
        record.entries = [*record.entries, entry][-KEEP_RECENT:]
        record.count += 1
        record._name(entry.function)
        return True

    def resolve(self, record: StormRecord, arn: str, at: float) -> None:
        """An alarm of the storm is back to OK at `at`: its firings before then are resolved (one
        that fires again later is not)."""
        expires = int(self.clock()) + STORM_TTL_S
        key = keys.storm_resolved(record.scope, record.storm_id, arn)
        self.table.put(keys.keyed(key, at=at, expires_at=expires))
        for e in record.entries:
            if e.arn == arn and e.fired_at <= at:
                e.resolved = True

    def full(self, record: StormRecord) -> StormRecord:
        """The record with its newest MAX_ENTRIES alarms, each marked resolved or not: what the
        summary is drawn from."""
        alarms = keys.storm_alarms(record.scope, record.storm_id)[0]
        items = self.table.query(alarms, MAX_ENTRIES, consistent=True)
        recovered = {
            str(i["sk"]): float(str(i.get("at", 0) or 0))
            for i in self.table.query(
                keys.storm_resolved(record.scope, record.storm_id)[0], MAX_ENTRIES, consistent=True
            )
        }
        entries = sorted(
            (StormEntry(**json.loads(str(i["doc"]))) for i in items), key=lambda e: e.fired_at
        )
        known = {(e.arn, e.fired_at) for e in entries}
        entries += [e for e in record.entries if (e.arn, e.fired_at) not in known]  # older heads
        for e in entries:
            e.resolved = e.resolved or recovered.get(e.arn, float("-inf")) >= e.fired_at
        entries.sort(key=lambda e: e.fired_at)
        # The partition counts: a retried alarm is one item, whatever the head says.
        count = len(items) if len(items) < MAX_ENTRIES else max(record.count, len(items))
        return dataclasses.replace(record, entries=entries, count=max(count, len(entries)))

    def save(self, record: StormRecord) -> None:
        """Write the head (its alarms are written by `add`); only under `hold`."""
        expires = int(self.clock()) + STORM_TTL_S
        record.entries = record.entries[-KEEP_RECENT:]
        keys.put_doc(self.table, keys.storm(record.scope), record, expires)

    def opened(self, scope: str) -> None:
        """Listed with the open alarms (as `storm:<account>`) while it lasts, for the Home tab."""
        expires = int(self.clock()) + STORM_TTL_S
        self.table.put(keys.keyed(keys.open_alarm(f"{OPEN_PREFIX}{scope}"), expires_at=expires))

    def hold(self, scope: str, attempt: str, deadline: float) -> AbstractContextManager[None]:
        return held(self.table, keys.storm_lock(scope), attempt, deadline, self.clock, self.sleep)
