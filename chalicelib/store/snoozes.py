"""Shepherd's snoozes: which alarm is muted until when, and by which action.

The mute rule in CloudWatch is what mutes an alarm's SNS actions; this record is how Shepherd
honours the same snooze for the deliveries a mute rule does not stop (EventBridge), and what the
Home tab lists. Each expires with its snooze.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.store import table as keys
from chalicelib.store.table import Table

LISTED = 200  # snoozes the Home tab reads at most


@dataclass(frozen=True)
class Snooze:
    alarm_arn: str
    alarm: str
    until: float  # epoch seconds
    action_id: str
    user: str
    rule: str  # the mute rule's name


class Snoozes:
    def __init__(self, table: Table, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    def put(self, snooze: Snooze) -> None:
        key = keys.snooze(snooze.alarm_arn)
        keys.put_doc(self.table, key, snooze, int(snooze.until) + 3600)

    def active(self, alarm_arn: str) -> Snooze | None:
        doc = keys.get_doc(self.table, keys.snooze(alarm_arn))
        if doc is None:
            return None
        snooze = Snooze(**doc)
        return snooze if snooze.until > self.clock() else None

    def remove(self, alarm_arn: str, action_id: str | None = None) -> None:
        """Drop the record (only the one `action_id` made, when given: a newer snooze stays)."""
        current = keys.get_doc(self.table, keys.snooze(alarm_arn))
        if current is None or (action_id and current.get("action_id") != action_id):
            return
        self.table.delete(*keys.snooze(alarm_arn))

    def listed(self) -> list[Snooze]:
        """Every snooze still running, soonest to end first."""
        items = self.table.query(keys.snooze("")[0], LISTED, newest_first=False)
        now = self.clock()
        found = [Snooze(**keys.doc_of(i)) for i in items]
        return sorted((s for s in found if s.until > now), key=lambda s: s.until)
