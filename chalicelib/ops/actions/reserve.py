"""Reserved concurrency: `reserve N` (0 is the kill switch) and `unreserve`."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.ops import guardrails, lookups
from chalicelib.ops.actions import Executed, Proposal, Undoable
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

    def _to(self, function: str, target: int | None, ctx: OpsContext, head: str) -> Proposal:
        current = ctx.lam.reserved(function)
        return Proposal(
            target=function,
            summary=f"{head.format(function)} {shown(current)} → {shown(target)}",
            plan=ReservePlan(function, current, target),
            risks=guardrails.reserve_risks(ctx.lam, current, target),
        )

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        plan: ReservePlan = action.plan
        ctx.lam.set_reserved(plan.function, plan.target)
        return Executed(ReserveResult(ctx.lam.reserved(plan.function)))

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        plan: ReservePlan = action.plan
        head = f"Undo `{action.id}`: reserved concurrency of *{{}}*"
        return self._to(plan.function, plan.before, ctx, head)


KIND = Reserve()
