"""Queues and streams: a DLQ backlog, dead letters dropped, a source falling behind."""

from __future__ import annotations

from collections import Counter

from chalicelib import markup
from chalicelib.aws.limits import SQS_VISIBILITY_FACTOR
from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    alarm_metric,
    quote,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence, Upstream, run_start
from chalicelib.diagnosis.rules.concurrency import raise_concurrency
from chalicelib.diagnosis.rules.deploys import DEPLOY_RECENCY, ONSET_SLACK
from chalicelib.units import duration

ITERATOR_AGE_HIGH_MS = 60_000


@rule
def dlq_backlog(ev: Evidence) -> Cause | None:
    q = ev.queue
    if q is None or not q.visible:
        return None
    on_queue = ev.resource.type == "queue"
    if on_queue and not q.is_dlq and "dlq" not in q.name.lower() and "dead" not in q.name.lower():
        return None
    evidence = [f"{q.visible} message(s) waiting in {markup.code(q.name)}"]
    if q.oldest_age_s is not None:
        evidence.append(f"Oldest message {duration(q.oldest_age_s)} old")
    if q.source_queues or q.source_functions:
        evidence.append(
            "Fed by: "
            + ", ".join(f"{markup.code(s)}" for s in [*q.source_queues, *q.source_functions])
        )
    return Cause(
        "dlq_backlog",
        0.9 if on_queue else 0.5,
        f"{q.visible} failed message(s) are parked in the dead-letter queue {markup.code(q.name)}.",
        tuple(evidence),
        Action(f"Redrive {q.visible} message(s)", f"/ops redrive {q.name}"),
        quoted=tuple(f"Sample: {markup.code(quote(body, 140))}" for body in q.samples[:2]),
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
    if peak is None or (peak < ITERATOR_AGE_HIGH_MS and "IteratorAge" not in alarm_metric(ev)):
        return None
    values = ev.points("IteratorAge")
    rising = len(values) >= 2 and values[-1] > values[0]
    evidence = [
        f"IteratorAge peaked at {duration(peak / 1000)}" + (" and is rising" if rising else "")
    ]
    if fn and fn.event_sources:
        evidence.append(
            "Sources: "
            + ", ".join(
                f"{markup.code(s['arn'].rsplit(':', 1)[-1])} ({s['state']})"
                for s in fn.event_sources
            )
        )
    action = None
    if fn is not None:
        current = fn.reserved_concurrency
        proposed = raise_concurrency(current, fn) if current is not None else None
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


ASYNC_AGE_HIGH_MS = 60_000  # async events waiting longer than this are a backlog


@rule
def async_backlog(ev: Evidence) -> Cause | None:
    dropped = ev.total("AsyncEventsDropped")
    age = ev.peak("AsyncEventAge")
    before = ev.peak("AsyncEventAge", lookback=True) or 0.0
    rising = age is not None and age >= ASYNC_AGE_HIGH_MS and age > 2 * before
    if dropped <= 0 and not rising:
        return None
    evidence = []
    if dropped > 0:
        evidence.append(f"{dropped:.0f} async event(s) dropped (too old or retries exhausted)")
    if age is not None:
        evidence.append(
            f"AsyncEventAge peaked at {duration(age / 1000)} (3 h before: {duration(before / 1000)})"
        )
    return Cause(
        "async_backlog",
        0.8 if dropped > 0 else 0.65,
        "Async events wait in Lambda's queue" + (" and are dropped." if dropped > 0 else "."),
        tuple(evidence),
    )


@rule
def event_source_failure(ev: Evidence) -> Cause | None:
    fn = ev.function
    if fn is None:
        return _unread_queue(ev)
    failing = [
        s
        for s in fn.event_sources
        if s["state"] == "Disabled" or s.get("last_result", "").startswith("PROBLEM")
    ]
    if not failing:
        return None
    evidence = []
    for s in failing:
        name = source_name(s["arn"])
        if s.get("last_result", "").startswith("PROBLEM"):
            evidence.append(f"{markup.code(name)}: {s['last_result']}")
        if s["state"] == "Disabled":
            reason = f" ({s['reason']})" if s.get("reason") else ""
            evidence.append(f"{markup.code(name)} is Disabled{reason}: nothing is read from it")
    return Cause(
        "event_source_failure",
        0.88,
        "An event source mapping is disabled or failing: its records are not processed.",
        tuple(evidence),
        action=Action("Status", f"/ops status {fn.name}"),
    )


def _unread_queue(ev: Evidence) -> Cause | None:
    """A source queue whose consumers are disabled or failing: it fills and ages, nothing reads."""
    q = ev.queue
    if q is None or not q.consumer_mappings:
        return None
    failing = [
        m
        for m in q.consumer_mappings
        if m["state"] == "Disabled" or m.get("last_result", "").startswith("PROBLEM")
    ]
    if not failing:
        return None
    working = len(q.consumer_mappings) - len(failing)
    evidence = []
    for m in failing:
        what = "is Disabled" if m["state"] == "Disabled" else f"fails: {m['last_result']}"
        reason = f" ({m['reason']})" if m.get("reason") and m["state"] == "Disabled" else ""
        evidence.append(f"{markup.code(q.name)} → {markup.code(m['function'])} {what}{reason}")
    if q.oldest_age_s is not None:
        evidence.append(f"Oldest message {duration(q.oldest_age_s)} old")
    first = failing[0]["function"]
    return Cause(
        "event_source_failure",
        0.9 if working == 0 else 0.7,
        f"Nothing reads {markup.code(q.name)}: "
        + (
            "its only consumer's"
            if len(q.consumer_mappings) == 1
            else f"{len(failing)} of its consumers'"
        )
        + " event source mapping is disabled or failing.",
        tuple(evidence),
        action=Action("Status", f"/ops status {first}"),
    )


@rule
def dlq_filled_by_a_change(ev: Evidence) -> Cause | None:
    """A DLQ filled by a function that changed shortly before its errors began."""
    for up in ev.upstream:
        fn, onset = up.function, run_start(up.metrics.get("Errors", []), ev.signal.time)
        changed = fn.last_modified
        if changed is None or onset is None:
            continue
        if not onset - DEPLOY_RECENCY <= changed <= onset + ONSET_SLACK:
            continue
        before = max(0.0, (onset - changed).total_seconds() / 60)
        new = _new_signature(up)
        evidence = [
            f"{_route(up)}: {markup.code(fn.name)} changed at {changed:%H:%M} UTC, its errors "
            f"began at {onset:%H:%M} UTC",
            *([f"Its top error since: {markup.code(new, 160)}"] if new else []),
        ]
        return Cause(
            "recent_deploy",
            0.85,
            f"{_route(up)}: {markup.code(fn.name)} was changed {before:.0f} min before its "
            "errors began; its failures fill the DLQ.",
            tuple(evidence),
            Action("Status", f"/ops status {fn.name}{ev.where}"),
        )
    return None


@rule
def dlq_filled_by_redelivery(ev: Evidence) -> Cause | None:
    """A DLQ filled from a source queue whose visibility timeout is under its consumer's timeout:
    a message comes back while still handled, is received again, and dead-letters."""
    for up in ev.upstream:
        fn = up.function
        if up.visibility_s is None or not fn.timeout_s or up.visibility_s >= fn.timeout_s:
            continue
        return Cause(
            "misconfiguration",
            0.85,
            f"{_route(up)}: the visibility timeout ({up.visibility_s} s) is under "
            f"{markup.code(fn.name)}'s timeout ({fn.timeout_s} s): messages come back while "
            "still handled, are received again and dead-letter.",
            (
                f"{_route(up)}",
                f"Set {markup.code(up.path[-2])}'s visibility timeout to at least "
                f"{SQS_VISIBILITY_FACTOR}× the function timeout ({SQS_VISIBILITY_FACTOR * fn.timeout_s} s)",
            ),
        )
    return None


def _route(up: Upstream) -> str:
    return " ← ".join(markup.code(p) for p in up.path)


def _new_signature(up: Upstream) -> str:
    lines = [line.message.strip().splitlines()[0] for line in up.logs if line.message.strip()]
    return Counter(lines).most_common(1)[0][0] if lines else ""


def source_name(arn: str) -> str:
    """An event source by name: a queue, `clicks` for a Kinesis stream, the table of a DynamoDB
    stream."""
    rest = arn.rsplit(":", 1)[-1]
    parts = rest.split("/")
    if parts[0] in ("stream", "table") and len(parts) > 1:
        return parts[1]
    return rest
