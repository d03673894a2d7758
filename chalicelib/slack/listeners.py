"""The /slack/events listeners: ack at once, do the work in a lazy listener, report every error."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from chalicelib.ops.engine import CANCEL, CANCEL_MOVE, CONFIRM, UNDO, Ops, Reply
from chalicelib.slack.render import RUN_COMMAND

log = logging.getLogger(__name__)


def register(app: App, ops: Ops) -> None:
    """Commands and buttons; lazy functions are named (bolt matches them by __name__)."""

    def ack_now(ack: Ack) -> None:
        ack()

    def run_ops(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        _answer(
            respond,
            lambda: ops.run(body.get("text", ""), body["user_id"]),
            channel=(client, body.get("channel_id")),
        )

    def run_button(body: dict[str, Any], respond: Respond) -> None:
        command = body["actions"][0]["value"].removeprefix("/ops").strip()
        _answer(respond, lambda: ops.run(command, body["user"]["id"]), replace=False)

    def confirm_action(body: dict[str, Any], respond: Respond) -> None:
        _answer(
            respond,
            lambda: ops.confirm(body["actions"][0]["value"], body["user"]["id"]),
            replace=True,
        )

    def cancel_action(body: dict[str, Any], respond: Respond) -> None:
        _answer(
            respond,
            lambda: ops.cancel(body["actions"][0]["value"], body["user"]["id"]),
            replace=True,
        )

    def undo_action(body: dict[str, Any], respond: Respond) -> None:
        _answer(
            respond,
            lambda: ops.run(f"undo {body['actions'][0]['value']}", body["user"]["id"]),
            replace=False,
        )

    def cancel_move(body: dict[str, Any], respond: Respond) -> None:
        _answer(
            respond,
            lambda: ops.cancel_move(body["actions"][0]["value"], body["user"]["id"]),
            replace=False,
        )

    app.command("/ops")(ack=ack_now, lazy=[run_ops])
    app.action(re.compile(f"^{RUN_COMMAND}:"))(ack=ack_now, lazy=[run_button])
    app.action(CONFIRM)(ack=ack_now, lazy=[confirm_action])
    app.action(CANCEL)(ack=ack_now, lazy=[cancel_action])
    app.action(UNDO)(ack=ack_now, lazy=[undo_action])
    app.action(CANCEL_MOVE)(ack=ack_now, lazy=[cancel_move])


def _answer(
    respond: Respond,
    work: Any,
    replace: bool = False,
    channel: tuple[WebClient, str | None] | None = None,
) -> None:
    # Bolt swallows exceptions raised in lazy listeners: every failure is answered here.
    try:
        reply: Reply = work()
        if reply.thread is not None and channel is not None and channel[1]:
            reply = _post_with_thread(channel[0], channel[1], reply)
    except Exception as exc:
        log.exception("/ops failed")
        reply = Reply(f":x: Shepherd failed: {type(exc).__name__}: {exc}")
    respond(
        text=reply.text, blocks=reply.blocks, replace_original=replace, response_type="ephemeral"
    )


def _post_with_thread(client: WebClient, channel: str, reply: Reply) -> Reply:
    """A report for the channel: the summary as a message, the details in its thread."""
    posted = client.chat_postMessage(channel=channel, text=reply.text, blocks=reply.blocks)
    for text in reply.thread or []:
        client.chat_postMessage(channel=channel, text=text, thread_ts=posted["ts"])
    return Reply(f"{reply.text} · details in the thread of the report in <#{channel}>")
