"""Each delivery processed once, by one run of the handler at a time.

A claim names its owner, one run (`Attempt.owner`: Lambda's request id and a nonce of the run),
and is leased until that run's deadline. Not the request id alone: Lambda may hand one request
id to two execution environments at once, and retries it under the same id. A run that finds
another's live claim is told `BUSY` and fails, so Lambda retries it later, instead of taking it
for done; a lapsed claim (its run was killed at its timeout) is taken over. A claim write whose
answer was lost is resolved by the condition itself (the same owner may always re-claim) and by
reading the item back. A claim naming a bare request id (written before owners had a nonce) is
another run's like any other: busy while live, taken over once lapsed.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from chalicelib.aws.dynamodb import Absent, AllOf, AnyOf, Below, Equals
from chalicelib.aws.errors import ConditionFailed
from chalicelib.errors import UpstreamFailure
from chalicelib.store import table as keys
from chalicelib.store.table import Table

DEDUPE_TTL_S = 7 * 24 * 3600
LEASE_MARGIN_S = 5  # past the attempt's own deadline, for clocks that differ


class Claim(enum.Enum):
    MINE = "mine"  # process it
    TAKEN_OVER = "taken over"  # process it; an earlier attempt may have done part of the work
    DONE = "done"  # processed before: a duplicate
    BUSY = "busy"  # another attempt holds it now: fail, so that Lambda retries later


class Deliveries:
    def __init__(self, table: Table, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    def claim(self, key: str, owner: str, deadline: float) -> Claim:
        """Claim `key` for `owner` (one run) until `deadline` (epoch seconds) plus a margin."""
        return lease(self.table, keys.delivery(key), owner, deadline, self.clock)

    def complete(self, key: str) -> None:
        self.table.update(*keys.delivery(key), {"status": "done"})

    def release(self, key: str, owner: str) -> None:
        """Give the claim back so that the retried delivery is processed (only our own claim)."""
        release(self.table, keys.delivery(key), owner)


def lease(
    table: Table, key: tuple[str, str], owner: str, deadline: float, clock: Callable[[], float]
) -> Claim:
    """A conditional lease on `key`: fresh, lapsed, or already ours; else why not."""
    now = clock()
    item = keys.keyed(
        key,
        status="pending",
        owner=owner,
        lease_until=deadline + LEASE_MARGIN_S,
        expires_at=int(now) + DEDUPE_TTL_S,
    )
    lapsed = AllOf((Equals("status", "pending"), Below("lease_until", now)))
    ours = AllOf((Equals("status", "pending"), Equals("owner", owner)))
    try:
        previous = table.put(item, AnyOf((Absent(), lapsed, ours)), return_old=True)
    except ConditionFailed:
        current = table.get(*key)
        if current is not None and current.get("status") == "done":
            return Claim.DONE
        if current is not None and current.get("owner") == owner:
            return Claim.MINE  # our own write, retried by botocore after its answer was lost
        return Claim.BUSY
    if previous is not None and previous.get("owner") not in (None, owner):
        return Claim.TAKEN_OVER
    return Claim.MINE


def release(table: Table, key: tuple[str, str], owner: str, forget: bool = False) -> None:
    """End `owner`'s lease now: lapsed, so the next attempt takes it over (and knows that an
    earlier one may have done part of the work), or with `forget` deleted. Another's is kept."""
    ours = AllOf((Equals("owner", owner), Equals("status", "pending")))
    try:
        if forget:
            table.delete(*key, condition=ours)
            return
        current = table.get(*key)
        if current is not None:
            table.put({**current, "lease_until": 0}, ours)
    except ConditionFailed:
        pass


HOLD_WAIT_S = 30.0  # how long to wait for another attempt's hold (within the deadline)
HOLD_POLL_S = 0.25


@contextmanager
def held(
    table: Table,
    key: tuple[str, str],
    owner: str,
    deadline: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """One attempt at a time holds `key`; wait a little for another, else fail (Lambda retries)."""
    give_up = min(deadline, clock() + HOLD_WAIT_S)
    while lease(table, key, owner, deadline, clock) is Claim.BUSY:
        if clock() >= give_up:
            raise UpstreamFailure(
                "shepherd", f"another attempt holds {key[0]}; retry later", "Busy"
            )
        sleep(HOLD_POLL_S)
    try:
        yield
    finally:
        release(table, key, owner, forget=True)
