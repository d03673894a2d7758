"""Which Slack message shows which alarm, so that its recovery updates it in place."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.store import table as keys
from chalicelib.store.table import Table

THREAD_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class AlarmThread:
    channel: str
    ts: str
    alarm_time: float
    blocks: list[dict[str, Any]]


class AlarmThreads:
    def __init__(self, table: Table, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    def save(self, alarm_arn: str, thread: AlarmThread) -> None:
        self.table.put(
            keys.keyed(
                keys.alarm_thread(alarm_arn),
                channel=thread.channel,
                ts=thread.ts,
                alarm_time=float(thread.alarm_time),
                blocks=json.dumps(thread.blocks),
                expires_at=int(self.clock()) + THREAD_TTL_S,
            )
        )

    def get(self, alarm_arn: str) -> AlarmThread | None:
        item = self.table.get(*keys.alarm_thread(alarm_arn))
        if not item:
            return None
        return AlarmThread(
            channel=str(item["channel"]),
            ts=str(item["ts"]),
            alarm_time=float(item["alarm_time"]),
            blocks=json.loads(str(item["blocks"])),
        )

    def close(self, alarm_arn: str) -> None:
        self.table.delete(*keys.alarm_thread(alarm_arn))
