"""Queues and streams: a DLQ backlog, dead letters dropped, a source falling behind."""

from __future__ import annotations

from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    alarm_metric,
    quote,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.diagnosis.rules.concurrency import raise_concurrency
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
    evidence = [f"{q.visible} message(s) waiting in `{q.name}`"]
    if q.oldest_age_s is not None:
        evidence.append(f"Oldest message {duration(q.oldest_age_s)} old")
    if q.source_queues or q.source_functions:
        evidence.append(
            "Fed by: " + ", ".join(f"`{s}`" for s in [*q.source_queues, *q.source_functions])
        )
    return Cause(
        "dlq_backlog",
        0.9 if on_queue else 0.5,
        f"{q.visible} failed message(s) are parked in the dead-letter queue `{q.name}`.",
        tuple(evidence),
        Action(f"Redrive {q.visible} message(s)", f"/ops redrive {q.name}"),
        quoted=tuple(f"Sample: `{quote(body, 140)}`" for body in q.samples[:2]),
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
            + ", ".join(f"`{s['arn'].rsplit(':', 1)[-1]}` ({s['state']})" for s in fn.event_sources)
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
