"""A bad deploy: the alias moved shortly before errors began, errors on the new version."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import markup
from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    pct,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence

DEPLOY_RECENCY = timedelta(hours=2)


@rule
def recent_deploy(ev: Evidence) -> Cause | None:
    fn = ev.function
    if fn is None:
        return None
    if fn.alias and fn.alias_version:
        current = fn.version_info(fn.alias_version)
        previous = fn.previous_version(fn.alias_version)
        went_live = current.last_modified if current else None
        recent = _shortly_before(went_live, ev) and not _during(went_live, ev)
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
            return _during_the_incident(ev, went_live, f"Version {fn.alias_version} went live")
        evidence = []
        if current and current.last_modified and recent:
            age = (ev.signal.time - current.last_modified).total_seconds() / 60
            evidence.append(
                f"Alias {markup.code(fn.alias)} points to version {fn.alias_version}, published "
                f"{age:.0f} min before the alarm"
            )
        else:
            evidence.append(f"Alias {markup.code(fn.alias)} points to version {fn.alias_version}")
        if new_rate is not None:
            evidence.append(f"Version {fn.alias_version}: error rate {pct(new_rate)}")
        if previous and baseline is not None:
            evidence.append(f"Version {previous}: error rate {pct(baseline)}")
        confidence = 0.9 if recent and concentrated else 0.7 if concentrated else 0.45
        action = None
        if previous:
            action = Action(
                f"Roll {markup.code(fn.alias)} back to version {previous}",
                f"/ops alias {fn.name} {fn.alias} rollback",
            )
        return Cause(
            "recent_deploy",
            confidence,
            f"Version {fn.alias_version} went live shortly before the errors began.",
            tuple(evidence),
            action,
        )
    if _during(fn.last_modified, ev):
        return _during_the_incident(ev, fn.last_modified, "The function was changed")
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


ONSET_SLACK = timedelta(minutes=1)  # a metric point counts its whole minute


def _during(when: datetime | None, ev: Evidence) -> bool:
    """A change made after the errors began (someone acting on the incident): not their cause."""
    onset = ev.onset()
    return (
        when is not None
        and onset is not None
        and onset + ONSET_SLACK < when <= ev.signal.time + ONSET_SLACK
    )


def _during_the_incident(ev: Evidence, when: datetime | None, what: str) -> Cause | None:
    """Shown as what it is, below any cause: a change that came after the errors began."""
    onset = ev.onset()
    if when is None or onset is None or not _during(when, ev):
        return None
    after = (when - onset).total_seconds() / 60
    return Cause(
        "recent_deploy",
        0.15,
        f"{what} during the incident, {after:.0f} min after the errors began: not their cause.",
        (
            f"Errors began at {onset:%H:%M} UTC; the change came at {when:%H:%M} UTC",
            "A change made while responding (memory, timeout, a deploy) is listed, not blamed",
        ),
    )


def _shortly_before(when: datetime | None, ev: Evidence) -> bool:
    """Changed within DEPLOY_RECENCY before the window opened, and not after the alarm fired."""
    return when is not None and ev.window.start - DEPLOY_RECENCY <= when <= ev.signal.time


def _rate_lookback(ev: Evidence, version: str | None) -> float | None:
    invocations = ev.total("Invocations", lookback=True, version=version)
    if invocations <= 0:
        return None
    return ev.total("Errors", lookback=True, version=version) / invocations
