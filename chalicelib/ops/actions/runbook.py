"""A runbook run: its steps are changes of their own kinds, proposed, recorded and undoable each;
the run is the one plan they are confirmed, approved and undone by (chalicelib/ops/runbook_runs.py
plans and runs it, step by step, stopping at the first that fails)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import markup
from chalicelib.errors import Refused
from chalicelib.ops.actions import Executed, FollowUp, Proposal
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec


@dataclass(frozen=True)
class RunbookPlan:
    name: str
    steps: list[str]  # the step actions' ids, in the order they run
    commands: list[str]  # each step's `/ops` command
    undoing: str | None = None  # the run whose steps these undo, in reverse


@dataclass(frozen=True)
class RunbookResult:
    lines: list[str]  # one per step: what it did, or why it did not run
    ran: list[str]  # the steps that made their change
    stopped: int | None = None  # the step it stopped at (1-based); None: every step ran


def ran(steps: list[Action]) -> list[Action]:
    return [s for s in steps if s.status == "done"]


class RunbookKind:
    kind = "runbook"
    verbs = ("runbook",)
    codec = Codec(RunbookPlan, RunbookResult)
    runs_for = 300.0  # the api_handler's timeout: every step runs within one invocation

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        raise TypeError("a runbook is planned step by step (chalicelib/ops/runbook_runs.py)")

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        """Nothing of its own: each step is re-checked as Confirm re-checks it."""

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        raise TypeError("a runbook is run step by step (chalicelib/ops/runbook_runs.py)")

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        raise TypeError("a runbook is undone step by step (chalicelib/ops/runbook_runs.py)")

    def result_text(self, action: Action) -> str:
        r: RunbookResult = action.result
        p: RunbookPlan = action.plan
        lines = "\n".join(r.lines)
        if r.stopped is None:
            if p.undoing:
                return (
                    f"undid {len(r.ran)} step(s) of {markup.code(p.undoing)}, last first:\n{lines}"
                )
            return f"ran {len(r.ran)} step(s), in order:\n{lines}"
        kept = (
            "; what ran stays in place, and *Undo runbook* undoes it"
            if r.ran
            else "; nothing was changed"
        )
        return f"stopped at step {r.stopped} of {len(p.steps)}{kept}:\n{lines}"

    def follow_up(self, action: Action) -> FollowUp | None:
        return "undo" if action.result is not None and action.result.ran else None

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        """A run whose record stopped at `executing` (its invocation was killed between steps):
        what each step's own record shows, each repaired as it is read."""
        from chalicelib.ops import repair

        p: RunbookPlan = action.plan
        steps = [ctx.log.get(i) for i in p.steps]
        known = [repair.settled(s, ctx) for s in steps if s is not None]
        for n, s in enumerate(known):
            if s.status == "proposed":  # never reached: not to be left waiting
                known[n] = (
                    ctx.log.transition(s, "cancelled", outcome="not run: the run stopped") or s
                )
        done = ran(known)
        lines = [
            f"{n}. {markup.code(s.command)} ({markup.code(s.id)}): {s.status}"
            for n, s in enumerate(known, start=1)
        ]
        if len(done) == len(p.steps):
            return Executed(RunbookResult(lines, [s.id for s in done]))
        ids = ", ".join(markup.code(s.id) for s in done) or "none"
        return f"stopped before its end (steps that ran: {ids})"

    def narrow(self, proposal: Proposal, refused: dict[str, str]) -> Proposal:
        raise Refused(f"{next(iter(refused.values()))}; nothing was changed.")

    def acts_on(self, action: Action) -> list[str]:
        return []  # its steps are checked each, as they are confirmed


KIND = RunbookKind()
