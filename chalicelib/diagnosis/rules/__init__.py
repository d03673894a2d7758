"""Ranked causes from evidence. Pure: no I/O, so every rule is a unit test away.

Each module here holds the rules of one theme, registered with `@rule`. They run theme by theme
in the order of THEMES (ties between equally likely causes keep that order), and the most likely
cause comes first.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.diagnosis.causes import RULES, Action, Cause, Diagnosis
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.diagnosis.rules import (
    concurrency,
    configuration,
    deploys,
    failures,
    limits,
    queues,
    usage,
)
from chalicelib.events.signals import Alarm

__all__ = ["Action", "Cause", "Diagnosis", "diagnose"]

THEMES = (limits, concurrency, deploys, failures, queues, usage, configuration)
ORDERED = sorted(RULES, key=lambda r: [t.__name__ for t in THEMES].index(r.__module__))

# A cause and the symptoms it explains: when both are found and the cause is likely (at least
# ROOT_MIN), the cause ranks first (a deploy that brings timeouts is the deploy, then the
# timeouts). Roots come before what they explain.
ROOT_MIN = 0.5
EXPLAINS: dict[str, tuple[str, ...]] = {
    "recursive_loop": ("invocation_spike", "throttling", "account_concurrency", "async_backlog"),
    "recent_deploy": (
        "timeout",
        "out_of_memory",
        "memory_pressure",
        "code_error",
        "new_error",
        "duration_anomaly",
        "permission_denied",
        "dlq_backlog",  # a DLQ filled by the function that changed (traced from the DLQ)
    ),
    "invocation_spike": ("account_concurrency", "async_backlog"),
    "account_concurrency": ("throttling", "async_backlog", "iterator_age"),
    "throttling": ("async_backlog", "iterator_age"),
    "event_source_failure": ("no_invocations", "iterator_age"),
    "memory_pressure": ("out_of_memory",),
    "new_error": ("code_error",),
    # Visibility under the function's timeout, with messages seen handled twice: the errors are
    # the redeliveries (only when the rule found that, at 0.8; its other findings stay below 0.5).
    "misconfiguration": ("code_error", "new_error", "dlq_backlog"),
    "cold_starts": ("duration_anomaly",),
}


def diagnose(ev: Evidence) -> Diagnosis:
    """Apply every rule; the causes that match, most likely first (`unknown` if none)."""
    causes = explained([c for c in (r(ev) for r in ORDERED) if c is not None])
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
    if isinstance(ev.signal, Alarm) and ev.signal.state == "OK":
        causes = [_over(c, ev.signal) for c in causes]
    if ev.where:  # a fix offered for another account's or region's alarm is made there
        causes = [_made_there(c, ev.where) for c in causes]
    return Diagnosis(ev, causes)


def _over(cause: Cause, ok: Alarm) -> Cause:
    """An alarm back to OK claims no live cause: what the incident was, and no fix to press."""
    if cause.kind == "unknown":
        return cause
    return replace(
        cause,
        summary=f"What the incident was (back to OK at {ok.time:%H:%M} UTC): {cause.summary}",
        action=None,
    )


def _made_there(cause: Cause, where: str) -> Cause:
    if cause.action is None:
        return cause
    return replace(cause, action=Action(cause.action.label, cause.action.command + where))


def explained(causes: list[Cause]) -> list[Cause]:
    """Each symptom ranked just below the cause found with it that explains it."""
    by_kind = {c.kind: c for c in causes}
    for root, symptoms in EXPLAINS.items():  # in order: a root's own rank is settled first
        cause = by_kind.get(root)
        if cause is None or cause.confidence < ROOT_MIN:
            continue
        for kind in symptoms:
            symptom = by_kind.get(kind)
            if symptom is not None and symptom.confidence >= cause.confidence:
                by_kind[kind] = replace(symptom, confidence=max(0.05, cause.confidence - 0.01))
    return [by_kind[c.kind] for c in causes]
