"""`/ops snooze <alarm> <duration>`: a CloudWatch alarm mute rule with a one-time window.

The alarm keeps evaluating and the console shows the mute; its SNS actions are muted by
CloudWatch, and Shepherd skips its EventBridge deliveries by its own record (store/snoozes.py).
The rule expires by itself; Undo deletes it (or puts back the snooze it replaced).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib import markup
from chalicelib.errors import Drifted, UsageError
from chalicelib.ops.actions import NOT_APPLIED, Executed, Proposal, Undoable, changed_since
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command, snooze_seconds
from chalicelib.store.actions import Action, Codec
from chalicelib.store.snoozes import Snooze as SnoozeRecord

MORNING = 9  # `tomorrow`: until 09:00 the next day, in SHEPHERD_TIMEZONE


@dataclass(frozen=True)
class SnoozePlan:
    alarm: str
    arn: str
    rule: str
    until: float | None  # epoch seconds; None: no snooze (delete the rule)
    before: float | None  # the rule's expiry as read (None: none running)


@dataclass(frozen=True)
class SnoozeResult:
    until: float | None


def rule_name(alarm: str) -> str:
    """One rule per alarm, so a new snooze replaces the last: readable, and unique by a hash."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", alarm)[:200].strip("-")
    digest = hashlib.sha256(alarm.encode()).hexdigest()[:8]
    return f"shepherd-snooze-{readable}-{digest}"


def until_for(text: str, now: datetime, timezone: str) -> datetime:
    """When a snooze given as `4h` or `tomorrow` ends (UTC)."""
    seconds = snooze_seconds(text)
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    morning = (local + timedelta(days=1)).replace(hour=MORNING, minute=0, second=0, microsecond=0)
    return morning.astimezone(UTC)


def shown(until: float | None) -> str:
    if until is None:
        return "not snoozed"
    return f"muted until {datetime.fromtimestamp(until, UTC):%Y-%m-%d %H:%M} UTC"


class Snooze(Undoable):
    kind = "snooze"
    verbs = ("snooze",)
    codec = Codec(SnoozePlan, SnoozeResult)

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        alarm = command.target or ""
        arn = ctx.mute_rules.alarm_arn(alarm)
        if arn is None:
            region = ctx.region or ctx.aws.region
            raise UsageError(
                f"no alarm {markup.code(alarm)} in {region} of this account (another region: "
                "`--region <region>`; a member account: `--account <name>`)"
            )
        now = datetime.now(UTC)
        until = until_for(command.options.get("for", "1h"), now, ctx.timezone).timestamp()
        return self._to(alarm, arn, until, ctx, "Snooze")

    def _to(
        self, alarm: str, arn: str, until: float | None, ctx: OpsContext, head: str
    ) -> Proposal:
        rule = rule_name(alarm)
        before = self._expiry(ctx, rule)
        details = [
            "A CloudWatch mute rule: the alarm keeps evaluating and shows in the console as "
            "muted; its actions (SNS) are muted, and Shepherd holds its EventBridge deliveries. "
            "It ends by itself."
            if until is not None
            else "The mute rule is deleted: the alarm's actions run again at once."
        ]
        if before is not None and until is not None:
            details.append(f"It replaces the snooze running now ({shown(before)}).")
        return Proposal(
            target=alarm,
            summary=f"{head} *{alarm}*: {shown(before)} → {shown(until)}",
            plan=SnoozePlan(alarm, arn, rule, until, before),
            details=details,
        )

    def _expiry(self, ctx: OpsContext, rule: str) -> float | None:
        found = ctx.mute_rules.get(rule)
        if found is None or found.status == "EXPIRED" or found.expires is None:
            return None
        return found.expires.timestamp()

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        plan: SnoozePlan = action.plan
        now = self._expiry(ctx, plan.rule)
        if not _same(now, plan.before):
            raise Drifted(
                f"the snooze of *{plan.alarm}* changed since the preview ({shown(now)}; "
                f"the preview read {shown(plan.before)})"
            )

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        plan: SnoozePlan = action.plan
        if plan.until is None:
            ctx.mute_rules.delete(plan.rule)
            if ctx.snoozes is not None:
                ctx.snoozes.remove(plan.arn)
            return Executed(SnoozeResult(None))
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        end = datetime.fromtimestamp(plan.until, UTC)
        tags = {"shepherd-action": action.id, "shepherd-user": action.user}
        ctx.mute_rules.put(plan.rule, plan.alarm, start, end, tags)
        if ctx.snoozes is not None:
            ctx.snoozes.put(
                SnoozeRecord(plan.arn, plan.alarm, plan.until, action.id, action.user, plan.rule)
            )
        return Executed(SnoozeResult(plan.until))

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        plan: SnoozePlan = action.plan
        now = self._expiry(ctx, plan.rule)
        return Executed(SnoozeResult(now)) if _same(now, plan.until) else NOT_APPLIED

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        plan: SnoozePlan = action.plan
        left = action.result.until if action.result else plan.until
        now = self._expiry(ctx, plan.rule)
        if not _same(now, left) and not (
            left is not None and left <= datetime.now(UTC).timestamp()
        ):
            redo = f'/ops snooze "{plan.alarm}" <duration>'
            what = f"the snooze of *{plan.alarm}*"
            raise changed_since(action, ctx, what, shown(now), shown(left), redo)
        back = plan.before if plan.before and plan.before > datetime.now(UTC).timestamp() else None
        return self._to(
            plan.alarm, plan.arn, back, ctx, f"Undo {markup.code(action.id)}: snooze of"
        )


def _same(a: float | None, b: float | None) -> bool:
    """Expiries as CloudWatch keeps them (to the second)."""
    return (a is None) == (b is None) and (a is None or abs(a - (b or 0)) < 60)


KIND = Snooze()
