"""One delivery (SNS, EventBridge, SQS, a direct invoke): each signal posted or updated once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.aws.session import Aws
from chalicelib.diagnosis.gather import gather
from chalicelib.diagnosis.rules import Diagnosis, diagnose
from chalicelib.errors import UpstreamFailure
from chalicelib.events.ingest import parse_event
from chalicelib.events.signals import Alarm, Signal
from chalicelib.store.alarm_threads import AlarmThread, AlarmThreads
from chalicelib.store.deliveries import Deliveries

log = logging.getLogger(__name__)


class AlarmChannel(Protocol):
    """Where alarms are told (Slack: chalicelib/slack/alarm_channel.py)."""

    def post_diagnosis(self, diagnosis: Diagnosis) -> AlarmThread:
        """Post the diagnosis; the message, to update when the alarm recovers."""
        ...

    def post_unseen_recovery(self, alarm: Alarm) -> None:
        """An OK for an alarm Shepherd never saw fire."""
        ...

    def post_recovery(self, thread: AlarmThread, alarm: Alarm) -> None:
        """Mark the alarm's message recovered and say so in its thread."""
        ...


@dataclass
class AlarmDeps:
    aws: Aws
    deliveries: Deliveries
    threads: AlarmThreads
    channel: AlarmChannel


@dataclass
class Outcome:
    posted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """What the handler returns to Lambda."""
        return {
            "posted": len(self.posted),
            "duplicates": len(self.duplicates),
            "skipped": self.skipped,
        }


def on_event(event: Any, deps: AlarmDeps) -> Outcome:
    """Handle a whole delivery; raises UpstreamFailure (so Lambda retries) if any signal failed.

    Signals that succeeded are not repeated on the retry: each is claimed in the state table.
    """
    batch = parse_event(event)
    outcome = Outcome(skipped=[f"{s.where}: {s.reason}" for s in batch.skipped])
    for signal in batch.signals:
        key = signal.dedupe_key
        try:
            if handle_signal(signal, deps):
                outcome.posted.append(key)
            else:
                outcome.duplicates.append(key)
        except Exception as exc:
            log.exception("could not handle %s", key)
            outcome.failed.append(f"{key}: {exc}")
    if outcome.failed:
        raise UpstreamFailure(
            "shepherd", f"{len(outcome.failed)} signal(s) failed: {outcome.failed[0]}"
        )
    return outcome


def handle_signal(signal: Signal, deps: AlarmDeps) -> bool:
    """Post (or update) the Slack message for one signal; False if it was already handled."""
    key = signal.dedupe_key
    if not deps.deliveries.claim(key):
        log.info("duplicate delivery of %s", key)
        return False
    try:
        if isinstance(signal, Alarm) and signal.state == "OK":
            _recover(signal, deps)
        else:
            _post_diagnosis(signal, deps)
    except BaseException:
        deps.deliveries.release(key)
        raise
    deps.deliveries.complete(key)
    return True


def _post_diagnosis(signal: Signal, deps: AlarmDeps) -> None:
    thread = deps.channel.post_diagnosis(diagnose(gather(signal, deps.aws)))
    if isinstance(signal, Alarm):
        deps.threads.save(signal.arn, thread)


def _recover(alarm: Alarm, deps: AlarmDeps) -> None:
    thread = deps.threads.get(alarm.arn)
    if thread is None:
        # Never saw it fire (or it fired before Shepherd was watching): a short note is enough.
        deps.channel.post_unseen_recovery(alarm)
        return
    deps.channel.post_recovery(thread, alarm)
    deps.threads.close(alarm.arn)
