"""Limits AWS enforces that Shepherd checks before it asks. Pure."""

from __future__ import annotations

UNRESERVED_FLOOR = 100  # Lambda refuses reservations that leave fewer unreserved in the account


def reservable(current: int, unreserved: int) -> int:
    """The most a function now reserving `current` may reserve and keep the account's floor."""
    return current + unreserved - UNRESERVED_FLOOR


MEMORY_MB = (128, 10_240)  # what Lambda accepts for MemorySize
TIMEOUT_S = (1, 900)  # and for Timeout
# On-demand price per GB-second (us-east-1); estimates, said to be estimates where shown.
PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
# Provisioned concurrency, per GB-second allocated, used or not (us-east-1); estimates too.
PROVISIONED_PER_GB_SECOND = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
SECONDS_PER_MONTH = 30 * 24 * 3600
SQS_VISIBILITY_FACTOR = 6  # AWS: a queue's visibility timeout ≥ 6× its function's timeout


def monthly_cost(gb_seconds_per_month: float, architecture: str = "x86_64") -> float:
    return gb_seconds_per_month * PRICE_PER_GB_SECOND.get(
        architecture, PRICE_PER_GB_SECOND["x86_64"]
    )


def provisioned_monthly_cost(
    executions: int, memory_mb: int, architecture: str = "x86_64"
) -> float:
    """What keeping `executions` environments of `memory_mb` provisioned costs in a month."""
    price = PROVISIONED_PER_GB_SECOND.get(architecture, PROVISIONED_PER_GB_SECOND["x86_64"])
    return executions * memory_mb / 1024 * SECONDS_PER_MONTH * price
