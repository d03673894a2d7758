"""What Shepherd's Home tab shows, read from the state table: what is open and who is on it,
what is snoozed, what was changed in the last day, what the last audit found."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.arns import alarm_name
from chalicelib.store.actions import Action, ActionLog
from chalicelib.store.alarm_states import AlarmStates
from chalicelib.store.audit_runs import AuditRuns
from chalicelib.store.snoozes import Snooze, Snoozes
from chalicelib.store.storms import OPEN_PREFIX, Storms

RECENT_S = 24 * 3600
ACTIONS_READ = 50


@dataclass(frozen=True)
class OpenAlarm:
    name: str
    arn: str
    fired_at: float
    ack: dict[str, Any] | None
    channel: str
    ts: str
    reminders: int = 0


@dataclass(frozen=True)
class OpenStorm:
    scope: str
    alarms: int
    functions: int
    open: int  # not yet back to OK
    since: float
    ack: dict[str, Any] | None
    channel: str
    ts: str


@dataclass
class HomeFacts:
    now: float
    alarms: list[OpenAlarm] = field(default_factory=list)
    storms: list[OpenStorm] = field(default_factory=list)
    snoozes: list[Snooze] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)  # of the last 24 h, newest first
    undoable: set[str] = field(default_factory=set)  # ids of those that can be undone
    audit: dict[str, Any] | None = None


def read(
    states: AlarmStates,
    storms: Storms,
    snoozes: Snoozes,
    log: ActionLog,
    audits: AuditRuns,
    undoable: Callable[[Action], bool],
    clock: Callable[[], float] = time.time,
) -> HomeFacts:
    now = clock()
    facts = HomeFacts(now, snoozes=snoozes.listed(), audit=audits.last_run())
    pointers = states.open_arns()
    alarm_arns = [a for a in pointers if not a.startswith(OPEN_PREFIX)]
    for arn, r in sorted(states.get_many(alarm_arns).items(), key=lambda kv: kv[1].changed_at):
        if r.state == "ALARM" and r.message is not None and r.fired_at is not None:
            facts.alarms.append(
                OpenAlarm(
                    alarm_name(arn),
                    arn,
                    r.fired_at,
                    r.extra.get("ack"),
                    r.message.channel,
                    r.message.ts,
                    int(r.extra.get("reminders", 0)),
                )
            )
    for pointer in pointers:
        if not pointer.startswith(OPEN_PREFIX):
            continue
        head = storms.get(pointer[len(OPEN_PREFIX) :])
        if head is None or head.summary is None or not head.entries:
            continue
        storm = storms.full(head)  # Home is opened by a person, not per alarm: read them all
        unresolved = sum(not e.resolved for e in storm.entries)
        if unresolved:
            facts.storms.append(
                OpenStorm(
                    storm.scope,
                    storm.count,
                    storm.functions,
                    unresolved,
                    min(e.fired_at for e in storm.entries),
                    storm.ack,
                    head.summary.channel,
                    head.summary.ts,
                )
            )
    recent = [a for a in log.history(None, ACTIONS_READ) if now - a.created <= RECENT_S]
    facts.actions = recent
    facts.undoable = {a.id for a in recent if undoable(a)}
    return facts
