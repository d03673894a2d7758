"""Who is on an alarm: Acknowledge, and reminders while nobody is.

- Acknowledge (a button on every alarm message and storm summary) records who and when under the
  alarm's hold, shows it in the message, and stops reminders. A second click says who was first.
- A reminder round (`alarm_reminders`, every few minutes) posts in the thread of each alarm still
  in ALARM, unacknowledged and not snoozed, once per `after` (at most `most` times); `@here` only
  for alarms the configuration names. Each reminder is posted at most once (Slack metadata names
  it, a retried round looks first) and counted under the alarm's hold.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib import markup
from chalicelib.alarms.storms import StormDesk
from chalicelib.aws.arns import alarm_name
from chalicelib.store.alarm_states import AlarmMessage, AlarmRecord, AlarmStates
from chalicelib.store.snoozes import Snoozes
from chalicelib.store.storms import OPEN_PREFIX
from chalicelib.units import duration

log = logging.getLogger(__name__)

STORM = OPEN_PREFIX  # an Acknowledge value naming a storm summary: `storm:<account>`
HOLD_S = 20.0  # how long an ack or a reminder may hold an alarm


# Whether a user may acknowledge in an account, clicked where (channel id, name): (allowed, why).
MayAcknowledge = Callable[[str, str, tuple[str, str] | None], tuple[bool, str]]


class AttentionChannel(Protocol):
    def acknowledged(self, message: AlarmMessage, user: str, at: float) -> AlarmMessage: ...
    def remind(self, message: AlarmMessage, text: str, key: str) -> None: ...
    def offers(self, message: AlarmMessage, command: str) -> bool: ...
    def fix_applied(
        self, message: AlarmMessage, command: str, user: str, action_id: str
    ) -> AlarmMessage | None: ...


@dataclass(frozen=True)
class Reminders:
    after_s: float = 1800.0  # 0: never
    most: int = 3
    here: tuple[str, ...] = ()  # alarm-name globs that may mention @here

    def loud(self, alarm: str) -> bool:
        return any(fnmatch.fnmatchcase(alarm, pattern) for pattern in self.here)


@dataclass
class Round:
    """What a reminder round did."""

    reminded: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in vars(self).items()}


class Attention:
    def __init__(
        self,
        states: AlarmStates,
        storms: StormDesk,
        channel: AttentionChannel,
        snoozes: Snoozes,
        reminders: Reminders = Reminders(),
        clock: Callable[[], float] = time.time,
        may_acknowledge: MayAcknowledge | None = None,
    ) -> None:
        self.states, self.storms, self.channel = states, storms, channel
        self.snoozes, self.reminders, self.clock = snoozes, reminders, clock
        self.may_acknowledge = may_acknowledge

    def acknowledge(self, value: str, user: str, where: tuple[str, str] | None = None) -> str:
        """Acknowledge an alarm (by ARN) or a storm (`storm:<account>`); what to tell `user`.
        `where`: the channel (id, name) the button was clicked in; None on the Home tab."""
        account = value[len(STORM) :] if value.startswith(STORM) else _account_of(value)
        if self.may_acknowledge is not None:
            allowed, why = self.may_acknowledge(user, account, where)
            if not allowed:
                log.warning(
                    "acknowledge of %s by %s refused: %s", value, user, markup.unmarked(why)
                )
                return (
                    f"{why}: acknowledging is for the operators and viewers of the alarm's "
                    "account; nothing changed."
                )
        attempt, deadline = f"ack-{user}-{time.time_ns()}", self.clock() + HOLD_S
        if value.startswith(STORM):
            try:
                earlier = self.storms.acknowledge(value[len(STORM) :], user, attempt, deadline)
            except LookupError:
                return "That storm is no longer open; nothing to acknowledge."
            return _told(earlier, "the storm")
        with self.states.hold(value, attempt, deadline):
            record = self.states.get(value)
            if record is None or record.message is None:
                return "That alarm is no longer open; nothing to acknowledge."
            earlier = record.extra.get("ack")
            if earlier:
                return _told(earlier, "it")
            at = self.clock()
            record.message = self.channel.acknowledged(record.message, user, at)
            record.extra["ack"] = {"user": user, "at": at}
            self.states.save(record)
        return "Acknowledged: you are on it, and its reminders stop."

    def fix_applied(self, command: str, user: str, action_id: str) -> list[str]:
        """Each open alarm whose message offers `command` as its fix: that button replaced by
        who ran it, so that nobody runs the same fix twice from the message (redrawn on
        Acknowledge as stored). The alarms changed."""
        arns = [a for a in self.states.open_arns() if not a.startswith(STORM)]
        records = self.states.get_many(arns)
        changed = []
        for arn in arns:
            record = records.get(arn)
            if record is None or record.message is None:
                continue
            if not self.channel.offers(record.message, command):
                continue
            with self.states.hold(arn, f"fix-{action_id}", self.clock() + HOLD_S):
                record = self.states.get(arn)
                if record is None or record.message is None:
                    continue
                message = self.channel.fix_applied(record.message, command, user, action_id)
                if message is not None:
                    record.message = message
                    self.states.save(record)
                    changed.append(arn)
        return changed

    def remind(self) -> Round:
        """One round over the open alarms."""
        done = Round()
        if self.reminders.after_s <= 0:
            return done
        arns = [a for a in self.states.open_arns() if not a.startswith(STORM)]  # storms: Home
        records = self.states.get_many(arns)
        for arn in arns:
            record = records.get(arn)
            try:
                if record is None or record.state != "ALARM" or record.message is None:
                    self.states.closed(arn)
                    done.closed.append(arn)
                elif self._due(record) and self._remind(arn):
                    done.reminded.append(arn)
            except Exception as exc:
                log.exception("could not remind of %s", arn)
                done.failed.append(f"{arn}: {exc}")
        return done

    def _due(self, record: AlarmRecord) -> bool:
        sent = int(record.extra.get("reminders", 0))
        if record.extra.get("ack") or sent >= self.reminders.most or record.fired_at is None:
            return False
        return self.clock() >= record.fired_at + self.reminders.after_s * (sent + 1)

    def _remind(self, arn: str) -> bool:
        attempt, deadline = f"remind-{time.time_ns()}", self.clock() + HOLD_S
        with self.states.hold(arn, attempt, deadline):
            record = self.states.get(arn)  # as it is now, under the hold
            if record is None or record.message is None or not self._due(record):
                return False
            if self.snoozes.active(arn) is not None:
                return False
            sent = int(record.extra.get("reminders", 0))
            assert record.fired_at is not None
            name = alarm_name(arn)
            here = f"{markup.here()} " if self.reminders.loud(name) else ""
            text = (
                f"{here}:alarm_clock: *{markup.prose(name, 255)}* is still in ALARM after "
                f"{duration(self.clock() - record.fired_at)} and nobody has acknowledged it "
                f"(reminder {sent + 1} of {self.reminders.most})."
            )
            self.channel.remind(record.message, text, f"remind|{arn}|{record.fired_at}|{sent}")
            record.extra["reminders"] = sent + 1
            self.states.save(record)
        return True


def _account_of(alarm_arn: str) -> str:
    """The account of `arn:aws:cloudwatch:<region>:<account>:alarm:<name>` ('' if none)."""
    parts = alarm_arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _told(earlier: dict[str, object] | None, what: str) -> str:
    if earlier is None:
        return f"Acknowledged {what}: you are on it."
    return f"Already acknowledged by {markup.user(str(earlier['user']))}; nothing changed."
