"""Time-aware ranking: a change is a cause only if it came before the errors it is blamed for."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from chalicelib.diagnosis.evidence import FunctionFacts
from chalicelib.diagnosis.rules import diagnose
from tests.unit.evidence_builder import T, evidence

TIMED_OUT = "Task timed out after 15.00 seconds"


def erroring_since(minutes: int, changed_minutes_before_alarm: float, **kw: object):  # type: ignore[no-untyped-def]
    """Errors every minute from `minutes` before the alarm; the function changed at the given time."""
    fn = FunctionFacts(
        name="orders",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        timeout_s=15,
        memory_mb=1024,
        last_modified=T - timedelta(minutes=changed_minutes_before_alarm),
    )
    ev = evidence(
        function=fn, logs=[TIMED_OUT] * 5, lookback={"Invocations": 100, "Errors": 0}, **kw
    )  # type: ignore[arg-type]
    ev.metrics["Invocations"] = [(T - timedelta(minutes=m), 100.0) for m in range(0, 150)]
    ev.metrics["Errors"] = [
        (T - timedelta(minutes=m), 30.0 if m <= minutes else 0.0) for m in range(0, 150)
    ]
    ev.metrics["DurationMax"] = [(T - timedelta(minutes=m), 15000.0) for m in range(0, 6)]
    return ev


def test_the_onset_is_the_start_of_the_run_of_errors_that_reaches_the_alarm() -> None:
    ev = erroring_since(6, 0)
    assert ev.onset() == T - timedelta(minutes=6)


def test_a_change_during_the_incident_is_listed_below_the_cause_never_above() -> None:
    """Memory changed 0 min before the alarm, 6 min after the errors began: the timeout is it."""
    d = diagnose(erroring_since(6, 0))
    assert d.top.kind == "timeout" and d.top.confidence >= 0.9
    deploy = next(c for c in d.causes if c.kind == "recent_deploy")
    assert deploy.confidence < d.top.confidence
    assert (
        "during the incident" in deploy.summary and "6 min after the errors began" in deploy.summary
    )


def test_a_change_before_the_errors_began_is_still_their_likely_cause() -> None:
    d = diagnose(erroring_since(4, 20))  # changed 20 min before the alarm, errors from 4 min
    deploy = next(c for c in d.causes if c.kind == "recent_deploy")
    assert deploy.confidence >= 0.5 and "shortly before the errors began" in deploy.summary


def test_an_ok_notification_claims_no_live_cause() -> None:
    ev = erroring_since(6, 60)
    ev.signal = dataclasses.replace(ev.signal, state="OK", previous_state="ALARM")
    d = diagnose(ev)
    assert all(c.action is None for c in d.causes)  # nothing to press for what is over
    assert all(
        c.summary.startswith("What the incident was") for c in d.causes if c.kind != "unknown"
    )
