"""Reserved concurrency: `reserve N` (0 is the kill switch) and `unreserve`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import markup
from chalicelib.errors import Drifted
from chalicelib.ops import guardrails, lookups
from chalicelib.ops.actions import NOT_APPLIED, Executed, Proposal, Undoable, changed_since
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec


@dataclass(frozen=True)
class ReservePlan:
    function: str
    before: int | None  # None: shares the account's unreserved pool
    target: int | None


@dataclass(frozen=True)
class ReserveResult:
    reserved: int | None


def shown(value: int | None) -> str:
    return "unreserved" if value is None else str(value)


class Reserve(Undoable):
    kind = "reserved_concurrency"
    verbs = ("reserve", "unreserve")
    codec = Codec(ReservePlan, ReserveResult)

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        function = command.target or ""
        lookups.function(ctx.lam, function)
        target = command.number if command.verb == "reserve" else None
        return self._to(function, target, ctx, "Reserved concurrency of *{}*:")

    def _to(
        self,
        function: str,
        target: int | None,
        ctx: OpsContext,
        head: str,
        check: Callable[[int | None], None] | None = None,
    ) -> Proposal:
        current = ctx.lam.reserved(function)
        if check:
            check(current)
        return Proposal(
            target=function,
            summary=f"{head.format(function)} {shown(current)} → {shown(target)}",
            plan=ReservePlan(function, current, target),
            risks=guardrails.reserve_risks(ctx, function, current, target),
        )

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        plan: ReservePlan = action.plan
        now = ctx.lam.reserved(plan.function)
        if now != plan.before:
            raise Drifted(
                f"reserved concurrency of *{plan.function}* is {shown(now)} now; "
                f"the preview read {shown(plan.before)}"
            )
        guardrails.reserve_risks(ctx, plan.function, now, plan.target)

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        plan: ReservePlan = action.plan
        ctx.lam.set_reserved(plan.function, plan.target)
        return Executed(ReserveResult(ctx.lam.reserved(plan.function)))

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        plan: ReservePlan = action.plan
        now = ctx.lam.reserved(plan.function)
        return Executed(ReserveResult(now)) if now == plan.target else NOT_APPLIED

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        plan: ReservePlan = action.plan
        left = action.result.reserved if action.result else plan.target

        def unchanged_since(now: int | None) -> None:
            if now != left:
                redo = f"/ops concurrency {plan.function} " + (
                    "unreserve" if plan.before is None else f"reserve {plan.before}"
                )
                what = f"reserved concurrency of *{plan.function}*"
                raise changed_since(action, ctx, what, shown(now), shown(left), redo)

        head = f"Undo {markup.code(action.id)}: reserved concurrency of *{{}}*"
        return self._to(plan.function, plan.before, ctx, head, unchanged_since)


KIND = Reserve()
