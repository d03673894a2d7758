"""Every change: propose → authorise → preview → confirm → execute once → record → undo.

At Confirm the preview must still hold: not expired, the live value still the one it read, its
guardrails still passing; else it is marked stale and the same command is previewed afresh.

The steps are the same for every kind; what a kind plans and does is in chalicelib/ops/actions/.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from typing import Any

from chalicelib import markup, units
from chalicelib.approvals import Approvals
from chalicelib.aws.errors import AwsError, code_of
from chalicelib.errors import Drifted, Refused, ShepherdError, UsageError
from chalicelib.ops import actions, guardrails, repair
from chalicelib.ops.actions import Proposal
from chalicelib.ops.actions.runbook import KIND as RUNBOOK
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command, parse
from chalicelib.ops.operators import Operators
from chalicelib.ops.outcomes import Done, Failed, MoveCancelled, Outcome, Preview, Said, Stale
from chalicelib.ops.runbook_runs import RunbookRuns
from chalicelib.ops.runbooks import Runbooks
from chalicelib.ops.second_operator import SecondOperator
from chalicelib.store.actions import Action, Status

log = logging.getLogger(__name__)


def new_id() -> str:
    return secrets.token_hex(4)


class Lifecycle:
    def __init__(
        self,
        ctx: OpsContext,
        operators: Operators,
        make_id: Callable[[], str] = new_id,
        approvals: Approvals | None = None,
        runbooks: Runbooks | None = None,
    ) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.operators = operators
        self.make_id = make_id
        self.second_operator = SecondOperator(
            approvals or Approvals(), ctx.accounts, operators, ctx.log
        )
        self.runs = RunbookRuns(self, runbooks or Runbooks())

    def propose(
        self, command: Command, text: str, user: str, part_of: str | None = None
    ) -> Preview:
        """Plan the change, check who asks, record the proposal; nothing is changed yet.
        `part_of`: the runbook run it is a step of (it runs only as that runs)."""
        undoes, done = None, None
        if command.verb == "runbook":
            return self.runs.propose(command, text, user)
        if command.verb == "undo":
            done = self._undoable(command.target or "")
            if done.kind == RUNBOOK.kind:
                return self.runs.undo(done, command, text, user)
            ctx = self._in(done)  # an undo is made where the action was
            kind = actions.registry()[done.kind]
            proposal, undoes = kind.undo(done, ctx), done.id
        else:
            ctx = self.ctx.scoped(command.account, command.region)
            kind = actions.for_verb(command.verb)
            # Authorised before anything is read: a refused redrive must not even peek.
            self._authorise(kind.kind, command.target or "", text, user, ctx.account)
            guardrails.not_changing_shepherd(ctx, kind.kind, command.target or "")
            proposal = kind.plan(command, ctx)
        guardrails.not_changing_shepherd(ctx, kind.kind, proposal.target)  # (an undo too)
        self._authorise(kind.kind, proposal.target, text, user, ctx.account, proposal)
        judge = self._operators(ctx.account)
        refused = {
            name: verdict.why
            for name in proposal.also_acts_on
            if not (verdict := judge.check(user, name)).allowed
        }
        if refused:
            proposal = kind.narrow(proposal, refused)
        action = self._action(kind.kind, proposal, text, user, undoes)
        action.account, action.region = ctx.account, ctx.region or ""
        action.part_of = part_of
        self.second_operator.mark(action, proposal, command.break_glass, done)
        self.log.create(action)
        return Preview(action, proposal.details)

    def _in(self, action: Action) -> OpsContext:
        """The context of the account and region `action` was proposed in."""
        return self.ctx.scoped(action.account or None, action.region or None)

    def _operators(self, account: str) -> Operators:
        """Who may change things in `account`: its own operators when the accounts file names
        them, else Shepherd's."""
        member = self.ctx.accounts.get(account) if account else None
        if member is None or not member.operators:
            return self.operators
        return self.operators.with_baseline(
            member.operators, f"the operators of {markup.code(member.name)}"
        )

    def _authorise(
        self,
        kind: str,
        target: str,
        text: str,
        user: str,
        account: str,
        proposal: Proposal | None = None,
    ) -> None:
        verdict = self._operators(account).check(user, target)
        if verdict.allowed:
            return
        planned = proposal or Proposal(target, f"`/ops {text.strip()}`", None)
        self.log.record_refusal(self._action(kind, planned, text, user, None), verdict.why)
        raise Refused(f"{verdict.why}; nothing was changed.")

    def _action(self, kind: str, p: Proposal, text: str, user: str, undoes: str | None) -> Action:
        return Action(
            id=self.make_id(),
            kind=kind,
            user=user,
            command=f"/ops {text.strip()}",
            target=p.target,
            summary=p.summary,
            plan=p.plan,
            risks=p.risks,
            undoes=undoes,
        )

    def _undoable(self, action_id: str) -> Action:
        found = self.log.get(action_id)
        done = repair.settled(found, self.ctx) if found else None
        if done is None:
            raise UsageError(f"no action {markup.code(action_id)}; see `/ops history`")
        stopped = done.kind == RUNBOOK.kind and done.status == "failed" and self.runs.ran(done)
        if done.status != "done" and not stopped:  # a stopped run: what ran can be undone
            raise Refused(
                f"action {markup.code(action_id)} is {done.status}: only a completed action can be undone"
            )
        undone = next(
            (
                a
                for a in self.log.history(done.scope, limit=20)
                if a.undoes == done.id and a.status == "done"
            ),
            None,
        )
        if undone is not None:
            raise Refused(
                f"action {markup.code(action_id)} was already undone by {markup.code(undone.id)} "
                f"({markup.user(undone.confirmed_by)}); nothing to undo. To redo it: "
                f"{markup.code(f'/ops undo {undone.id}')}"
            )
        return done

    def confirm(self, action_id: str, user: str) -> Outcome:
        """Run a proposed action, once, for an operator of its target, if its preview still holds
        (a runbook run: for an operator of every step's target, if every step's still holds)."""
        proposed = self.log.get(action_id)
        if proposed is None:
            return Said(f"Action {markup.code(action_id)} is unknown; nothing was done.")
        if proposed.part_of:
            return Said(
                f"{markup.code(action_id)} is a step of the runbook run "
                f"{markup.code(proposed.part_of)}: it runs when that run is confirmed, in its "
                "turn; nothing was done."
            )
        steps = self.runs.steps(proposed) if proposed.kind == RUNBOOK.kind else [proposed]
        for part in steps:  # a refusal is recorded under the step's function, where it is read
            verdict = self._operators(part.account).check(user, part.target)
            if not verdict.allowed:
                self._record_refused("confirm", part, user, verdict.why)
                raise Refused(f"{verdict.why}; nothing was changed.")
        if proposed.status != "proposed":
            return self._already(action_id)
        if proposed.approval and user == proposed.user:
            why = f"{markup.user(user)} proposed it, and {proposed.approval}"
            self._record_refused("approve", proposed, user, why)
            raise Refused(f"{why}: another operator must approve it. The preview stands.")
        if user != proposed.user:  # it runs as them: they must be allowed all it acts on
            for part in steps:
                judge = self._operators(part.account)
                for name in actions.registry()[part.kind].acts_on(part):
                    if not (verdict := judge.check(user, name)).allowed:
                        self._record_refused("confirm", part, user, verdict.why)
                        raise Refused(
                            f"{verdict.why} (it acts on {markup.code(name)}); nothing was changed."
                        )
        try:
            for part in [proposed, *steps] if proposed.kind == RUNBOOK.kind else steps:
                self._still_holds(part, actions.registry()[part.kind], self._in(part))
        except Drifted as exc:
            return self._stale(proposed, str(exc), user, steps)
        except Refused as exc:  # a guardrail that passed at the preview refuses now
            self._stop(proposed, steps, f"refused at Confirm: {exc}")
            raise
        approved = {"approved_by": user} if proposed.approval else {}
        action = self.log.transition(proposed, "executing", confirmed_by=user, **approved)
        if action is None:
            return self._already(action_id)
        if action.kind == RUNBOOK.kind:
            return self.runs.run(action, steps, user)
        return self._execute(action, user, self._in(action))

    def run_step(
        self, step: Action, user: str, until: float, moved: frozenset[str] | None = None
    ) -> Done | Failed | str:
        """One step of a confirmed runbook run, confirmed by `user`: after the first (`moved`:
        what the earlier steps changed), re-checked, as what it read may have moved. Why it did
        not run, else what it did."""
        ctx = self._in(step)
        kind = actions.registry()[step.kind]
        fields: dict[str, Any] = {"approved_by": user} if step.approval else {}
        if moved is not None:  # (the run's age was checked at its Confirm)
            try:
                try:
                    self._recheck(step, kind, ctx)
                except Drifted:
                    if step.target not in moved:  # not this run's doing: what a Confirm says
                        raise
                    fields["plan"] = self._same_plan_now(step, kind, ctx)
            except ShepherdError as exc:  # Drifted too: the run stops, nothing is re-proposed
                self.log.transition(step, "stale", outcome=f"not run: {exc}")
                return str(exc)
        action = self.log.transition(step, "executing", confirmed_by=user, **fields)
        if action is None:
            return "its record had moved (run or cancelled elsewhere)"
        budget = max(10.0, until - self.log.clock())  # what the run has left, for a replay
        return self._execute(
            action, user, dataclasses.replace(ctx, redrive_budget=min(ctx.redrive_budget, budget))
        )

    def _same_plan_now(self, step: Action, kind: actions.ActionKind, ctx: OpsContext) -> Any:
        """A later step whose recheck found what it read moved, after an earlier step of the run
        changed the same function, planned again: when that step moved only what is not shown (a
        function's RevisionId after its memory changed), the plan made now says the same change,
        and that plan runs; else Drifted."""
        if step.undoes:
            undone = self.log.get(step.undoes)
            if undone is None:
                raise Drifted(f"the action {markup.code(step.undoes)} it undoes is gone")
            fresh = kind.undo(undone, ctx)
        else:
            fresh = kind.plan(parse(step.command.removeprefix("/ops").strip()), ctx)
        if fresh.summary != step.summary:
            raise Drifted(f"it would now be {fresh.summary}; the preview said {step.summary}")
        return fresh.plan

    def _execute(self, action: Action, user: str, ctx: OpsContext) -> Done | Failed:
        """Make the confirmed (`executing`) change, as `user`, and record what happened."""
        kind = actions.registry()[action.kind]
        try:
            executed = kind.execute(action, ctx.acting(user, action.id, proposer=action.user))
        except Exception as exc:
            log.warning("action %s failed", action.id, exc_info=True)
            message = str(exc.__cause__ if isinstance(exc, AwsError) and exc.__cause__ else exc)
            self.record(action, "failed", outcome=f"{code_of(exc)}: {message}")
            return Failed(action, code_of(exc), message)
        done, recorded = self.record(
            action, "done", result=executed.result, outcome=executed.outcome
        )
        return Done(
            done,
            kind.result_text(done),
            kind.follow_up(done),
            executed.outcome == "partial",
            unrecorded=not recorded,
        )

    def _stop(self, run: Action, steps: list[Action], why: str) -> bool:
        """Mark a preview stale, then a run's steps with it; False (and its steps left alone) if
        it had moved already: another click may be running them."""
        if self.log.transition(run, "stale", outcome=why) is None:
            return False
        for step in steps:
            if step is not run:
                self.log.transition(step, "stale", outcome=why)
        return True

    def _still_holds(self, action: Action, kind: actions.ActionKind, ctx: OpsContext) -> None:
        age = self.log.clock() - action.created
        if age > self.ctx.preview_ttl:
            raise Drifted(
                f"the preview is {units.duration(age)} old; previews expire after "
                f"{units.duration(self.ctx.preview_ttl)}"
            )
        self._recheck(action, kind, ctx)

    def _recheck(self, action: Action, kind: actions.ActionKind, ctx: OpsContext) -> None:
        """What the preview read, and its guardrails, as they are now: Drifted or Refused."""
        guardrails.not_changing_shepherd(ctx, action.kind, action.target)
        kind.recheck(action, ctx)

    def _stale(self, action: Action, why: str, user: str, steps: list[Action]) -> Outcome:
        """Mark the preview stale and offer the same command, previewed afresh for `user`; one that
        needs approval stays its proposer's, so that whoever clicked must approve it afresh."""
        if not self._stop(action, steps, f"not run: {why}"):
            return self._already(action.id)
        text = action.command.removeprefix("/ops").strip()
        try:
            fresh = self.propose(parse(text), text, action.user if action.approval else user)
        except ShepherdError as exc:
            return Stale(action, why, None, exc.shown())
        return Stale(action, why, fresh)

    def record(self, action: Action, status: Status, **fields: Any) -> tuple[Action, bool]:
        """Write the outcome; a change already made is reported even when the write fails (the
        record stays `executing` and is repaired when next read: chalicelib/ops/repair.py)."""
        try:
            moved = self.log.transition(action, status, **fields)
        except Exception:
            log.exception("action %s is %s but its record could not be written", action.id, status)
            return dataclasses.replace(action, status=status, **fields), False
        return moved or action, True

    def _record_refused(self, step: str, action: Action, user: str, why: str) -> None:
        """A refused click on someone's preview, in the history under that action's target."""
        attempt = dataclasses.replace(action, user=user, command=f"{step} {action.id}")
        self.log.record_refusal(attempt, f"{step} refused: {why}")

    def _already(self, action_id: str) -> Said:
        current = self.log.get(action_id)
        current = repair.settled(current, self.ctx) if current else None
        state = current.status if current else "unknown"
        return Said(f"Action {markup.code(action_id)} is already {state}; nothing more was done.")

    def cancel(self, action_id: str, user: str) -> Said:
        """Drop a proposal: its proposer or an operator of its target only; a refusal is recorded."""
        proposed = self.log.get(action_id)
        if proposed is not None and proposed.part_of:
            return Said(
                f"{markup.code(action_id)} is a step of the runbook run "
                f"{markup.code(proposed.part_of)}: cancel the run; nothing was changed."
            )
        steps = []
        if proposed is not None and proposed.kind == RUNBOOK.kind:
            steps = self.runs.steps(proposed)
        if proposed is not None and proposed.user != user:
            for part in steps or [proposed]:
                verdict = self._operators(part.account).check(user, part.target)
                if not verdict.allowed:
                    self._record_refused("cancel", part, user, verdict.why)
                    raise Refused(f"{verdict.why}; the preview stands.")
        if (
            proposed is None
            or proposed.status != "proposed"
            or self.log.transition(proposed, "cancelled", cancelled_by=user) is None
        ):
            return Said(f"Action {markup.code(action_id)} can no longer be cancelled.")
        for step in steps:
            self.log.transition(step, "cancelled", cancelled_by=user)
        return Said(
            f"{markup.user(user)} cancelled {markup.code(action_id)}; nothing was changed.",
            cancelled=True,
        )

    def cancel_move(self, action_id: str, user: str) -> Outcome:
        """Stop a running message-move task; what was moved stays moved."""
        action = self.log.get(action_id)
        plan = action.plan if action else None
        if action is None or getattr(plan, "mode", None) != "move" or action.status != "done":
            return Said(
                f"{markup.code(action_id)} is not a started message move; nothing was changed."
            )
        verdict = self._operators(action.account).check(user, action.target)
        if not verdict.allowed:
            raise Refused(f"{verdict.why}; nothing was changed.")
        try:
            moved = self._in(action).acting(user, action.id).sqs.cancel_move(action.result.task)
        except AwsError as exc:
            raise ShepherdError(
                f"could not cancel the move of {markup.code(action.target)}: {exc.code}"
            ) from exc
        self.log.note(action, cancelled_by=user, outcome=f"cancelled after {moved} moved")
        return MoveCancelled(user, action.target, moved)
