"""The buttons of an alarm's message: each fix and snooze carries an `/ops` command, run as if
typed; Acknowledge says who is on it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from chalicelib.ops.outcomes import Said
from chalicelib.slack.blocks import ACKNOWLEDGE, RUN_COMMAND
from chalicelib.slack.listeners import home
from chalicelib.slack.listeners.answer import ack_now, answer, replier

if TYPE_CHECKING:
    from chalicelib.slack.listeners import Wiring


def register(app: App, container: Wiring) -> None:
    def run_button(body: dict[str, Any], respond: Respond) -> None:
        command = body["actions"][0]["value"].removeprefix("/ops").strip()
        answer(respond, lambda: container.ops.run(command, body["user"]["id"]))

    def acknowledge(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        value, user = body["actions"][0]["value"], body["user"]["id"]
        channel = body.get("channel") or {}
        where = (str(channel.get("id", "")), str(channel.get("name", ""))) if channel else None
        answer(
            replier(body, respond, client),
            lambda: Said(container.attention.acknowledge(value, user, where)),
        )
        if (body.get("container") or {}).get("type") == "view":  # clicked on the Home tab
            home.publish(container, client, user)

    app.action(re.compile(f"^{RUN_COMMAND}:"))(ack=ack_now, lazy=[run_button])
    app.action(ACKNOWLEDGE)(ack=ack_now, lazy=[acknowledge])
