"""Alias moves: `to <version>`, `rollback`, `canary <version> <percent>`, always with RevisionId."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib import markup
from chalicelib.aws.lambda_ import AliasState
from chalicelib.errors import Drifted, Refused, UsageError
from chalicelib.ops import lookups
from chalicelib.ops.actions import NOT_APPLIED, Executed, Proposal, Undoable, changed_since
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

HISTORY_LOOKBACK = 50  # actions read to find where a rollback goes


@dataclass(frozen=True)
class AliasPlan:
    function: str
    alias: str
    from_version: str
    to_version: str
    from_weights: dict[str, float] = field(default_factory=dict)
    to_weights: dict[str, float] = field(default_factory=dict)
    revision: str | None = None  # the alias as read: a concurrent move makes the update fail


@dataclass(frozen=True)
class AliasResult:
    version: str
    weights: dict[str, float] = field(default_factory=dict)


def shown(version: str, weights: dict[str, float]) -> str:
    return f"v{version}" + "".join(f" (+{float(w):.0%} to v{v})" for v, w in weights.items())


class AliasMove(Undoable):
    kind = "alias"
    verbs = ("alias_to", "rollback", "canary")
    codec = Codec(AliasPlan, AliasResult)

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        function, alias = command.target or "", command.alias or ""
        lookups.function(ctx.lam, function)
        now = lookups.alias(ctx.lam, function, alias)
        risks: list[str] = []
        weights: dict[str, float] = {}
        if command.verb == "rollback":
            version = self._rollback_target(ctx, function, alias, now.version)
        elif command.verb == "canary":
            version = now.version
            if command.version == version:
                raise UsageError(
                    f"version {command.version} already takes the alias's main traffic"
                )
            lookups.published(ctx.lam, function, command.version or "")
            if command.number:
                weights = {command.version or "": command.number / 100}
            risks.append(
                f"{command.number}% of {markup.code(alias)} traffic goes to version {command.version}"
            )
        else:
            version = lookups.published(ctx.lam, function, command.version or "")
        return self._move(function, alias, now, version, weights, risks, "Alias *{}*:")

    @staticmethod
    def _move(
        function: str,
        alias: str,
        now: AliasState,
        version: str,
        weights: dict[str, float],
        risks: list[str],
        head: str,
    ) -> Proposal:
        return Proposal(
            target=function,
            summary=f"{head.format(f'{function}:{alias}')} "
            f"{shown(now.version, now.weights)} → {shown(version, weights)}",
            plan=AliasPlan(
                function, alias, now.version, version, now.weights, weights, now.revision
            ),
            risks=risks,
        )

    def _rollback_target(self, ctx: OpsContext, function: str, alias: str, current: str) -> str:
        """Where Shepherd's own record says the alias was, else the previous published version."""
        for past in ctx.log.history(function, limit=HISTORY_LOOKBACK):
            plan = past.plan
            if (
                isinstance(plan, AliasPlan)
                and plan.alias == alias
                and past.status == "done"
                and isinstance(past.result, AliasResult)
                and past.result.version == current
                and plan.from_version != current
            ):
                return plan.from_version
        versions = [int(v.version) for v in ctx.lam.versions(function) if v.version.isdigit()]
        older = [v for v in versions if current.isdigit() and v < int(current)]
        if not older:
            raise Refused(f"no published version older than v{current} to roll back to")
        return str(max(older))

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        p: AliasPlan = action.plan
        now = lookups.alias(ctx.lam, p.function, p.alias)
        if (now.version, now.weights) != (p.from_version, p.from_weights):
            raise Drifted(
                f"alias *{p.function}:{p.alias}* is at {shown(now.version, now.weights)} now; "
                f"the preview read {shown(p.from_version, p.from_weights)}"
            )
        if p.revision and now.revision != p.revision:
            raise Drifted(f"alias *{p.function}:{p.alias}* was updated since the preview")

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        p: AliasPlan = action.plan
        moved = ctx.lam.move_alias(p.function, p.alias, p.to_version, p.to_weights, p.revision)
        return Executed(AliasResult(moved.version, moved.weights))

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        p: AliasPlan = action.plan
        now = lookups.alias(ctx.lam, p.function, p.alias)
        if (now.version, now.weights) == (p.to_version, p.to_weights):
            return Executed(AliasResult(now.version, now.weights))
        return NOT_APPLIED

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        p: AliasPlan = action.plan
        now = lookups.alias(ctx.lam, p.function, p.alias)
        left: AliasResult = action.result or AliasResult(p.to_version, p.to_weights)
        if (now.version, now.weights) != (left.version, left.weights):
            redo = f"/ops alias {p.function} {p.alias} to {p.from_version}"
            raise changed_since(
                action,
                ctx,
                f"alias *{p.function}:{p.alias}*",
                shown(now.version, now.weights),
                shown(left.version, left.weights),
                redo,
            )
        head = f"Undo {markup.code(action.id)}: alias *{{}}*"
        return self._move(p.function, p.alias, now, p.from_version, p.from_weights, [], head)


KIND = AliasMove()
