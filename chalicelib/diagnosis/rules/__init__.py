"""Ranked causes from evidence. Pure: no I/O, so every rule is a unit test away.

Each module here holds the rules of one theme, registered with `@rule`. They run theme by theme
in the order of THEMES (ties between equally likely causes keep that order), and the most likely
cause comes first.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.diagnosis.causes import RULES, Action, Cause, Diagnosis
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.diagnosis.rules import concurrency, deploys, failures, limits, queues, usage

__all__ = ["Action", "Cause", "Diagnosis", "diagnose"]

THEMES = (limits, concurrency, deploys, failures, queues, usage)
ORDERED = sorted(RULES, key=lambda r: [t.__name__ for t in THEMES].index(r.__module__))


def diagnose(ev: Evidence) -> Diagnosis:
    """Apply every rule; the causes that match, most likely first (`unknown` if none)."""
    causes = [c for c in (r(ev) for r in ORDERED) if c is not None]
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
    if ev.where:  # a fix offered for another account's or region's alarm is made there
        causes = [_made_there(c, ev.where) for c in causes]
    return Diagnosis(ev, causes)


def _made_there(cause: Cause, where: str) -> Cause:
    if cause.action is None:
        return cause
    return replace(cause, action=Action(cause.action.label, cause.action.command + where))
