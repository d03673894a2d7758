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
from chalicelib.approvals import HOME, Approvals
from chalicelib.aws.errors import AwsError, code_of
from chalicelib.errors import Drifted, Refused, ShepherdError, UsageError
from chalicelib.ops import actions, guardrails, repair
from chalicelib.ops.actions import Proposal
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command, parse
from chalicelib.ops.operators import Operators
from chalicelib.ops.outcomes import Done, Failed, MoveCancelled, Outcome, Preview, Said, Stale
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
    ) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self.operators = operators
        self.make_id = make_id
        self.approvals = approvals or Approvals()

    def propose(self, command: Command, text: str, user: str) -> Preview:
        """Plan the change, check who asks, record the proposal; nothing is changed yet."""
        undoes, done = None, None
        if command.verb == "undo":
            done = self._undoable(command.target or "")
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
        self._second_operator(action, proposal, command.break_glass, done)
        self.log.create(action)
        return Preview(action, proposal.details)

    def _second_operator(
        self, action: Action, proposal: Proposal, reason: str | None, undone: Action | None
    ) -> None:
        """Mark `action` as needing a second operator's approval when a rule says so (or it undoes
        a change that needed one), unless a break-glass operator gives a reason to act alone."""
        member = self.ctx.accounts.get(action.account) if action.account else None
        approvals = self.approvals
        names: tuple[str, ...] = (HOME,)
        if member is not None:
            approvals = approvals.within(member.approvals, member.break_glass, member.name)
            names = (member.id, member.name)
        rule = approvals.needed(action.kind, proposal.target, proposal.plan, names)
        why = str(rule) if rule else None
        if why is None and undone is not None and (undone.approval or undone.break_glass):
            why = f"undoing {markup.code(undone.id)}, a change that needed a second operator"
        if why is None:
            return
        if reason is None:
            action.approval = why
            return
        glass, source = approvals.break_glass, approvals.source
        allowed = (
            bool(glass) and self.operators.with_baseline(glass, source).check(action.user).allowed
        )
        if not allowed:
            who = (
                f"{markup.user(action.user)} is not listed in {source}"
                if glass
                else f"no one is break-glass ({source} is empty)"
            )
            self.log.record_refusal(action, f"break-glass refused: {who}")
            raise Refused(
                f"{who}, so `--break-glass` is not yours to use: {why}. Propose it without "
                "`--break-glass` and another operator can approve it; nothing was changed."
            )
        action.break_glass = reason

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
        if done.status != "done":
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
        """Run a proposed action, once, for an operator of its target, if its preview still holds."""
        proposed = self.log.get(action_id)
        if proposed is None:
            return Said(f"Action {markup.code(action_id)} is unknown; nothing was done.")
        verdict = self._operators(proposed.account).check(user, proposed.target)
        if not verdict.allowed:
            self._record_refused("confirm", proposed, user, verdict.why)
            raise Refused(f"{verdict.why}; nothing was changed.")
        if proposed.status != "proposed":
            return self._already(action_id)
        if proposed.approval and user == proposed.user:
            why = f"{markup.user(user)} proposed it, and {proposed.approval}"
            self._record_refused("approve", proposed, user, why)
            raise Refused(f"{why}: another operator must approve it. The preview stands.")
        kind = actions.registry()[proposed.kind]
        if user != proposed.user:  # it runs as them: they must be allowed all it acts on
            judge = self._operators(proposed.account)
            for name in kind.acts_on(proposed):
                if not (verdict := judge.check(user, name)).allowed:
                    self._record_refused("confirm", proposed, user, verdict.why)
                    raise Refused(
                        f"{verdict.why} (it acts on {markup.code(name)}); nothing was changed."
                    )
        ctx = self._in(proposed)
        try:
            self._still_holds(proposed, kind, ctx)
        except Drifted as exc:
            return self._stale(proposed, str(exc), user)
        except Refused as exc:  # a guardrail that passed at the preview refuses now
            self.log.transition(proposed, "stale", outcome=f"refused at Confirm: {exc}")
            raise
        approved = {"approved_by": user} if proposed.approval else {}
        action = self.log.transition(proposed, "executing", confirmed_by=user, **approved)
        if action is None:
            return self._already(action_id)
        try:
            executed = kind.execute(action, ctx.acting(user, action.id, proposer=action.user))
        except Exception as exc:
            log.warning("action %s failed", action_id, exc_info=True)
            message = str(exc.__cause__ if isinstance(exc, AwsError) and exc.__cause__ else exc)
            self._record(action, "failed", outcome=f"{code_of(exc)}: {message}")
            return Failed(action, code_of(exc), message)
        done, recorded = self._record(
            action, "done", result=executed.result, outcome=executed.outcome
        )
        return Done(
            done,
            kind.result_text(done),
            kind.follow_up(done),
            executed.outcome == "partial",
            unrecorded=not recorded,
        )

    def _still_holds(self, action: Action, kind: actions.ActionKind, ctx: OpsContext) -> None:
        age = self.log.clock() - action.created
        if age > self.ctx.preview_ttl:
            raise Drifted(
                f"the preview is {units.duration(age)} old; previews expire after "
                f"{units.duration(self.ctx.preview_ttl)}"
            )
        guardrails.not_changing_shepherd(ctx, action.kind, action.target)
        kind.recheck(action, ctx)

    def _stale(self, action: Action, why: str, user: str) -> Outcome:
        """Mark the preview stale and offer the same command, previewed afresh for `user`; one that
        needs approval stays its proposer's, so that whoever clicked must approve it afresh."""
        if self.log.transition(action, "stale", outcome=f"not run: {why}") is None:
            return self._already(action.id)
        text = action.command.removeprefix("/ops").strip()
        try:
            fresh = self.propose(parse(text), text, action.user if action.approval else user)
        except ShepherdError as exc:
            return Stale(action, why, None, exc.shown())
        return Stale(action, why, fresh)

    def _record(self, action: Action, status: Status, **fields: Any) -> tuple[Action, bool]:
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
        if proposed is not None and proposed.user != user:
            verdict = self._operators(proposed.account).check(user, proposed.target)
            if not verdict.allowed:
                self._record_refused("cancel", proposed, user, verdict.why)
                raise Refused(f"{verdict.why}; the preview stands.")
        if (
            proposed is None
            or proposed.status != "proposed"
            or self.log.transition(proposed, "cancelled", cancelled_by=user) is None
        ):
            return Said(f"Action {markup.code(action_id)} can no longer be cancelled.")
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
