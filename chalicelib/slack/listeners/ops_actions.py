"""The buttons of a change: Confirm, Cancel, Undo, and Cancel move for a running message move."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from chalicelib.ops.outcomes import Done, Failed, Outcome, Preview, Said, Stale
from chalicelib.slack.blocks import APPROVE, CANCEL, CANCEL_MOVE, CONFIRM, RUNBOOK_LINK, UNDO
from chalicelib.slack.listeners.answer import ack_now, answer, for_approval, replier

if TYPE_CHECKING:
    from chalicelib.slack.listeners import Wiring

log = logging.getLogger(__name__)


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0]["value"])


def _user(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def register(app: App, container: Wiring) -> None:
    def confirmed(body: dict[str, Any]) -> Outcome:
        outcome = container.ops.confirm(_value(body), _user(body))
        if isinstance(outcome, Done) and outcome.action.status == "done":
            try:  # the alarm whose button proposed it stops offering it (not a stopped runbook)
                container.attention.fix_applied(
                    outcome.action.command, _user(body), outcome.action.id
                )
            except Exception:
                log.exception("could not mark the fix applied on its alarm")
        return outcome

    def confirm_action(body: dict[str, Any], respond: Respond) -> None:
        answer(respond, lambda: confirmed(body), replace=True)

    def approve_action(body: dict[str, Any], respond: Respond) -> None:
        """Approve, on a preview the team sees, gives way only to what ran (or could not) or to a
        fresh preview; a refused click (the proposer's own) is answered to that person alone."""
        answer(
            respond,
            lambda: confirmed(body),
            replace=lambda outcome: isinstance(outcome, Done | Failed | Stale),
        )

    def cancel_action(body: dict[str, Any], respond: Respond) -> None:
        """A cancelled preview gives way to the cancellation; a refused click (on a preview the
        team sees) is answered to that person alone."""
        answer(
            respond,
            lambda: container.ops.cancel(_value(body), _user(body)),
            replace=lambda outcome: isinstance(outcome, Said) and outcome.cancelled,
        )

    def undo_action(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        # Undo is also on the Home tab, whose clicks have no response_url: the preview comes
        # as a direct message there, unless a second operator must approve it (below).
        reply = replier(body, respond, client)

        def undo() -> Outcome:
            outcome = container.ops.run(f"undo {_value(body)}", _user(body))
            if reply is respond or not (isinstance(outcome, Preview) and outcome.action.approval):
                return outcome
            return for_approval(client, container.settings, outcome)

        answer(reply, undo)

    def cancel_move(body: dict[str, Any], respond: Respond) -> None:
        answer(respond, lambda: container.ops.cancel_move(_value(body), _user(body)))

    app.action(CONFIRM)(ack=ack_now, lazy=[confirm_action])
    app.action(APPROVE)(ack=ack_now, lazy=[approve_action])
    # Slack opened the link (the alarm's runbook tag, a runbook's links); the click is only acked.
    app.action(re.compile(f"^{RUNBOOK_LINK}(:\\d+)?$"))(ack_now)
    app.action(CANCEL)(ack=ack_now, lazy=[cancel_action])
    app.action(UNDO)(ack=ack_now, lazy=[undo_action])
    app.action(CANCEL_MOVE)(ack=ack_now, lazy=[cancel_move])
