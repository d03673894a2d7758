"""The kinds of change `/ops` can make, one module each, found by kind.

A kind plans a change from a parsed command (reading AWS, checking guardrails, changing nothing),
executes a confirmed plan, plans its own undo, and says what it did. A new kind is a new module
here that defines `KIND`, plus its grammar entry; the lifecycle finds it by itself.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib import markup
from chalicelib.errors import Refused
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.ops.outcomes import FollowUp
from chalicelib.store.actions import Action, Codec

__all__ = [
    "NOT_APPLIED",
    "ActionKind",
    "Executed",
    "FollowUp",
    "Proposal",
    "Undoable",
    "changed_since",
    "codecs",
    "for_verb",
    "registry",
]


NOT_APPLIED = "not applied: found unchanged when its record was repaired"


@dataclass(frozen=True)
class Proposal:
    """A planned change: what it acts on, what it will do, and what could go wrong."""

    target: str  # the function or queue (authorisation and history go by it)
    summary: str
    plan: Any  # the kind's plan dataclass
    risks: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # shown in the preview, not stored
    # Other functions the change acts on: each is authorised too, and `narrow` drops the refused.
    also_acts_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Executed:
    result: Any  # the kind's result dataclass
    outcome: str = "ok"  # or "partial", or what a follow-up did


class ActionKind(Protocol):
    kind: str
    verbs: tuple[str, ...]  # grammar verbs this kind plans
    codec: Codec
    runs_for: float  # seconds an execution can take: `executing` for longer means it stopped

    def plan(self, command: Command, ctx: OpsContext) -> Proposal: ...
    def recheck(self, action: Action, ctx: OpsContext) -> None:
        """At Confirm, before anything runs: raise Drifted when what the preview read is no
        longer the live value, Refused when a guardrail refuses now."""
        ...

    def execute(self, action: Action, ctx: OpsContext) -> Executed: ...
    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        """The plan that puts back what `action` changed; Refused when it cannot be undone."""
        ...

    def result_text(self, action: Action) -> str:
        """What the executed action did, after "<who> ran <command>: "."""
        ...

    def follow_up(self, action: Action) -> FollowUp | None: ...

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        """For an action whose record stopped at `executing`: what AWS shows it did (Executed),
        or why it is taken as failed."""
        ...

    def narrow(self, proposal: Proposal, refused: dict[str, str]) -> Proposal:
        """The proposal without what the proposer may not touch (name -> why); Refused if nothing
        is left to do."""
        ...

    def acts_on(self, action: Action) -> list[str]:
        """The functions a proposed `action` acts on besides its target: whoever confirms it
        other than its proposer must be allowed each."""
        ...


class Undoable:
    """The common case: the result is what the preview said, and Undo plans the way back."""

    runs_for = 60.0  # one AWS call (with botocore's retries)

    def result_text(self, action: Action) -> str:
        return action.summary

    def follow_up(self, action: Action) -> FollowUp | None:
        return "undo"

    def narrow(self, proposal: Proposal, refused: dict[str, str]) -> Proposal:
        raise Refused(f"{next(iter(refused.values()))}; nothing was changed.")

    def acts_on(self, action: Action) -> list[str]:
        return []


def changed_since(
    action: Action, ctx: OpsContext, what: str, now: str, left: str, redo: str
) -> Refused:
    """The refusal of an undo that would silently discard a change made after `action`."""
    newer = next(
        (
            a
            for a in ctx.log.history(action.target, limit=20)
            if a.status == "done" and a.id != action.id and a.created > action.created
        ),
        None,
    )
    by = (
        f"by {markup.code(newer.id)} ({markup.user(newer.confirmed_by)}: {markup.code(newer.command)})"
        if newer
        else "outside Shepherd (no later action of Shepherd's changed it)"
    )
    return Refused(
        f"{what} is {now} now, not {left} as {markup.code(action.id)} left it: it was changed since, {by}. "
        f"Undoing would discard that newer change; to set it anyway: {markup.code(redo)}"
    )


@functools.cache
def registry() -> Mapping[str, ActionKind]:
    """Every module of this package that defines `KIND`, by kind."""
    kinds: dict[str, ActionKind] = {}
    for module in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if kind is not None:
            kinds[kind.kind] = kind
    return kinds


def for_verb(verb: str) -> ActionKind:
    return next(k for k in registry().values() if verb in k.verbs)


def codecs() -> Mapping[str, Codec]:
    return {name: kind.codec for name, kind in registry().items()}
