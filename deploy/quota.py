"""Reserved concurrency that fits the account a deploy lands in.

Lambda refuses a reservation that leaves fewer than 100 executions unreserved in the account, and
new or small accounts are often given a concurrency quota of 10 or 100: there, a stack that
reserves 57 fails. A deploy reads the quota first and reserves what fits: all of it, or each
function's share scaled down, or none (every function in the shared pool), and says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.limits import UNRESERVED_FLOOR


@dataclass(frozen=True)
class Quota:
    limit: int  # the account's concurrency quota in this region
    unreserved: int  # what no function reserves now
    held: int  # what Shepherd's own functions reserve now (released by the update)

    @property
    def available(self) -> int:
        return self.unreserved + self.held - UNRESERVED_FLOOR


@dataclass(frozen=True)
class Fit:
    reservations: dict[str, int]  # function → executions (0: none, the shared pool)
    wanted: dict[str, int]
    quota: Quota

    @property
    def whole(self) -> bool:
        return self.reservations == self.wanted

    def said(self) -> str:
        q = self.quota
        account = (
            f"concurrency quota {q.limit}, {q.unreserved} unreserved"
            + (f" (+{q.held} Shepherd holds now)" if q.held else "")
            + f"; Lambda keeps {UNRESERVED_FLOOR} unreserved"
        )
        total, wanted = sum(self.reservations.values()), sum(self.wanted.values())
        if self.whole:
            return f"Reserved concurrency: {total} as planned ({account})."
        if not total:
            return (
                f"Reserved concurrency: none ({account}, so {wanted} cannot be reserved). "
                "Shepherd's functions share the account's pool; the API stage's throttle still "
                "limits unsigned traffic. Ask for a higher quota (Service Quotas → AWS Lambda → "
                "Concurrent executions) and deploy again to reserve it."
            )
        shares = ", ".join(f"{f} {n}" for f, n in self.reservations.items())
        return f"Reserved concurrency scaled down to {total} of {wanted} ({account}): {shares}."


def fit(wanted: Mapping[str, int], quota: Quota) -> Fit:
    """All that is wanted if it fits; else each share scaled down (at least 1); else none."""
    wanted = dict(wanted)
    available, total = quota.available, sum(wanted.values())
    if total <= available:
        return Fit(dict(wanted), wanted, quota)
    asking = [f for f, n in wanted.items() if n > 0]
    if available < len(asking):
        return Fit(dict.fromkeys(wanted, 0), wanted, quota)
    scaled = {f: max(1, n * available // total) if n else 0 for f, n in wanted.items()}
    while sum(scaled.values()) > available:  # rounding up to 1 can overshoot: trim the largest
        largest = max(scaled, key=lambda f: scaled[f])
        scaled[largest] -= 1
    while sum(scaled.values()) < available:  # and rounding down leaves some: the most short first
        short = max(asking, key=lambda f: wanted[f] / scaled[f])
        scaled[short] += 1
    return Fit(scaled, wanted, quota)


def read_quota(client: Any, functions: Iterable[str]) -> Quota:
    """The account's limits (GetAccountSettings) and what `functions` reserve now."""
    limits = client.get_account_settings()["AccountLimit"]
    held = 0
    for name in functions:
        try:
            held += int(
                client.get_function_concurrency(FunctionName=name).get(
                    "ReservedConcurrentExecutions", 0
                )
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    return Quota(
        limit=int(limits["ConcurrentExecutions"]),
        unreserved=int(limits["UnreservedConcurrentExecutions"]),
        held=held,
    )
