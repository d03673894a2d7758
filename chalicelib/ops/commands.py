"""`/ops` as a whole: a command typed or clicked, answered as an outcome (or a raised error)."""

from __future__ import annotations

from chalicelib import journal
from chalicelib.errors import UsageError
from chalicelib.markup import strip_marks
from chalicelib.ops.grammar import USAGE, parse
from chalicelib.ops.lifecycle import Lifecycle
from chalicelib.ops.outcomes import Outcome, Preview
from chalicelib.ops.viewers import Where
from chalicelib.ops.views import Views


class Ops:
    def __init__(self, views: Views, lifecycle: Lifecycle) -> None:
        self.views = views
        self.lifecycle = lifecycle

    def run(self, text: str, user: str, where: Where | None = None) -> Outcome:
        """Read-only commands answer at once (what they reveal by the viewer rule); a change is
        proposed for confirmation."""
        text = strip_marks(text)  # what a user typed is outside text too
        with journal.timed("command", user=user, command=f"/ops {text}".strip()) as entry:
            try:
                command = parse(text)
            except UsageError as exc:  # typed wrong: the grammar helps (not for an unknown name)
                exc.usage = USAGE
                raise
            outcome: Outcome
            if command.mutating:
                outcome = self.lifecycle.propose(command, text, user)
            else:
                outcome = self.views.show(command, user, where)
            entry["outcome"] = type(outcome).__name__
            if isinstance(outcome, Preview):
                entry["action_id"] = outcome.action.id
            return outcome

    def confirm(self, action_id: str, user: str) -> Outcome:
        with journal.timed("change", user=user, action_id=action_id) as entry:
            outcome = self.lifecycle.confirm(action_id, user)
            entry["outcome"] = type(outcome).__name__
            action = getattr(outcome, "action", None)
            if action is not None:
                entry.update(
                    kind=action.kind,
                    target=action.target,
                    command=action.command,
                    proposed_by=action.user,
                    account=action.account or None,
                    region=action.region or None,
                    status=action.status,
                    approved_by=action.approved_by,
                    break_glass=action.break_glass,
                )
            return outcome

    def cancel(self, action_id: str, user: str) -> Outcome:
        return self.lifecycle.cancel(action_id, user)

    def cancel_move(self, action_id: str, user: str) -> Outcome:
        return self.lifecycle.cancel_move(action_id, user)
