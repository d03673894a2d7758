"""Durations as people read them. Pure."""

from __future__ import annotations


def duration(seconds: float, exact: bool = False) -> str:
    """`45 s`, `12 min`, `3.5 h`; exact: `1 h 59 min`, `4 min 10 s`."""
    if exact:
        hours, rest = divmod(int(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes} min"
        return f"{minutes} min {secs} s" if minutes else f"{secs} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """The shape of a series in `width` characters (each the highest of its share of points)."""
    if not values:
        return ""
    size = max(1, -(-len(values) // width))
    buckets = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(buckets)
    if top <= 0:
        return BARS[0] * len(buckets)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] for v in buckets)
