"""Message ids whose replay Lambda accepted, kept until SQS would have dropped them anyway."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.store import table as keys
from chalicelib.store.table import Table

MARK_TTL = 14 * 24 * 3600  # SQS keeps a message at most 14 days


class ReplayMarks:
    def __init__(
        self, table: Table, queue_arn: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.table, self.queue_arn, self.clock = table, queue_arn, clock

    def seen(self, message_id: str) -> bool:
        return self.table.get(*keys.replay_mark(self.queue_arn, message_id)) is not None

    def mark(self, message_id: str) -> None:
        self.table.put(
            keys.keyed(
                keys.replay_mark(self.queue_arn, message_id),
                expires_at=int(self.clock()) + MARK_TTL,
            )
        )
