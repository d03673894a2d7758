"""Each delivery processed once: a conditional claim with a lease, completed or released."""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.aws.dynamodb import Absent, AllOf, AnyOf, Below, Equals
from chalicelib.aws.errors import ConditionFailed
from chalicelib.store import table as keys
from chalicelib.store.table import Table

DEDUPE_TTL_S = 7 * 24 * 3600
LEASE_S = 300  # a claim left by a crashed attempt is taken over after this long


class Deliveries:
    def __init__(self, table: Table, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    def claim(self, key: str) -> bool:
        """True if this caller may process `key`; False if it is done or being done elsewhere."""
        now = int(self.clock())
        item = keys.keyed(
            keys.delivery(key),
            status="pending",
            lease_until=now + LEASE_S,
            expires_at=now + DEDUPE_TTL_S,
        )
        lapsed = AllOf((Equals("status", "pending"), Below("lease_until", now)))
        try:
            self.table.put(item, AnyOf((Absent(), lapsed)))
        except ConditionFailed:
            return False
        return True

    def complete(self, key: str) -> None:
        self.table.update(*keys.delivery(key), {"status": "done"})

    def release(self, key: str) -> None:
        """Give a claim back so that the retried delivery is processed."""
        self.table.delete(*keys.delivery(key))
