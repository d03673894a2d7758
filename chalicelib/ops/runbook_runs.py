"""A runbook as one change: every step proposed as its own action (authorised, guarded, previewed
as it would be typed), one preview of them all, one Confirm or approval, then the steps in order,
each recorded, stopping at the first that does not run; its undo undoes them in reverse.

A step is never confirmed on its own (it is `part_of` its run); the lifecycle confirms the run and
hands it here to run its steps (chalicelib/ops/lifecycle.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from chalicelib import markup
from chalicelib.errors import Refused, ShepherdError
from chalicelib.ops import repair
from chalicelib.ops.actions.runbook import KIND, RunbookPlan, RunbookResult, ran
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command, parse
from chalicelib.ops.outcomes import Done, Failed, Preview
from chalicelib.ops.runbooks import HOME, Runbooks
from chalicelib.store.actions import Action, ActionLog, Status


class Changes(Protocol):
    """What a run needs of the lifecycle (chalicelib/ops/lifecycle.py): to propose each step as
    typed, run one confirmed step, and record the run."""

    ctx: OpsContext
    log: ActionLog
    make_id: Callable[[], str]

    def propose(
        self, command: Command, text: str, user: str, part_of: str | None = None
    ) -> Preview: ...
    def run_step(
        self, step: Action, user: str, until: float, moved: frozenset[str] | None = None
    ) -> Done | Failed | str: ...
    def record(self, action: Action, status: Status, **fields: Any) -> tuple[Action, bool]: ...


log = logging.getLogger(__name__)
RUN_BUDGET = 270.0  # seconds its steps may take in one invocation (api_handler's timeout is 300)


class RunbookRuns:
    def __init__(self, lifecycle: Changes, runbooks: Runbooks) -> None:
        self.lc = lifecycle
        self.runbooks = runbooks

    def steps(self, run: Action) -> list[Action]:
        """The run's step actions, in order, as recorded now."""
        p: RunbookPlan = run.plan
        found = [self.lc.log.get(i) for i in p.steps]
        return [s for s in found if s is not None]

    def ran(self, run: Action) -> list[Action]:
        """The run's steps that made their change (records repaired as they are read)."""
        return ran([repair.settled(s, self.lc.ctx) for s in self.steps(run)])

    def propose(self, command: Command, text: str, user: str) -> Preview:
        """`/ops runbook <name> [k=v ...]`: each step proposed as typed, then the run of them."""
        book = self.runbooks.named(command.target or "")
        ctx = self.lc.ctx.scoped(command.account, command.region)
        member = ctx.accounts.get(ctx.account) if ctx.account else None
        values = book.values(
            command.options, member.name if member else HOME, ctx.region or ctx.aws.region
        )
        run_id = self.lc.make_id()
        previews: list[Preview] = []
        for n, step in enumerate(book.commands(values), start=1):
            try:
                typed = _step(parse(step), command, book.verbs[n - 1])
                previews.append(self.lc.propose(typed, step, user, part_of=run_id))
            except ShepherdError as exc:
                self._drop(previews, user)
                raise Refused(
                    f"runbook {markup.code(book.name)} cannot run: step {n}, "
                    f"{markup.code('/ops ' + step)}: {_reason(exc)}"
                ) from exc
        plan = RunbookPlan(
            book.name, [p.action.id for p in previews], [p.action.command for p in previews]
        )
        run = self._run_action(
            run_id,
            user,
            text,
            f"runbook:{book.name}",
            f"runbook {markup.code(book.name)}: {len(previews)} step(s) in order, stopping at "
            "the first that does not run",
            plan,
            previews,
            None,
        )
        links = [(link.label, link.url) for link in book.links_for(values)]
        return Preview(run, steps=previews, links=links)

    def undo(self, done: Action, command: Command, text: str, user: str) -> Preview:
        """`/ops undo <run>`: the undo of each step that ran, in reverse, as one run; a step that
        cannot be undone (it was undone already, or changed since) is named, not hidden."""
        p: RunbookPlan = done.plan
        undo_id = self.lc.make_id()
        previews: list[Preview] = []
        kept: list[str] = []
        for step in reversed(self.ran(done)):
            typed = replace(parse(f"undo {step.id}"), break_glass=command.break_glass)
            try:
                previews.append(self.lc.propose(typed, f"undo {step.id}", user, part_of=undo_id))
            except ShepherdError as exc:
                kept.append(
                    f"{markup.code(step.command)} ({markup.code(step.id)}) stays: {_reason(exc)}"
                )
        if not previews:
            why = "; ".join(kept) or "none of its steps made a change"
            raise Refused(f"nothing of {markup.code(done.id)} can be undone: {why}")
        plan = RunbookPlan(
            p.name, [v.action.id for v in previews], [v.action.command for v in previews], done.id
        )
        run = self._run_action(
            undo_id,
            user,
            text,
            done.target,
            f"undo runbook {markup.code(p.name)} ({markup.code(done.id)}): {len(previews)} "
            "step(s) in reverse",
            plan,
            previews,
            done.id,
            kept,
        )
        return Preview(run, steps=previews)

    def _run_action(
        self,
        run_id: str,
        user: str,
        text: str,
        target: str,
        summary: str,
        plan: RunbookPlan,
        previews: list[Preview],
        undoes: str | None,
        kept: list[str] | None = None,
    ) -> Action:
        steps = [p.action for p in previews]
        first = steps[0]
        run = Action(
            id=run_id,
            kind=KIND.kind,
            user=user,
            command=f"/ops {text.strip()}",
            target=target,
            summary=summary,
            plan=plan,
            risks=[
                *(f"step {n}: {r}" for n, s in enumerate(steps, start=1) for r in s.risks),
                *(f"not undone: {k}" for k in kept or []),
            ],
            undoes=undoes,
            account=first.account,
            region=first.region,
            # One approval for the run when any step needs one; its break-glass reason, if given.
            approval=next(
                (f"step {n}: {s.approval}" for n, s in enumerate(steps, start=1) if s.approval),
                None,
            ),
            break_glass=next((s.break_glass for s in steps if s.break_glass), None),
        )
        self.lc.log.create(run)
        return run

    def _drop(self, previews: list[Preview], user: str) -> None:
        """Steps proposed for a run that will not be: cancelled, never left to be confirmed."""
        for p in previews:
            self.lc.log.transition(p.action, "cancelled", cancelled_by=user)

    def run(self, run: Action, steps: list[Action], user: str) -> Done:
        """The confirmed `run`'s steps in order, each confirmed by `user` and re-checked as
        Confirm re-checks (an earlier step may have changed what a later one read); at the first
        that does not run, the rest are cancelled. Recorded: done when every step ran, else
        failed with what ran."""
        clock = self.lc.log.clock
        until = clock() + RUN_BUDGET
        lines: list[str] = []
        done: list[str] = []
        stopped: int | None = None
        moved: set[str] = set()
        for n, step in enumerate(steps, start=1):
            shown = f"{n}. {{}} {markup.code(step.command)} ({markup.code(step.id)})"
            if stopped is None and n > 1 and clock() > until:
                stopped = n  # Lambda would stop it mid-step: this invocation's time is spent
                lines.append(shown.format(":hourglass:") + " not run: the run's time ran out")
                self.lc.log.transition(step, "stale", outcome="not run: the run's time ran out")
                continue
            if stopped is not None:
                self.lc.log.transition(
                    step, "cancelled", cancelled_by=user, outcome=f"not run: step {stopped} did not"
                )
                lines.append(shown.format(":heavy_minus_sign:") + " not run")
                continue
            try:
                after = frozenset(moved) if n > 1 else None
                outcome = self.lc.run_step(step, user, until, after)
            except Exception as exc:  # its record, if it moved, is repaired when next read
                log.exception("step %s of runbook run %s could not be run", step.id, run.id)
                outcome = f"Shepherd failed: {type(exc).__name__}: {markup.prose(str(exc), 300)}"
                with contextlib.suppress(Exception):  # the log itself may be what failed
                    self.lc.log.transition(step, "stale", outcome=f"not run: {outcome}")
            if isinstance(outcome, Done):
                done.append(step.id)
                moved.add(step.target)
                lines.append(shown.format(":white_check_mark:") + f": {outcome.text}")
                if outcome.partial:
                    stopped = n
                    lines[-1] += " _(partly: the run stops here)_"
            elif isinstance(outcome, Failed):
                stopped = n
                lines.append(
                    shown.format(":x:")
                    + f" failed: {outcome.code}: {markup.prose(outcome.message, 500)}"
                )
            else:
                stopped = n
                lines.append(shown.format(":hourglass:") + f" not run: {outcome}")
        result = RunbookResult(lines, done, stopped)
        outcome = "ok" if stopped is None else f"stopped at step {stopped}"
        finished, recorded = self.lc.record(
            run, "done" if stopped is None else "failed", result=result, outcome=outcome
        )
        return Done(
            finished,
            KIND.result_text(finished),
            KIND.follow_up(finished),
            partial=stopped is not None,
            unrecorded=not recorded,
        )


def _step(parsed: Command, run: Command, verb: str) -> Command:
    """A filled-in step as it runs: the change it was written as (`verb`, never an undo or
    another runbook), where the run is; checked again here, whatever it was filled with."""
    if (
        parsed.verb != verb
        or not parsed.mutating
        or parsed.verb in ("undo", "runbook")
        or parsed.account
        or parsed.region
        or parsed.break_glass
    ):
        raise Refused(
            f"filled in, it is not the change it is written as ({markup.code(verb)}), or not one "
            "a runbook step may make"
        )
    return replace(parsed, account=run.account, region=run.region, break_glass=run.break_glass)


def _reason(exc: ShepherdError) -> str:
    """What went wrong, without the icon and "nothing was changed" of its own reply."""
    text = str(exc).strip()
    for tail in ("; nothing was changed.", "; nothing was changed", " Nothing was changed."):
        text = text.removesuffix(tail)
    return text
