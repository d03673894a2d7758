"""Ranked causes from evidence. Pure: no I/O, so every rule is a unit test away."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.aws.limits import reservable
from chalicelib.diagnosis import logs as L
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.events.signals import Alarm, FailureRecord
from chalicelib.units import duration

# Lambda x86 price per GB-second (us-east-1); an estimate for the over-provisioning note.
PRICE_PER_GB_SECOND = 0.0000166667
SECONDS_PER_MONTH = 30 * 24 * 3600
DEPLOY_RECENCY = timedelta(hours=2)
ITERATOR_AGE_HIGH_MS = 60_000


@dataclass(frozen=True)
class Action:
    label: str
    command: str


@dataclass(frozen=True)
class Cause:
    kind: str
    confidence: float
    summary: str
    evidence: tuple[str, ...] = ()
    action: Action | None = None


@dataclass
class Diagnosis:
    evidence: Evidence
    causes: list[Cause] = field(default_factory=list)

    @property
    def top(self) -> Cause:
        return self.causes[0]


Rule = Callable[[Evidence], Cause | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def diagnose(ev: Evidence) -> Diagnosis:
    """Apply every rule; the causes that match, most likely first (`unknown` if none)."""
    causes = [c for c in (r(ev) for r in RULES) if c is not None]
    causes.sort(key=lambda c: -c.confidence)
    if not causes:
        checked = ", ".join(ev.checked) or "nothing could be read"
        causes.append(
            Cause(
                "unknown",
                0.1,
                "No known failure pattern matched the evidence.",
                (f"Checked: {checked}.", *ev.unchecked),
            )
        )
    return Diagnosis(ev, causes)


# --- helpers ---------------------------------------------------------------------------------


def _lines(ev: Evidence) -> list[str]:
    return [line.message for line in ev.logs]


def _matching(ev: Evidence, pattern: object) -> list[str]:
    return [m for m in _lines(ev) if pattern.search(m)]  # type: ignore[attr-defined]


def _reports(ev: Evidence) -> list[L.Report]:
    return [r for r in (L.parse_report(m) for m in _lines(ev)) if r is not None]


def _alarm_metric(ev: Evidence) -> set[str]:
    return ev.signal.metric_names if isinstance(ev.signal, Alarm) else set()


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _quote(line: str, limit: int = 160) -> str:
    first = L.redact(line.strip().splitlines()[0] if line.strip() else line)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _rate_line(ev: Evidence) -> str | None:
    rate = ev.error_rate()
    if rate is None:
        return None
    return (
        f"Error rate {_pct(rate)} in the alarm window "
        f"({ev.total('Errors'):.0f} errors / {ev.total('Invocations'):.0f} invocations)"
    )


# --- the rules -------------------------------------------------------------------------------


@rule
def timeout(ev: Evidence) -> Cause | None:
    fn = ev.function
    timed_out = _matching(ev, L.TIMEOUT)
    peak = ev.peak("DurationMax")
    reports = _reports(ev)
    if peak is None and reports:
        peak = max(r.duration_ms for r in reports)
    limit_ms = fn.timeout_s * 1000 if fn and fn.timeout_s else None
    near_limit = bool(limit_ms and peak is not None and peak >= 0.95 * limit_ms)
    if not timed_out and not near_limit:
        return None
    evidence = []
    if timed_out:
        evidence.append(
            f'{len(timed_out)} × "Task timed out" in the logs, e.g. `{_quote(timed_out[0])}`'
        )
    if limit_ms and peak is not None:
        evidence.append(
            f"Max duration {peak / 1000:.1f} s against a {limit_ms / 1000:.0f} s timeout"
        )
    confidence = 0.9 if timed_out and near_limit else 0.8 if timed_out else 0.6
    if "Duration" in _alarm_metric(ev):
        confidence = min(0.95, confidence + 0.05)
    return Cause(
        "timeout",
        confidence,
        f"Invocations run into the {fn.timeout_s if fn and fn.timeout_s else '?'} s timeout.",
        tuple(evidence),
    )


@rule
def out_of_memory(ev: Evidence) -> Cause | None:
    killed = _matching(ev, L.OOM)
    full = [r for r in _reports(ev) if r.max_memory_used_mb >= 0.97 * r.memory_size_mb]
    if not killed and not full:
        return None
    evidence = []
    if killed:
        evidence.append(f"{len(killed)} × out-of-memory in the logs, e.g. `{_quote(killed[0])}`")
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
    )


@rule
def throttling(ev: Evidence) -> Cause | None:
    fn = ev.function
    throttles = ev.total("Throttles")
    if throttles <= 0:
        return None
    invocations = ev.total("Invocations")
    evidence = [
        f"{throttles:.0f} throttled requests in the alarm window "
        f"({_pct(throttles / (throttles + invocations))} of attempts)"
    ]
    peak = ev.peak("ConcurrentExecutions")
    reserved = fn.reserved_concurrency if fn else None
    confidence = 0.8
    action = None
    if reserved is not None:
        line = f"Reserved concurrency {reserved}"
        if peak is not None:
            line += f"; peak concurrent executions {peak:.0f}"
        evidence.append(line)
        if peak is not None and peak >= reserved:
            confidence = 0.92
        proposed = _raise_concurrency(reserved, fn)
        if proposed is not None and fn is not None:
            action = Action(
                f"Raise reserved concurrency to {proposed}",
                f"/ops concurrency {fn.name} reserve {proposed}",
            )
    elif fn and fn.account_unreserved is not None:
        evidence.append(
            f"No reserved concurrency: the account pool has {fn.account_unreserved} unreserved "
            f"of {fn.account_concurrency_limit}"
        )
    return Cause(
        "throttling",
        confidence,
        "Lambda is throttling invocations: concurrency is capped.",
        tuple(evidence),
        action,
    )


def _raise_concurrency(current: int, fn: object) -> int | None:
    proposed = max(current * 2, current + 10)
    unreserved = getattr(fn, "account_unreserved", None)
    if unreserved is not None:
        proposed = min(proposed, reservable(current, unreserved))
    return proposed if proposed > current else None


@rule
def recent_deploy(ev: Evidence) -> Cause | None:
    fn = ev.function
    if fn is None:
        return None
    if fn.alias and fn.alias_version:
        current = fn.version_info(fn.alias_version)
        previous = fn.previous_version(fn.alias_version)
        recent = bool(current and _shortly_before(current.last_modified, ev))
        new_rate = ev.error_rate(fn.alias_version)
        old_rate = ev.error_rate(previous) if previous else None
        old_rate_lookback = _rate_lookback(ev, previous) if previous else None
        baseline = old_rate if old_rate is not None else old_rate_lookback
        concentrated = (
            new_rate is not None
            and new_rate > 0.02
            and (baseline is None or new_rate >= 3 * baseline + 0.01)
        )
        if not recent and not concentrated:
            return None
        evidence = []
        if current and current.last_modified and recent:
            age = (ev.signal.time - current.last_modified).total_seconds() / 60
            evidence.append(
                f"Alias `{fn.alias}` points to version {fn.alias_version}, published "
                f"{age:.0f} min before the alarm"
            )
        else:
            evidence.append(f"Alias `{fn.alias}` points to version {fn.alias_version}")
        if new_rate is not None:
            evidence.append(f"Version {fn.alias_version}: error rate {_pct(new_rate)}")
        if previous and baseline is not None:
            evidence.append(f"Version {previous}: error rate {_pct(baseline)}")
        confidence = 0.9 if recent and concentrated else 0.7 if concentrated else 0.45
        action = None
        if previous:
            action = Action(
                f"Roll `{fn.alias}` back to version {previous}",
                f"/ops alias {fn.name} {fn.alias} rollback",
            )
        return Cause(
            "recent_deploy",
            confidence,
            f"Version {fn.alias_version} went live shortly before the errors began.",
            tuple(evidence),
            action,
        )
    if _shortly_before(fn.last_modified, ev):
        assert fn.last_modified is not None
        rate = ev.error_rate()
        before = _rate_lookback(ev, None)
        if rate is None or rate <= 0.01 or (before is not None and rate < 3 * before + 0.01):
            return None
        age = (ev.signal.time - fn.last_modified).total_seconds() / 60
        return Cause(
            "recent_deploy",
            0.5,
            "The function was changed shortly before the errors began.",
            (
                f"Function updated {age:.0f} min before the alarm (no alias to roll back: "
                "publish versions and route through an alias)",
            ),
        )
    return None


def _shortly_before(when: datetime | None, ev: Evidence) -> bool:
    """Changed within DEPLOY_RECENCY before the window opened, and not after the alarm fired."""
    return when is not None and ev.window.start - DEPLOY_RECENCY <= when <= ev.signal.time


def _rate_lookback(ev: Evidence, version: str | None) -> float | None:
    invocations = ev.total("Invocations", lookback=True, version=version)
    if invocations <= 0:
        return None
    return ev.total("Errors", lookback=True, version=version) / invocations


@rule
def permission_denied(ev: Evidence) -> Cause | None:
    denied = _matching(ev, L.PERMISSION)
    if not denied:
        return None
    actions = sorted(
        {m["action"] for line in denied if (m := L.PERMISSION.search(line)) and m["action"]}
    )
    evidence = [f"{len(denied)} × access denied in the logs, e.g. `{_quote(denied[0])}`"]
    if actions:
        evidence.append("Denied: " + ", ".join(f"`{a}`" for a in actions))
    return Cause(
        "permission_denied",
        0.88,
        "The function's role is not allowed to do what the code asks.",
        tuple(evidence),
    )


@rule
def downstream_throttling(ev: Evidence) -> Cause | None:
    hits = _matching(ev, L.DOWNSTREAM)
    if not hits:
        return None
    return Cause(
        "downstream_throttling",
        0.82,
        "A dependency is throttling or unavailable (429/503, rate exceeded).",
        (f"{len(hits)} × throttled by a dependency, e.g. `{_quote(hits[0])}`",),
    )


@rule
def code_error(ev: Evidence) -> Cause | None:
    signatures = L.error_signatures(_lines(ev))
    errors = ev.total("Errors")
    if not signatures and errors <= 0:
        return None
    evidence = []
    rate = _rate_line(ev)
    if rate:
        evidence.append(rate)
    summary = "Unhandled errors in the function's code."
    if signatures:
        top = signatures[0]
        where = f" at {top.location}" if top.location else ""
        evidence.append(f"Top error ×{top.count}: `{top.type}: {_quote(top.message, 120)}`{where}")
        evidence.extend(
            f"Also ×{s.count}: `{s.type}: {_quote(s.message, 80)}`" for s in signatures[1:3]
        )
        summary = f"Unhandled `{top.type}` in the function's code."
    if isinstance(ev.signal, FailureRecord):
        evidence.append(
            f"Async event dropped to the on-failure destination after {ev.signal.attempts} attempts "
            f"({ev.signal.condition})"
        )
    return Cause("code_error", 0.6 if signatures else 0.4, summary, tuple(evidence))


@rule
def dlq_backlog(ev: Evidence) -> Cause | None:
    q = ev.queue
    if q is None or not q.visible:
        return None
    on_queue = ev.resource.type == "queue"
    if on_queue and not q.is_dlq and "dlq" not in q.name.lower() and "dead" not in q.name.lower():
        return None
    evidence = [f"{q.visible} message(s) waiting in `{q.name}`"]
    if q.oldest_age_s is not None:
        evidence.append(f"Oldest message {duration(q.oldest_age_s)} old")
    if q.source_queues or q.source_functions:
        evidence.append(
            "Fed by: " + ", ".join(f"`{s}`" for s in [*q.source_queues, *q.source_functions])
        )
    evidence.extend(f"Sample: `{_quote(body, 140)}`" for body in q.samples[:2])
    return Cause(
        "dlq_backlog",
        0.9 if on_queue else 0.5,
        f"{q.visible} failed message(s) are parked in the dead-letter queue `{q.name}`.",
        tuple(evidence),
        Action(f"Redrive {q.visible} message(s)", f"/ops redrive {q.name}"),
    )


@rule
def dlq_delivery_failure(ev: Evidence) -> Cause | None:
    failed = ev.total("DeadLetterErrors") + ev.total("DestinationDeliveryFailures")
    if failed <= 0:
        return None
    return Cause(
        "dlq_delivery_failure",
        0.95,
        "Failed events could not be written to the dead-letter queue: they are lost.",
        (
            f"{failed:.0f} DeadLetterErrors/DestinationDeliveryFailures in the alarm window",
            "Check the DLQ exists, its policy and the function role's sqs:SendMessage / sns:Publish",
        ),
    )


@rule
def iterator_age(ev: Evidence) -> Cause | None:
    fn = ev.function
    peak = ev.peak("IteratorAge")
    if peak is None or (peak < ITERATOR_AGE_HIGH_MS and "IteratorAge" not in _alarm_metric(ev)):
        return None
    values = ev.points("IteratorAge")
    rising = len(values) >= 2 and values[-1] > values[0]
    evidence = [
        f"IteratorAge peaked at {duration(peak / 1000)}" + (" and is rising" if rising else "")
    ]
    if fn and fn.event_sources:
        evidence.append(
            "Sources: "
            + ", ".join(f"`{s['arn'].rsplit(':', 1)[-1]}` ({s['state']})" for s in fn.event_sources)
        )
    action = None
    if fn is not None:
        current = fn.reserved_concurrency
        proposed = _raise_concurrency(current, fn) if current is not None else None
        if proposed is not None:
            action = Action(
                f"Raise reserved concurrency to {proposed}",
                f"/ops concurrency {fn.name} reserve {proposed}",
            )
        elif current is None:
            action = Action("Show concurrency", f"/ops concurrency {fn.name}")
    return Cause(
        "iterator_age",
        0.85 if rising else 0.7,
        "The function is falling behind its stream or queue: records wait longer and longer.",
        tuple(evidence),
        action,
    )


@rule
def no_invocations(ev: Evidence) -> Cause | None:
    if ev.function is None:
        return None
    now_count = ev.total("Invocations")
    before = ev.total("Invocations", lookback=True)
    on_invocations = (
        "Invocations" in _alarm_metric(ev)
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
    reports = _reports(ev)
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
    saving = per_month * avg_billed_s * (size - suggested) / 1024 * PRICE_PER_GB_SECOND
    return Cause(
        "over_provisioned_memory",
        0.2,
        f"Memory is over-provisioned: {used} MB used of {size} MB.",
        (
            f"Max Memory Used {used} MB across {len(reports)} REPORT lines; {size} MB configured",
            f"At {suggested} MB: about ${saving:,.2f}/month saved at the current rate",
        ),
    )


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step
