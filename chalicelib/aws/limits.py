"""Limits AWS enforces that Shepherd checks before it asks. Pure."""

from __future__ import annotations

UNRESERVED_FLOOR = 100  # Lambda refuses reservations that leave fewer unreserved in the account


def reservable(current: int, unreserved: int) -> int:
    """The most a function now reserving `current` may reserve and keep the account's floor."""
    return current + unreserved - UNRESERVED_FLOOR
