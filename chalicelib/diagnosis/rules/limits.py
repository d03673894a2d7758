"""Hitting the function's own limits: its timeout, its memory."""

from __future__ import annotations

from chalicelib import markup
from chalicelib.aws.limits import MEMORY_MB, TIMEOUT_S
from chalicelib.diagnosis import logs as L
from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    alarm_metric,
    matching,
    quote,
    report_lines,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence


@rule
def timeout(ev: Evidence) -> Cause | None:
    fn = ev.function
    timed_out = matching(ev, L.TIMEOUT)
    peak = ev.peak("DurationMax")
    reports = report_lines(ev)
    if peak is None and reports:
        peak = max(r.duration_ms for r in reports)
    limit_ms = fn.timeout_s * 1000 if fn and fn.timeout_s else None
    near_limit = bool(limit_ms and peak is not None and peak >= 0.95 * limit_ms)
    if not timed_out and not near_limit:
        return None
    evidence = []
    if timed_out:
        evidence.append(f'{len(timed_out)} × "Task timed out" in the logs')
    if limit_ms and peak is not None:
        evidence.append(
            f"Max duration {peak / 1000:.1f} s against a {limit_ms / 1000:.0f} s timeout"
        )
    confidence = 0.9 if timed_out and near_limit else 0.8 if timed_out else 0.6
    if "Duration" in alarm_metric(ev):
        confidence = min(0.95, confidence + 0.05)
    return Cause(
        "timeout",
        confidence,
        f"Invocations run into the {fn.timeout_s if fn and fn.timeout_s else '?'} s timeout.",
        tuple(evidence),
        action=longer_timeout(fn.name, fn.timeout_s, peak) if fn and fn.timeout_s else None,
        quoted=(f"e.g. {markup.code(quote(timed_out[0]))}",) if timed_out else (),
    )


def longer_timeout(function: str, current_s: int, peak_ms: float | None) -> Action | None:
    """Twice the timeout (or half again the longest run seen), within Lambda's limit."""
    longest = (peak_ms or 0) / 1000
    target = min(TIMEOUT_S[1], max(current_s * 2, -(-int(longest * 1.5) // 1)))
    if target <= current_s:
        return None
    return Action(f"Timeout {current_s} → {target} s", f"/ops timeout {function} {target}")


def more_memory(function: str, size_mb: int) -> Action | None:
    """Half again the memory (at least 256 MB more), in 64 MB steps, within Lambda's limit."""
    target = min(MEMORY_MB[1], -(-max(size_mb + 256, int(size_mb * 1.5)) // 64) * 64)
    if target <= size_mb:
        return None
    return Action(f"Memory {size_mb} → {target} MB", f"/ops memory {function} {target}")


@rule
def out_of_memory(ev: Evidence) -> Cause | None:
    killed = matching(ev, L.OOM)
    full = [r for r in report_lines(ev) if r.max_memory_used_mb >= 0.97 * r.memory_size_mb]
    if not killed and not full:
        return None
    evidence = []
    if killed:
        evidence.append(f"{len(killed)} × out-of-memory in the logs")
    if full:
        r = full[0]
        evidence.append(
            f"{len(full)} REPORT line(s) at the limit: Max Memory Used {r.max_memory_used_mb} MB "
            f"of {r.memory_size_mb} MB"
        )
    size = full[0].memory_size_mb if full else (ev.function.memory_mb if ev.function else None)
    return Cause(
        "out_of_memory",
        0.9 if killed else 0.65,
        "The function runs out of memory and the runtime is killed.",
        tuple(evidence),
        action=more_memory(ev.function.name, size) if ev.function and size else None,
        quoted=(f"e.g. {markup.code(quote(killed[0]))}",) if killed else (),
    )


PRESSURE = (
    0.9  # Max Memory Used at or above this share of Memory Size, before the runtime is killed
)


def _insights_pressure(ev: Evidence) -> Cause | None:
    """Lambda Insights' memory_utilization (percent), for a function whose logs show no REPORT."""
    used = ev.peak("MemoryUtilization")
    if used is None or used < PRESSURE * 100:
        return None
    size = ev.function.memory_mb if ev.function else None
    of = f" of {size} MB" if size else ""
    return Cause(
        "memory_pressure",
        0.8 if used < 97 else 0.88,
        f"Memory is nearly full: {used:.0f}%{of} used (Lambda Insights).",
        (f"Lambda Insights memory_utilization peaked at {used:.0f}%{of}",),
        action=more_memory(ev.function.name, size) if ev.function and size else None,
    )


@rule
def memory_pressure(ev: Evidence) -> Cause | None:
    """Invocations near their memory limit but not at it: an out-of-memory on its way."""
    reports = report_lines(ev)
    near = [
        r
        for r in reports
        if PRESSURE * r.memory_size_mb <= r.max_memory_used_mb < 0.97 * r.memory_size_mb
    ]
    if not near:
        return _insights_pressure(ev)
    size = near[0].memory_size_mb
    top = max(r.max_memory_used_mb for r in near)
    killed = matching(ev, L.OOM)
    evidence = [
        f"{len(near)} of {len(reports)} REPORT line(s) at {PRESSURE:.0%}+ of memory: up to "
        f"{top} MB of {size} MB"
    ]
    if killed:
        evidence.append(f"and then {len(killed)} × out-of-memory: the working set outgrew it")
    return Cause(
        "memory_pressure",
        0.92 if killed else 0.62,
        f"Memory is nearly full: up to {top / size:.0%} of {size} MB used.",
        tuple(evidence),
        action=more_memory(ev.function.name, size) if ev.function else None,
    )
