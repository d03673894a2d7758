"""Per alarm: its latest known state and time, and the Slack message that shows it.

Notifications arrive twice, late and out of order; the state is applied only when it is newer
than what is known (`StateChangeTime`). Changes to one alarm are made one at a time under a
short lease (`AlarmStates.hold`), so an ALARM and its OK in flight together cannot both act on
what they read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from chalicelib import markup
from chalicelib.store import table as keys
from chalicelib.store.deliveries import held
from chalicelib.store.table import Table

STATE_TTL_S = 30 * 24 * 3600
OPEN_LISTED = 500  # open alarms read by a reminder round or the Home tab


@dataclass
class AlarmMessage:
    """The Slack message showing an alarm episode."""

    channel: str
    ts: str
    blocks: list[dict[str, Any]]
    marked: bool = True  # its blocks mark Shepherd's own tokens (chalicelib/markup.py)


@dataclass
class AlarmRecord:
    arn: str
    state: str  # ALARM, OK or INSUFFICIENT_DATA: the newest applied
    changed_at: float  # its StateChangeTime (epoch seconds)
    fired_at: float | None = None  # when the episode the message shows first fired
    message: AlarmMessage | None = None
    flaps: int = 0  # times it fired again within the flap window, folded into the message
    extra: dict[str, Any] = field(default_factory=dict)


class AlarmStates:
    def __init__(
        self,
        table: Table,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.clock = clock
        self.sleep = sleep

    def get(self, arn: str) -> AlarmRecord | None:
        doc = keys.get_doc(self.table, keys.alarm_state(arn))
        return _record(doc) if doc is not None else None

    def save(self, record: AlarmRecord) -> None:
        """Write the record; only under `hold`."""
        expires = int(self.clock()) + STATE_TTL_S
        keys.put_doc(self.table, keys.alarm_state(record.arn), record, expires)

    def get_many(self, arns: list[str]) -> dict[str, AlarmRecord]:
        items = self.table.get_many([keys.alarm_state(a) for a in arns])
        records = (_record(keys.doc_of(item)) for item in items)
        return {r.arn: r for r in records}

    def opened(self, arn: str) -> None:
        """Listed as open (shown firing in its own message): reminders and Home read the list."""
        expires = int(self.clock()) + STATE_TTL_S
        self.table.put(keys.keyed(keys.open_alarm(arn), expires_at=expires))

    def closed(self, arn: str) -> None:
        self.table.delete(*keys.open_alarm(arn))

    def open_arns(self, limit: int = OPEN_LISTED) -> list[str]:
        return [str(i["sk"]) for i in self.table.query(keys.open_alarm("")[0], limit)]

    def hold(self, arn: str, attempt: str, deadline: float) -> AbstractContextManager[None]:
        """One attempt at a time changes an alarm; wait a little for another, else fail."""
        return held(self.table, keys.alarm_lock(arn), attempt, deadline, self.clock, self.sleep)


def _record(doc: dict[str, Any]) -> AlarmRecord:
    message = doc.pop("message", None)
    if message and not message.get("marked"):  # stored before marking: adopted once, here
        message = {**message, "blocks": markup.adopt(message["blocks"]), "marked": True}
    return AlarmRecord(**doc, message=AlarmMessage(**message) if message else None)
