"""The buttons of an alarm's diagnosis: each carries an `/ops` command, run as if typed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Respond

from chalicelib.slack.blocks import RUN_COMMAND
from chalicelib.slack.listeners.answer import ack_now, answer

if TYPE_CHECKING:
    from chalicelib.slack.listeners import Wiring


def register(app: App, container: Wiring) -> None:
    def run_button(body: dict[str, Any], respond: Respond) -> None:
        command = body["actions"][0]["value"].removeprefix("/ops").strip()
        answer(respond, lambda: container.ops.run(command, body["user"]["id"]))

    app.action(re.compile(f"^{RUN_COMMAND}:"))(ack=ack_now, lazy=[run_button])
