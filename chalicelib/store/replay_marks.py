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

    def seen_many(self, message_ids: list[str]) -> set[str]:
        """Which of `message_ids` were replayed already (one read for a batch)."""
        found = self.table.get_many([keys.replay_mark(self.queue_arn, m) for m in message_ids])
        return {str(item["sk"]) for item in found}

    def mark(self, message_id: str) -> None:
        self.mark_many([message_id])

    def mark_many(self, message_ids: list[str]) -> None:
        expires = int(self.clock()) + MARK_TTL
        self.table.put_many(
            [
                keys.keyed(keys.replay_mark(self.queue_arn, m), expires_at=expires)
                for m in message_ids
            ]
        )
