"""The `/ops` slash command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from chalicelib.ops.outcomes import Outcome, Preview
from chalicelib.ops.viewers import Where
from chalicelib.slack.listeners.answer import ack_now, answer, for_approval, in_direct_message

if TYPE_CHECKING:
    from chalicelib.slack.listeners import Wiring


def register(app: App, container: Wiring) -> None:
    def run_ops(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        def run() -> Outcome:
            outcome = container.ops.run(
                body.get("text", ""),
                body["user_id"],
                Where(body.get("channel_id"), body.get("channel_name")),
            )
            if isinstance(outcome, Preview) and outcome.action.approval and in_direct_message(body):
                return for_approval(client, container.settings, outcome)  # where others see it
            return outcome

        answer(respond, run, channel=(client, body.get("channel_id")))

    app.command("/ops")(ack=ack_now, lazy=[run_ops])
