"""A function's memory and timeout: `memory <function> <MB>`, `timeout <function> <seconds>`.

Both change `$LATEST` with UpdateFunctionConfiguration and the RevisionId the preview read, so a
change made in between refuses the update. A published version never changes: where the function
is served through an alias on one, the preview says so and what publishing would take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib import markup
from chalicelib.aws.arns import queue_url
from chalicelib.aws.cloudwatch import MetricQuery
from chalicelib.aws.errors import AwsError
from chalicelib.aws.lambda_ import FunctionConfig
from chalicelib.aws.limits import MEMORY_MB, SQS_VISIBILITY_FACTOR, TIMEOUT_S, monthly_cost
from chalicelib.errors import Drifted, Refused
from chalicelib.ops import lookups
from chalicelib.ops.actions import NOT_APPLIED, Executed, Proposal, Undoable, changed_since
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

COST_LOOKBACK = timedelta(days=7)  # the usage a memory change's monthly cost is estimated from
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class SettingPlan:
    function: str
    before: int
    target: int
    revision: str | None  # the function as read: a change made since refuses the update


@dataclass(frozen=True)
class SettingResult:
    value: int


class Setting(Undoable):
    """One number of a function's configuration."""

    def __init__(self, kind: str, field: str, unit: str, limits: tuple[int, int]) -> None:
        self.kind = kind
        self.verbs = (kind,)
        self.field = field  # FunctionConfig's attribute
        self.unit = unit
        self.limits = limits
        self.codec = Codec(SettingPlan, SettingResult)

    def current(self, config: FunctionConfig) -> int:
        return int(getattr(config, self.field) or 0)

    def shown(self, value: int) -> str:
        return f"{value} {self.unit}"

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        config = ctx.lam.settled(lookups.function(ctx.lam, command.target or ""))
        return self._to(config, int(command.number or 0), ctx, "{} of *{}*:")

    def _to(self, config: FunctionConfig, target: int, ctx: OpsContext, head: str) -> Proposal:
        low, high = self.limits
        if not low <= target <= high:
            raise Refused(f"Lambda takes a {self.kind} from {low} to {high} {self.unit}")
        before = self.current(config)
        if before == target:
            raise Refused(f"*{config.name}* already has {self.shown(target)}; nothing to change")
        risks = self.risks(config, target, ctx)
        title = head.format(self.kind.capitalize(), config.name)
        return Proposal(
            target=config.name,
            summary=f"{title} {self.shown(before)} → {self.shown(target)}",
            plan=SettingPlan(config.name, before, target, config.revision),
            risks=risks,
            details=[*self.details(config, target, ctx), *published_note(config, ctx)],
        )

    def risks(self, config: FunctionConfig, target: int, ctx: OpsContext) -> list[str]:
        return []

    def details(self, config: FunctionConfig, target: int, ctx: OpsContext) -> list[str]:
        return []

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        plan: SettingPlan = action.plan
        # An update in progress (a runbook's previous step) is waited out first: Lambda refuses
        # another until it completes, and its RevisionId moves again when it does.
        config = ctx.lam.settled(ctx.lam.function(plan.function))
        now = self.current(config)
        if now != plan.before or (plan.revision and config.revision != plan.revision):
            raise Drifted(
                f"*{plan.function}* changed since the preview (its {self.kind} is "
                f"{self.shown(now)}; the preview read {self.shown(plan.before)})"
            )
        self.risks(config, plan.target, ctx)  # a guardrail that refuses now raises

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        plan: SettingPlan = action.plan
        change = {self.field: plan.target}
        done = ctx.lam.configure(plan.function, plan.revision, **change)
        return Executed(SettingResult(self.current(done)))

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        plan: SettingPlan = action.plan
        now = self.current(ctx.lam.function(plan.function))
        return Executed(SettingResult(now)) if now == plan.target else NOT_APPLIED

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        plan: SettingPlan = action.plan
        left = action.result.value if action.result else plan.target
        config = ctx.lam.settled(ctx.lam.function(plan.function))
        now = self.current(config)
        if now != left:
            redo = f"/ops {self.kind} {plan.function} {plan.before}"
            what = f"the {self.kind} of *{plan.function}*"
            raise changed_since(action, ctx, what, self.shown(now), self.shown(left), redo)
        return self._to(config, plan.before, ctx, f"Undo {markup.code(action.id)}: {{}} of *{{}}*:")


class Memory(Setting):
    def __init__(self) -> None:
        super().__init__("memory", "memory_mb", "MB", MEMORY_MB)

    def details(self, config: FunctionConfig, target: int, ctx: OpsContext) -> list[str]:
        return [cost_change(config, target, ctx)]


class Timeout(Setting):
    def __init__(self) -> None:
        super().__init__("timeout", "timeout_s", "s", TIMEOUT_S)

    def risks(self, config: FunctionConfig, target: int, ctx: OpsContext) -> list[str]:
        """Refused above an SQS source's visibility timeout: a message still being handled would
        become visible again and be handled twice."""
        notes = []
        for mapping in ctx.lam.event_source_mappings(function=config.name):
            if ":sqs:" not in mapping.source_arn:
                continue
            queue = mapping.source_arn.rsplit(":", 1)[-1]
            visibility = ctx.sqs.visibility_timeout(
                mapping.source_arn, url=queue_url(mapping.source_arn)
            )
            if visibility is None:
                notes.append(f"could not read the visibility timeout of {markup.code(queue)}")
                continue
            if target > visibility:
                raise Refused(
                    f"a {target} s timeout is above the {visibility} s visibility timeout of "
                    f"{markup.code(queue)}, which feeds *{config.name}*: its messages would be handled "
                    f"twice. Raise the queue's visibility timeout first (AWS advises "
                    f"{SQS_VISIBILITY_FACTOR}× the function timeout: {SQS_VISIBILITY_FACTOR * target} s)"
                )
            if visibility < SQS_VISIBILITY_FACTOR * target:
                notes.append(
                    f"{markup.code(queue)}'s visibility timeout ({visibility} s) is under "
                    f"{SQS_VISIBILITY_FACTOR}× {target} s: retried batches may be handled twice"
                )
        return notes


def cost_change(config: FunctionConfig, target: int, ctx: OpsContext) -> str:
    """The monthly cost change at the last week's invocations and durations."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    queries = [
        MetricQuery("n", "AWS/Lambda", "Invocations", {"FunctionName": config.name}, "Sum"),
        MetricQuery("ms", "AWS/Lambda", "Duration", {"FunctionName": config.name}, "Average"),
    ]
    try:
        series = ctx.cloudwatch.series(queries, end - COST_LOOKBACK, end, period=86400)
    except AwsError as exc:
        return f"Monthly cost change: not estimated (CloudWatch: {exc.code})"
    days = dict(series.get("n", []))
    durations = dict(series.get("ms", []))
    invocations = sum(days.values())
    if not invocations:
        return "Monthly cost change: none measurable (no invocations in the last 7 days)"
    busy_ms = sum(n * durations.get(day, 0.0) for day, n in days.items())
    seconds_per_month = busy_ms / 1000 * DAYS_PER_MONTH / COST_LOOKBACK.days
    delta_gb = (target - int(config.memory_mb or 0)) / 1024
    change = monthly_cost(seconds_per_month * delta_gb, config.architecture)
    sign = "+" if change >= 0 else "−"
    return (
        f"Monthly cost change: about {sign}${abs(change):,.2f} at the last 7 days' "
        f"{invocations:,.0f} invocations and their durations ({config.architecture}, "
        "on-demand price; more memory also means more CPU, which often shortens them)"
    )


def published_note(config: FunctionConfig, ctx: OpsContext) -> list[str]:
    """Where aliases serve published versions, the change reaches them only once published."""
    try:
        aliases = ctx.lam.aliases(config.name)
    except AwsError:
        return []
    pinned = {a: v for a, v in aliases.items() if v != "$LATEST"}
    if not pinned:
        return []
    names = ", ".join(f"{markup.code(a)} → v{v}" for a, v in sorted(pinned.items()))
    first = sorted(pinned)[0]
    return [
        f"This changes `$LATEST` only. Traffic through {names} keeps the published version's "
        f"setting until a new version is published (`aws lambda publish-version "
        f"--function-name {config.name}`) and the alias moved to it "
        f"(`/ops alias {config.name} {first} to <version>`)."
    ]
