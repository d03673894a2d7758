"""One delivery (SNS, EventBridge, SQS, a direct invoke): each signal shown once, in its state.

Guarantees, each tested with a fault-injecting fake (tests/functional/test_alarm_faults.py):

- a signal is claimed by this attempt until its deadline; a retry that finds another attempt's
  live claim fails (Lambda retries it later), a lapsed one is taken over, a finished one is a
  duplicate; the handler succeeds only when every signal is done or was done before;
- an alarm's state moves only forward in `StateChangeTime`: a late or repeated notification is
  ignored, an OK that arrives before its ALARM is kept and the ALARM then shown already resolved;
- one Slack message per alarm episode: a recovery updates it in place (or posts anew if it was
  deleted), a re-fire within the flap window updates it with a flap count instead of a new post;
- many alarms in one account within a window become one storm summary (alarms/storms.py);
- posts carry their delivery in Slack metadata, and a retried attempt looks before it posts.

A firing's evidence is read (read-only) while its claim, hold and state are checked, not after:
the post waits for the longer of the two, not their sum.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.alarms.storms import StormDesk
from chalicelib.aws.session import Aws
from chalicelib.diagnosis.gather import gather
from chalicelib.diagnosis.rules import Action, Diagnosis, diagnose
from chalicelib.errors import UpstreamFailure
from chalicelib.events.ingest import parse_event
from chalicelib.events.signals import Alarm, Signal
from chalicelib.store.alarm_states import AlarmMessage, AlarmRecord, AlarmStates
from chalicelib.store.deliveries import Claim, Deliveries
from chalicelib.store.snoozes import Snooze, Snoozes

log = logging.getLogger(__name__)

FLAP_WINDOW_S = 15 * 60  # an alarm firing again this soon after it fired is the same episode
DEFAULT_BUDGET_S = 60.0  # outside Lambda (the CLI, tests without a context)
_EARLY = ThreadPoolExecutor(4, "early-diagnosis")  # per container: diagnoses begun at once


class Early:
    """A signal's diagnosis: begun at once for a firing (it only reads), else made when asked."""

    def __init__(self, work: Callable[[], Diagnosis], begin: bool) -> None:
        self._work = work
        self._begun: Future[Diagnosis] | None = _EARLY.submit(work) if begin else None

    def get(self) -> Diagnosis:
        return self._begun.result() if self._begun is not None else self._work()


class AlarmChannel(Protocol):
    """Where alarms are told (Slack: chalicelib/slack/alarm_channel.py)."""

    def post(self, diagnosis: Diagnosis, key: str, look_first: bool) -> AlarmMessage: ...
    def post_resolved(
        self, diagnosis: Diagnosis, ok: Alarm, key: str, look_first: bool
    ) -> AlarmMessage: ...
    def recover(
        self,
        message: AlarmMessage,
        ok: Alarm,
        fired_at: float,
        key: str,
        look_first: bool,
        flaps: int = 0,
    ) -> AlarmMessage: ...
    def refire(self, message: AlarmMessage, alarm: Alarm, flaps: int, first_at: float) -> bool: ...
    def post_unconfigured(self, signal: Signal, key: str, look_first: bool) -> AlarmMessage: ...


@dataclass
class AlarmDeps:
    aws: Aws
    deliveries: Deliveries
    states: AlarmStates
    channel: AlarmChannel
    storms: StormDesk
    snoozes: Snoozes | None = None  # Shepherd's snoozes, honoured on every delivery path
    # The runbooks a diagnosis matches, offered on its message (chalicelib/ops/runbooks.py).
    runbooks: Callable[[Diagnosis], list[Action]] | None = None


@dataclass(frozen=True)
class Attempt:
    """This invocation: Lambda's request id, when Lambda will stop it (epoch seconds), and the
    owner its claims and holds name."""

    id: str
    deadline: float
    # Lambda runs one request id more than once: its async queue may hand an event to two
    # execution environments at once, and its retries keep the id. A claim must name this run.
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def owner(self) -> str:
        """Who this invocation's claims name: its request id, told apart from other runs of it."""
        return f"{self.id}/{self.nonce}"

    @classmethod
    def of(cls, context: Any) -> Attempt:
        request = getattr(context, "aws_request_id", None) or f"local-{time.time_ns()}"
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        left = remaining() / 1000 if callable(remaining) else DEFAULT_BUDGET_S
        return cls(str(request), time.time() + left)


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


def on_event(event: Any, deps: AlarmDeps, attempt: Attempt) -> Outcome:
    """Handle a whole delivery; raises UpstreamFailure (so Lambda retries) if any signal failed.

    Signals that succeeded are not repeated on the retry: each is claimed in the state table.
    """
    batch = parse_event(event)
    outcome = Outcome(skipped=[f"{s.where}: {s.reason}" for s in batch.skipped])
    for signal in batch.signals:
        key = signal.dedupe_key
        try:
            if handle_signal(signal, deps, attempt):
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


def handle_signal(signal: Signal, deps: AlarmDeps, attempt: Attempt) -> bool:
    """Show one signal; False if it was handled before. Raises so that Lambda retries."""
    key = signal.dedupe_key
    if not deps.aws.knows(signal.account):
        return _unconfigured(signal, deps, attempt)
    firing = not isinstance(signal, Alarm) or signal.state == "ALARM"
    early = Early(lambda: _diagnosed(signal, deps), begin=firing)
    snooze = (  # read beside the claim and the diagnosis, not after them
        _EARLY.submit(deps.snoozes.active, signal.arn)
        if firing and isinstance(signal, Alarm) and deps.snoozes is not None
        else None
    )
    claim = deps.deliveries.claim(key, attempt.owner, attempt.deadline)
    if claim is Claim.DONE:
        log.info("duplicate delivery of %s", key)
        return False
    if claim is Claim.BUSY:
        raise UpstreamFailure("shepherd", f"another attempt is handling {key}", "DeliveryBusy")
    retried = claim is Claim.TAKEN_OVER  # an earlier attempt may have posted before it died
    try:
        if isinstance(signal, Alarm):
            with deps.states.hold(signal.arn, attempt.owner, attempt.deadline):
                _apply(signal, deps, key, retried, attempt, early, snooze)
        else:
            deps.channel.post(early.get(), key, retried)
    except BaseException:
        try:
            deps.deliveries.release(key, attempt.owner)
        except Exception:
            log.warning("could not release %s: it is retried when its lease lapses", key)
        raise
    deps.deliveries.complete(key)
    return True


def _diagnosed(signal: Signal, deps: AlarmDeps) -> Diagnosis:
    """The signal's diagnosis, with the runbooks it matches (an extra: a failure to match is
    logged, and the alarm is told without them)."""
    diagnosis = diagnose(gather(signal, deps.aws))
    if deps.runbooks is not None:
        try:
            diagnosis.runbooks = deps.runbooks(diagnosis)
        except Exception:
            log.warning("no runbooks offered for %s", signal.dedupe_key, exc_info=True)
    return diagnosis


def _unconfigured(signal: Signal, deps: AlarmDeps, attempt: Attempt) -> bool:
    """A signal from an account that is neither Shepherd's own nor configured: told as such, with
    no evidence and no buttons (its names mean nothing in Shepherd's account, and nothing there
    may be read or changed for it). Only a failure is told; its recovery is logged."""
    key = signal.dedupe_key
    if isinstance(signal, Alarm) and signal.state != "ALARM":
        log.warning("%s from unconfigured account %s: not shown", key, signal.account)
        return False
    claim = deps.deliveries.claim(key, attempt.owner, attempt.deadline)
    if claim is Claim.DONE:
        return False
    if claim is Claim.BUSY:
        raise UpstreamFailure("shepherd", f"another attempt is handling {key}", "DeliveryBusy")
    log.warning("%s from unconfigured account %s: told without evidence", key, signal.account)
    try:
        deps.channel.post_unconfigured(signal, key, claim is Claim.TAKEN_OVER)
    except BaseException:
        deps.deliveries.release(key, attempt.owner)
        raise
    deps.deliveries.complete(key)
    return True


def _apply(
    alarm: Alarm,
    deps: AlarmDeps,
    key: str,
    retried: bool,
    attempt: Attempt,
    early: Early,
    snooze: Future[Snooze | None] | None = None,
) -> None:
    """Apply one alarm notification to the alarm's known state (under its hold)."""
    at = alarm.time.timestamp()
    record = deps.states.get(alarm.arn)
    if record is not None and at <= record.changed_at:
        first_ok = record.extra.get("ok")
        if alarm.state == "ALARM" and record.message is None and first_ok:
            # Its OK came first: show the episode, already over.
            record.message = deps.channel.post_resolved(
                early.get(), _ok_alarm(alarm, first_ok), key, retried
            )
            record.fired_at = at
            deps.states.save(record)
            return
        log.info("stale %s of %s (known: %s)", alarm.state, alarm.name, record.state)
        return
    if alarm.state == "OK":
        _recover(alarm, record, deps, key, retried, attempt)
        return
    if (
        record is not None
        and record.message is not None
        and record.fired_at is not None
        and at - record.fired_at <= FLAP_WINDOW_S
    ):
        if record.state == "ALARM":
            record.changed_at = at  # already shown firing
            deps.states.save(record)
            return
        if deps.channel.refire(record.message, alarm, record.flaps + 1, record.fired_at):
            record.state, record.changed_at, record.flaps = alarm.state, at, record.flaps + 1
            deps.states.save(record)
            return
    snoozed = snooze.result() if snooze is not None else None
    if snoozed is not None:
        # A mute rule stops SNS, not EventBridge: Shepherd keeps the state and posts nothing.
        log.info("%s fired while snoozed until %s by %s", alarm.name, snoozed.until, snoozed.user)
        held: dict[str, Any] = {"snoozed": {"until": snoozed.until, "by": snoozed.action_id}}
        deps.states.save(AlarmRecord(alarm.arn, alarm.state, at, fired_at=at, extra=held))
        return
    # A new episode: posted, or told in the account's storm (then its message is the storm's).
    message = deps.storms.show(early.get(), key, retried, attempt.owner, attempt.deadline)
    extra = {} if message else {"storm": alarm.account or "-"}
    deps.states.save(
        AlarmRecord(alarm.arn, alarm.state, at, fired_at=at, message=message, extra=extra)
    )
    if message is not None:
        deps.states.opened(alarm.arn)  # reminders and the Home tab list it until it recovers


def _recover(
    ok: Alarm,
    record: AlarmRecord | None,
    deps: AlarmDeps,
    key: str,
    retried: bool,
    attempt: Attempt,
) -> None:
    at = ok.time.timestamp()
    if record is not None and record.extra.get("storm") and record.state != "OK":
        deps.storms.resolve(ok, attempt.owner, attempt.deadline)
        record.state, record.changed_at = "OK", at
        deps.states.save(record)
        return
    if record is None or record.message is None or record.fired_at is None:
        # Never seen firing (or its ALARM is still on the way): remember, post nothing.
        extra = {"ok": {"reason": ok.reason, "time": at}}
        deps.states.save(AlarmRecord(ok.arn, "OK", at, extra=extra))
        return
    if record.state != "OK":
        record.message = deps.channel.recover(
            record.message, ok, record.fired_at, key, retried, record.flaps
        )
    record.state, record.changed_at = "OK", at
    deps.states.save(record)
    deps.states.closed(ok.arn)


def _ok_alarm(alarm: Alarm, ok: dict[str, Any] | None) -> Alarm:
    """The OK that came before `alarm`, rebuilt from what was kept of it."""
    from dataclasses import replace
    from datetime import UTC, datetime

    ok = ok or {}
    when = datetime.fromtimestamp(float(ok.get("time", alarm.time.timestamp())), UTC)
    return replace(
        alarm, state="OK", previous_state="ALARM", reason=str(ok.get("reason", "")), time=when
    )
