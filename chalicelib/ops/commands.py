"""`/ops` as a whole: a command typed or clicked, answered as an outcome (or a raised error)."""

from __future__ import annotations

from chalicelib.errors import UsageError
from chalicelib.markup import strip_marks
from chalicelib.ops.grammar import USAGE, parse
from chalicelib.ops.lifecycle import Lifecycle
from chalicelib.ops.outcomes import Outcome
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
        try:
            command = parse(text)
        except UsageError as exc:  # typed wrong: the grammar helps (not when a name is unknown)
            exc.usage = USAGE
            raise
        if command.mutating:
            return self.lifecycle.propose(command, text, user)
        return self.views.show(command, user, where)

    def confirm(self, action_id: str, user: str) -> Outcome:
        return self.lifecycle.confirm(action_id, user)

    def cancel(self, action_id: str, user: str) -> Outcome:
        return self.lifecycle.cancel(action_id, user)

    def cancel_move(self, action_id: str, user: str) -> Outcome:
        return self.lifecycle.cancel_move(action_id, user)
