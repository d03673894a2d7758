"""How the function is used: a trigger gone quiet, memory paid for and never used."""

from __future__ import annotations

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
        f"Event source `{s['arn'].rsplit(':', 1)[-1]}` is {s['state']}" for s in disabled
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
