"""Hitting the function's own limits: its timeout, its memory."""

from __future__ import annotations

from chalicelib.diagnosis import logs as L
from chalicelib.diagnosis.causes import (
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
        quoted=(f"e.g. `{quote(timed_out[0])}`",) if timed_out else (),
    )


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
    return Cause(
        "out_of_memory",
        0.9 if killed else 0.65,
        "The function runs out of memory and the runtime is killed.",
        tuple(evidence),
        quoted=(f"e.g. `{quote(killed[0])}`",) if killed else (),
    )
