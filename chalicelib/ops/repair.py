"""Records that fell behind what was done: an action left `executing` is settled when read.

A change whose final write to the action log failed (the change was made, the record was not) or
whose invocation was killed mid-way stays `executing`. Once it has been so for longer than its
kind can run, the next read asks the kind what AWS shows: the change in place → `done`
(recorded on repair), else `failed` with what the kind knows. Nothing is re-run.
"""

from __future__ import annotations

import logging

from chalicelib.ops import actions
from chalicelib.ops.actions import Executed
from chalicelib.ops.context import OpsContext
from chalicelib.store.actions import Action

log = logging.getLogger(__name__)


def stuck(action: Action, ctx: OpsContext) -> bool:
    if action.status != "executing":
        return False
    kind = actions.registry().get(action.kind)
    since = action.at.get("executing", action.created)
    return kind is not None and ctx.log.clock() - since > kind.runs_for


def settled(action: Action, ctx: OpsContext) -> Action:
    """`action`, repaired when it is stuck; as it was when it is not (or cannot be read now)."""
    if not stuck(action, ctx):
        return action
    kind = actions.registry()[action.kind]
    ctx = ctx.scoped(action.account or None, action.region or None)  # where it was made
    try:
        seen = kind.observed(action, ctx)
        if isinstance(seen, Executed):
            repaired = ctx.log.transition(
                action, "done", result=seen.result, outcome=f"{seen.outcome} (recorded on repair)"
            )
        else:
            repaired = ctx.log.transition(action, "failed", outcome=seen)
    except Exception:
        log.warning("could not repair the record of action %s", action.id, exc_info=True)
        return action
    return repaired or ctx.log.get(action.id) or action
