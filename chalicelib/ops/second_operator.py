"""The two-person rule applied to a proposal: whether a second operator must approve it, or a
break-glass operator's reason lets its proposer act alone (the rules: chalicelib/approvals.py)."""

from __future__ import annotations

from chalicelib import markup
from chalicelib.accounts import Accounts
from chalicelib.approvals import HOME, Approvals
from chalicelib.errors import Refused
from chalicelib.ops.actions import Proposal
from chalicelib.ops.operators import Operators
from chalicelib.store.actions import Action, ActionLog


class SecondOperator:
    def __init__(
        self, approvals: Approvals, accounts: Accounts, operators: Operators, log: ActionLog
    ) -> None:
        self.approvals = approvals
        self.accounts = accounts
        self.operators = operators
        self.log = log

    def mark(
        self, action: Action, proposal: Proposal, reason: str | None, undone: Action | None
    ) -> None:
        """Mark `action` as needing a second operator's approval when a rule says so (or it undoes
        a change that needed one), unless a break-glass operator gives a reason to act alone."""
        member = self.accounts.get(action.account) if action.account else None
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
