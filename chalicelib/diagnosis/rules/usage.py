"""How the function is used: a trigger gone quiet, memory paid for and never used."""

from __future__ import annotations

from chalicelib import markup
from chalicelib.aws.limits import PRICE_PER_GB_SECOND
from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    alarm_metric,
    report_lines,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.events.signals import Alarm

SECONDS_PER_MONTH = 30 * 24 * 3600


@rule
def no_invocations(ev: Evidence) -> Cause | None:
    if ev.function is None:
        return None
    now_count = ev.total("Invocations")
    before = ev.total("Invocations", lookback=True)
    on_invocations = (
        "Invocations" in alarm_metric(ev)
        and isinstance(ev.signal, Alarm)
        and ((ev.signal.comparison or "").startswith("LessThan"))
    )
    if now_count > 0 or not (before > 0 or on_invocations):
        return None
    evidence = [f"0 invocations in the alarm window; {before:.0f} in the 3 hours before"]
    disabled = [
        s
        for s in ev.function.event_sources
        if s["state"] not in ("Enabled", "Enabling", "Updating")
    ]
    evidence.extend(
        f"Event source {markup.code(s['arn'].rsplit(':', 1)[-1])} is {s['state']}" for s in disabled
    )
    return Cause(
        "no_invocations",
        0.85 if before > 0 else 0.6,
        "Invocations stopped: the trigger is broken or upstream stopped sending.",
        tuple(evidence),
    )


@rule
def over_provisioned_memory(ev: Evidence) -> Cause | None:
    reports = report_lines(ev)
    if len(reports) < 3:
        return None
    size = reports[0].memory_size_mb
    used = max(r.max_memory_used_mb for r in reports)
    if size < 256 or used > 0.3 * size:
        return None
    suggested = max(128, _round_up(int(used * 2), 64))
    avg_billed_s = sum(r.billed_ms for r in reports) / len(reports) / 1000
    hours = (ev.window.end - ev.window.lookback_start).total_seconds() / 3600
    invocations = ev.total("Invocations") + ev.total("Invocations", lookback=True)
    per_month = invocations / hours * 24 * 30 if hours and invocations else 0.0
    saving = per_month * avg_billed_s * (size - suggested) / 1024 * PRICE_PER_GB_SECOND["x86_64"]
    return Cause(
        "over_provisioned_memory",
        0.2,
        f"Memory is over-provisioned: {used} MB used of {size} MB.",
        (
            f"Max Memory Used {used} MB across {len(reports)} REPORT lines; {size} MB configured",
            f"At {suggested} MB: about ${saving:,.2f}/month saved at the current rate",
        ),
        action=Action(
            f"Memory {size} → {suggested} MB", f"/ops memory {ev.function.name} {suggested}"
        )
        if ev.function
        else None,
    )


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


COLD_SHARE = 0.01  # cold starts in more than this share of invocations are worth a look
SPIKE = 2.0  # invocations above this multiple of the look-back's busiest minute
SLOWER = 2.0  # duration above this multiple of the look-back's median


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


@rule
def cold_starts(ev: Evidence) -> Cause | None:
    reports = report_lines(ev)
    inits = [r.init_ms for r in reports if r.init_ms is not None]
    if not reports or not inits or len(inits) / len(reports) <= COLD_SHARE:
        return None
    share, p90 = len(inits) / len(reports), _p90(inits)
    on_duration = "Duration" in alarm_metric(ev)
    fn = ev.function
    evidence = [
        f"{len(inits)} of {len(reports)} invocations in the logs were cold starts ({share:.0%})",
        f"Init Duration p90 {p90:,.0f} ms (longest {max(inits):,.0f} ms)",
        "Fix: provisioned concurrency on the alias that takes the traffic "
        "(`/ops concurrency <fn> provision N --alias A`), or SnapStart, or a smaller package "
        "and fewer imports at init",
    ]
    return Cause(
        "cold_starts",
        0.6 if on_duration and p90 >= 1000 else 0.35,
        f"Cold starts: {share:.0%} of invocations wait {p90:,.0f} ms (p90) for init.",
        tuple(evidence),
        action=Action("Show concurrency", f"/ops concurrency {fn.name}") if fn else None,
    )


@rule
def invocation_spike(ev: Evidence) -> Cause | None:
    window = ev.points("Invocations")
    before = [v for v in ev.points("Invocations", lookback=True) if v > 0]
    if not window or not before:
        return None
    peak, busiest = max(window), max(before)
    if peak <= SPIKE * busiest:
        return None
    return Cause(
        "invocation_spike",
        0.55,
        f"Invocations spiked to {peak / busiest:.1f}× the busiest minute of the 3 h before.",
        (
            f"Peak {peak:,.0f} invocations a minute in the alarm window; at most {busiest:,.0f} "
            "in the 3 hours before",
            "A trigger storm or a retry loop upstream: look at what invokes it",
        ),
    )


@rule
def duration_anomaly(ev: Evidence) -> Cause | None:
    fn = ev.function
    baseline = sorted(ev.points("DurationAvg", lookback=True))
    if not baseline:
        return None
    median = baseline[len(baseline) // 2]
    durations = [r.duration_ms for r in report_lines(ev)]
    now = _p90(durations) if durations else max(ev.points("DurationAvg") or [0.0])
    limit_ms = fn.timeout_s * 1000 if fn and fn.timeout_s else None
    if median <= 0 or now <= SLOWER * median or (limit_ms and now >= 0.8 * limit_ms):
        return None
    what = "p90 of the REPORT lines" if durations else "average"
    evidence = [f"Duration {what} {now:,.0f} ms against a look-back median of {median:,.0f} ms"]
    if limit_ms:
        evidence.append(f"Not yet at the {limit_ms / 1000:.0f} s timeout ({now / limit_ms:.0%})")
    return Cause(
        "duration_anomaly",
        0.5 + (0.1 if "Duration" in alarm_metric(ev) else 0.0),
        f"Invocations run {now / median:.1f}× slower than usual.",
        tuple(evidence),
    )
