"""Provisioned concurrency on an alias: `provision N --alias A` and `unprovision --alias A`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import markup
from chalicelib.aws.errors import AwsError
from chalicelib.aws.lambda_ import FunctionConfig
from chalicelib.errors import Drifted, Refused, UpstreamFailure, UsageError
from chalicelib.ops import guardrails, lookups
from chalicelib.ops.actions import NOT_APPLIED, Executed, Proposal, Undoable, changed_since
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

BILLED = "provisioned concurrency is billed for every second it stays allocated, used or not"


def _billed(config: FunctionConfig, current: int | None, target: int) -> str:
    """What the change does to the month's bill, by the function's memory (an estimate)."""
    from chalicelib.aws.limits import provisioned_monthly_cost

    if not config.memory_mb:
        return BILLED
    change = provisioned_monthly_cost(
        target - (current or 0), config.memory_mb, config.architecture
    )
    return (
        f"{BILLED}: about {'+' if change >= 0 else '−'}${abs(change):,.2f} a month for "
        f"{target - (current or 0):+d} × {config.memory_mb} MB ({config.architecture}, "
        "us-east-1 price, an estimate)"
    )


@dataclass(frozen=True)
class ProvisionPlan:
    function: str
    alias: str
    before: int | None
    target: int | None


@dataclass(frozen=True)
class ProvisionResult:
    provisioned: int | None
    status: str | None = None


def shown(value: int | None) -> str:
    return "none" if value is None else str(value)


class Provision(Undoable):
    kind = "provisioned"
    verbs = ("provision", "unprovision")
    codec = Codec(ProvisionPlan, ProvisionResult)

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        function = command.target or ""
        config = lookups.function(ctx.lam, function)
        target = command.number if command.verb == "provision" else None
        return self._to(ctx, function, command.alias or "", target, "", config=config)

    def _to(
        self,
        ctx: OpsContext,
        function: str,
        alias: str,
        target: int | None,
        head: str,
        check: Callable[[int | None], None] | None = None,
        config: FunctionConfig | None = None,
    ) -> Proposal:
        lookups.alias(ctx.lam, function, alias)  # provisioned concurrency only on an alias
        current = self._current(ctx, function, alias)
        if check:
            check(current)
        if target is None and current is None:
            raise UsageError(f"*{function}:{alias}* has no provisioned concurrency")
        return Proposal(
            target=function,
            summary=f"{head}Provisioned concurrency of *{function}:{alias}*: "
            f"{shown(current)} → {shown(target)}",
            plan=ProvisionPlan(function, alias, current, target),
            risks=self._risks(ctx, function, current, target, config),
        )

    @staticmethod
    def _current(ctx: OpsContext, function: str, alias: str) -> int | None:
        try:
            config = ctx.lam.provisioned(function, alias)
        except AwsError as exc:
            raise UpstreamFailure(
                "lambda",
                f"could not read the provisioned concurrency of {function}:{alias}; nothing was changed",
                exc.code,
            ) from exc
        return config.requested if config else None

    @staticmethod
    def _risks(
        ctx: OpsContext,
        function: str,
        current: int | None,
        target: int | None,
        config: FunctionConfig | None = None,
    ) -> list[str]:
        if not target:
            return []
        risks: list[str] = []
        reserved = ctx.lam.reserved(function)
        if reserved is not None and target > reserved:
            raise Refused(
                f"{target} provisioned is more than *{function}*'s reserved concurrency "
                f"({reserved}); raise the reservation first"
            )
        if reserved is None:
            risks += guardrails.pool_risks(ctx.lam, target - (current or 0), "provisioned")
        return [*risks, _billed(config, current, target) if config else BILLED]

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        p: ProvisionPlan = action.plan
        now = self._current(ctx, p.function, p.alias)
        if now != p.before:
            raise Drifted(
                f"provisioned concurrency of *{p.function}:{p.alias}* is {shown(now)} now; "
                f"the preview read {shown(p.before)}"
            )
        self._risks(ctx, p.function, now, p.target)

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        p: ProvisionPlan = action.plan
        if p.target is None:
            ctx.lam.unprovision(p.function, p.alias)
            return Executed(ProvisionResult(None))
        config = ctx.lam.provision(p.function, p.alias, p.target)
        return Executed(ProvisionResult(config.requested, config.status))

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        p: ProvisionPlan = action.plan
        now = self._current(ctx, p.function, p.alias)
        return Executed(ProvisionResult(now)) if now == p.target else NOT_APPLIED

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        p: ProvisionPlan = action.plan
        left = action.result.provisioned if action.result else p.target

        def unchanged_since(now: int | None) -> None:
            if now != left:
                redo = f"/ops concurrency {p.function} " + (
                    f"unprovision --alias {p.alias}"
                    if p.before is None
                    else f"provision {p.before} --alias {p.alias}"
                )
                what = f"provisioned concurrency of *{p.function}:{p.alias}*"
                raise changed_since(action, ctx, what, shown(now), shown(left), redo)

        return self._to(
            ctx, p.function, p.alias, p.before, f"Undo {markup.code(action.id)}: ", unchanged_since
        )


KIND = Provision()
