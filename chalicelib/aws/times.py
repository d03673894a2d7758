"""AWS's timestamps, in every shape its documents and payloads use, as UTC datetimes.

- Lambda `LastModified`, CloudWatch alarm `StateChangeTime`: `2026-11-22T10:14:52.257+0000`
  (an offset without a colon: `datetime.fromisoformat` refuses it before Python 3.11's wider
  rules, and a naive split of the digits reads the zone as fraction);
- SNS `Timestamp`, destination records' `timestamp`: `2026-11-22T10:14:52.257Z`;
- EventBridge `time`: `2026-11-22T10:14:52Z`;
- moto's `2026-11-22T10:14:52.257000000Z` (nanoseconds);
- epoch seconds or milliseconds (the JSON protocols' `Timestamp`, CloudWatch Logs events).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_SHAPE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<clock>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<fraction>\d+))?\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
MILLIS_FROM = 100_000_000_000  # an epoch number above this is in milliseconds (after 1973)


def aws_time(value: Any) -> datetime | None:
    """`value` as a UTC datetime; None when it is absent or in no shape AWS uses."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > MILLIS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    match = _SHAPE.match(str(value))
    if not match:
        return None
    clock = match["clock"] if match["clock"].count(":") == 2 else match["clock"] + ":00"
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        naive = datetime.fromisoformat(f"{match['date']}T{clock}.{fraction}")
    except ValueError:
        return None
    return naive.replace(tzinfo=_zone(match["zone"])).astimezone(UTC)


def _zone(text: str | None) -> timezone:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
