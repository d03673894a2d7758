"""Storms: many alarms in one account within a short window become one summary, not a flood.

The first alarms of a window are posted as usual. When the threshold-th fires within the window
(default 5 in 2 minutes), one summary message opens; it names every alarm of the window, counts
them by cause and by function, and says the one cause behind many of them when there is one. From
then on each alarm is counted in the summary, the summary is redrawn at most every few seconds, and each function's first alarm gets one
diagnosis reply in the thread: a storm of 120 alarms on 30 functions costs about 35 posts.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib import markup
from chalicelib.diagnosis.causes import kind_title
from chalicelib.diagnosis.rules import Diagnosis
from chalicelib.events.signals import Alarm
from chalicelib.store.alarm_states import AlarmMessage
from chalicelib.store.storms import MAX_REPLIES, StormEntry, StormRecord, Storms

SHARED = 0.5  # a cause behind at least this share of a storm's alarms is named at its top
OPERATION = re.compile(r"when calling the (\w+) operation")
THROTTLE = re.compile(r"\b(\w+(?:Exception|Exceeded))\b")


PENDING = "pending@"  # a reply being posted by some attempt, since then
ABANDONED_S = 90.0  # a reply pending this long was not posted (its attempt died): post it


def _needs_reply(reply: AlarmMessage | None, now: float) -> bool:
    if reply is None:
        return True
    if reply.ts.startswith(PENDING):
        return now - float(reply.ts.removeprefix(PENDING)) > ABANDONED_S
    return False


class StormChannel(Protocol):
    """How a storm is told (Slack: chalicelib/slack/alarm_channel.py)."""

    def post(self, diagnosis: Diagnosis, key: str, look_first: bool) -> AlarmMessage: ...
    def post_summary(self, storm: StormRecord, shared: str | None, key: str) -> AlarmMessage: ...
    def update_summary(self, storm: StormRecord, shared: str | None) -> None: ...
    def function_reply(
        self, storm: StormRecord, function: str, diagnosis: Diagnosis, key: str, look_first: bool
    ) -> AlarmMessage: ...


@dataclass(frozen=True)
class StormRules:
    threshold: int = 5  # the alarm that makes this many within the window opens a storm
    window_s: float = 120.0
    redraw_s: float = 3.0  # the summary is redrawn at most this often (Slack's update limits)


def entry_of(diagnosis: Diagnosis) -> StormEntry:
    """What a storm keeps of one alarm."""
    alarm = diagnosis.evidence.signal
    assert isinstance(alarm, Alarm)
    top = diagnosis.top
    facts: dict[str, Any] = {}
    fn = diagnosis.evidence.function
    if fn is not None:
        facts["unreserved"] = fn.account_unreserved
        facts["limit"] = fn.account_concurrency_limit
        facts["version"] = fn.alias_version
    for line in (*top.evidence, *top.quoted):
        found = OPERATION.search(line) or THROTTLE.search(line)
        if found:
            facts["dependency"] = found.group(1)
            break
    return StormEntry(
        name=alarm.name,
        arn=alarm.arn,
        function=diagnosis.evidence.resource.label,
        kind=top.kind,
        summary=top.summary,
        fired_at=alarm.time.timestamp(),
        facts=facts,
    )


def shared_cause(entries: list[StormEntry]) -> str | None:
    """The one cause behind many of a storm's alarms, in words; None when there is none."""
    if len(entries) < 3:
        return None
    kinds = Counter(e.kind for e in entries)
    kind, count = kinds.most_common(1)[0]
    if kind == "unknown" or count / len(entries) < SHARED:
        return None
    those = [e for e in entries if e.kind == kind]
    functions = len({e.function for e in those})
    share = f"{count} of {len(entries)} alarms on {functions} function(s)"
    if kind == "throttling":
        pools = [(e.facts.get("unreserved"), e.facts.get("limit")) for e in those]
        known = [(u, lim) for u, lim in pools if u is not None and lim]
        if known and min(u for u, _ in known) <= 0.1 * known[0][1]:
            low = min(u for u, _ in known)
            return (
                f"The account's concurrency is exhausted: {share} are throttled, with "
                f"{low} of {known[0][1]} executions left unreserved"
            )
        return f"Throttling: {share}"
    if kind == "downstream_throttling":
        deps = Counter(e.facts.get("dependency") for e in those if e.facts.get("dependency"))
        if deps:
            dependency, n = deps.most_common(1)[0]
            if n / count >= SHARED:
                return f"One dependency throttles them: {markup.code(dependency)} in {share}"
        return f"Downstream throttling: {share}"
    if kind == "recent_deploy":
        return f"A deploy: {share} began failing right after their alias moved to a new version"
    return f"{kind_title(kind)}: {share}"


class StormDesk:
    def __init__(
        self,
        storms: Storms,
        channel: StormChannel,
        rules: StormRules = StormRules(),
        clock: Any = time.time,
    ) -> None:
        self.storms, self.channel, self.rules, self.clock = storms, channel, rules, clock

    def show(
        self, diagnosis: Diagnosis, key: str, retried: bool, attempt: str, deadline: float
    ) -> AlarmMessage | None:
        """Post the alarm, or put it in its storm; the message it got (None: in a storm)."""
        entry = entry_of(diagnosis)
        scope = str(getattr(diagnosis.evidence.signal, "account", "") or "-")
        with self.storms.hold(scope, attempt, deadline):
            storm = self.storms.get(scope) or StormRecord(scope)
            if storm.entries and entry.fired_at - storm.last_fired > self.rules.window_s:
                storm = StormRecord(scope)  # quiet for a window: what comes now is new
            recent = [
                e for e in storm.entries if entry.fired_at - e.fired_at <= self.rules.window_s
            ]
            self.storms.add(storm, entry)  # (a retry of this delivery is not counted twice)
            if storm.summary is None and len(recent) + 1 < self.rules.threshold:
                message = self.channel.post(diagnosis, key, retried)
                self.storms.save(storm)
                return message
            if storm.summary is None:
                drawn = self.storms.full(storm)
                storm.summary = self.channel.post_summary(
                    drawn, shared_cause(drawn.entries), f"storm|{scope}|{entry.fired_at}"
                )
                storm.updated_at = self.clock()
                self.storms.opened(scope)
            first_of_function = _needs_reply(storm.replies.get(entry.function), self.clock()) and (
                entry.function in storm.replies or len(storm.replies) < MAX_REPLIES
            )
            if first_of_function:  # this attempt posts it; the function's other alarms do not
                pending = f"{PENDING}{self.clock()}"
                storm.replies[entry.function] = AlarmMessage(storm.summary.channel, pending, [])
            self._redraw(storm)
            self.storms.save(storm)
        if first_of_function:
            # One reply per function in the thread, its first alarm's diagnosis; posted outside
            # the hold, so the storm's other alarms do not wait on Slack's rate limit.
            reply = self.channel.function_reply(storm, entry.function, diagnosis, key, retried)
            with self.storms.hold(scope, attempt, deadline):
                latest = self.storms.get(scope) or storm
                latest.replies[entry.function] = reply
                self.storms.save(latest)
        if storm.dirty:
            self._flush_later(scope, attempt, deadline)
        return None

    def resolve(self, alarm: Alarm, attempt: str, deadline: float) -> None:
        """An alarm of a storm is back to OK: counted in the summary."""
        scope = alarm.account or "-"
        with self.storms.hold(scope, attempt, deadline):
            storm = self.storms.get(scope)
            if storm is None:
                return
            self.storms.resolve(storm, alarm.arn, alarm.time.timestamp())
            self._redraw(storm)
            self.storms.save(storm)
        if storm.dirty:
            self._flush_later(scope, attempt, deadline)

    def acknowledge(
        self, scope: str, user: str, attempt: str, deadline: float
    ) -> dict[str, Any] | None:
        """Mark the storm as someone's and redraw its summary; the earlier ack if there was one
        (then nothing changes). Raises LookupError when there is no storm summary."""
        with self.storms.hold(scope, attempt, deadline):
            storm = self.storms.get(scope)
            if storm is None or storm.summary is None:
                raise LookupError(scope)
            if storm.ack:
                return storm.ack
            storm.ack = {"user": user, "at": self.clock()}
            drawn = self.storms.full(storm)
            self.channel.update_summary(drawn, shared_cause(drawn.entries))
            storm.updated_at, storm.dirty = self.clock(), False
            self.storms.save(storm)
        return None

    def _redraw(self, storm: StormRecord) -> None:
        if storm.summary is None:
            return
        if self.clock() - storm.updated_at < self.rules.redraw_s:
            storm.dirty = True
            return
        drawn = self.storms.full(storm)
        self.channel.update_summary(drawn, shared_cause(drawn.entries))
        storm.updated_at, storm.dirty = self.clock(), False

    def _flush_later(self, scope: str, attempt: str, deadline: float) -> None:
        """Redraw a summary left behind by coalescing: one attempt waits for it, the rest go on."""
        with self.storms.hold(scope, attempt, deadline):
            storm = self.storms.get(scope)
            now = self.clock()
            if storm is None or not storm.dirty or storm.flush_at > now:
                return  # drawn already, or another attempt will
            due = storm.updated_at + self.rules.redraw_s
            if due + 1 >= deadline:
                return  # the next alarm of the storm, or a recovery, redraws it
            storm.flush_at = due
            self.storms.save(storm)
        self.storms.sleep(max(0.0, due - self.clock()))
        with self.storms.hold(scope, attempt, deadline):
            storm = self.storms.get(scope)
            if storm is not None and storm.dirty:
                self._redraw(storm)
                self.storms.save(storm)
