"""Provisioned concurrency on an alias: `provision N --alias A` and `unprovision --alias A`."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.aws.errors import AwsError
from chalicelib.errors import Refused, UpstreamFailure, UsageError
from chalicelib.ops import guardrails, lookups
from chalicelib.ops.actions import Executed, Proposal, Undoable
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

BILLED = "provisioned concurrency is billed for every second it stays allocated, used or not"


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
        lookups.function(ctx.lam, function)
        target = command.number if command.verb == "provision" else None
        return self._to(ctx, function, command.alias or "", target, "")

    def _to(
        self, ctx: OpsContext, function: str, alias: str, target: int | None, head: str
    ) -> Proposal:
        lookups.alias(ctx.lam, function, alias)  # provisioned concurrency only on an alias
        try:
            config = ctx.lam.provisioned(function, alias)
        except AwsError as exc:
            raise UpstreamFailure(
                "lambda",
                f"could not read the provisioned concurrency of {function}:{alias}; nothing was changed",
                exc.code,
            ) from exc
        current = config.requested if config else None
        if target is None and current is None:
            raise UsageError(f"*{function}:{alias}* has no provisioned concurrency")
        risks: list[str] = []
        if target:
            reserved = ctx.lam.reserved(function)
            if reserved is not None and target > reserved:
                raise Refused(
                    f"{target} provisioned is more than *{function}*'s reserved concurrency "
                    f"({reserved}); raise the reservation first"
                )
            if reserved is None:
                risks += guardrails.pool_risks(ctx.lam, target - (current or 0), "provisioned")
            risks.append(BILLED)
        return Proposal(
            target=function,
            summary=f"{head}Provisioned concurrency of *{function}:{alias}*: "
            f"{shown(current)} → {shown(target)}",
            plan=ProvisionPlan(function, alias, current, target),
            risks=risks,
        )

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        p: ProvisionPlan = action.plan
        if p.target is None:
            ctx.lam.unprovision(p.function, p.alias)
            return Executed(ProvisionResult(None))
        config = ctx.lam.provision(p.function, p.alias, p.target)
        return Executed(ProvisionResult(config.requested, config.status))

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        p: ProvisionPlan = action.plan
        return self._to(ctx, p.function, p.alias, p.before, f"Undo `{action.id}`: ")


KIND = Provision()
