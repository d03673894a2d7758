"""How every listener answers: the work's reply, ephemeral; a change made, in the channel; a
channel report with its thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from chalicelib import markup
from chalicelib.config import Settings
from chalicelib.markup import channel as mention
from chalicelib.markup import finish_payload, for_client
from chalicelib.ops.outcomes import Outcome, Preview, Said
from chalicelib.slack.replies import Reply, reply, reply_to

log = logging.getLogger(__name__)


def answer(
    respond: Respond,
    work: Callable[[], Outcome],
    replace: bool | Callable[[Outcome], bool] = False,
    channel: tuple[WebClient, str | None] | None = None,
) -> None:
    # Bolt swallows exceptions raised in lazy listeners: reply_to answers every failure.
    done: list[Outcome] = []  # the outcome, when there was one (an error has none)

    def working() -> Outcome:
        done.append(work())
        return done[-1]

    answered = reply_to(working)
    if callable(replace):  # decided by the outcome; an error never replaces
        replace = bool(done) and replace(done[-1])
    if answered.thread is not None and channel is not None and channel[1]:
        try:
            answered = _post_with_thread(channel[0], channel[1], answered)
        except Exception as exc:
            log.exception("/ops could not post its report")
            answered = Reply(f":x: Shepherd failed: {type(exc).__name__}: {exc}")
    if not isinstance(respond, Respond):  # a direct message (`replier`): finished by the client
        respond(text=answered.text, blocks=answered.blocks, replace_original=replace)
        return
    if answered.shared:  # a change: the team sees what changed, where the command was given
        if replace:
            respond(delete_original=True)  # the preview only its operator saw
        respond(
            **finish_payload({"text": answered.text, "blocks": answered.blocks}),
            replace_original=False,
            response_type="in_channel",
        )
        return
    respond(
        **finish_payload({"text": answered.text, "blocks": answered.blocks}),
        replace_original=replace,
        response_type="ephemeral",
    )


def _post_with_thread(client: WebClient, channel: str, report: Reply) -> Reply:
    """A report for the channel: the summary as a message, the details in its thread."""
    posted = client.chat_postMessage(
        channel=channel, **for_client(client, {"text": report.text, "blocks": report.blocks})
    )
    for text in report.thread or []:
        client.chat_postMessage(
            channel=channel, thread_ts=posted["ts"], **for_client(client, {"text": text})
        )
    return Reply(f"{report.text} · details in the thread of the report in {mention(channel)}")


def replier(body: dict[str, Any], respond: Respond, client: WebClient) -> Any:
    """Where a click's answer goes: its response_url, or, for a click on the Home tab (which has
    none), a direct message from Shepherd to the person who clicked."""
    if body.get("response_url"):
        return respond
    user = str((body.get("user") or {}).get("id", ""))

    def direct(text: str, blocks: Any = None, **_: Any) -> None:
        client.chat_postMessage(
            channel=user, **for_client(client, {"text": text, "blocks": blocks})
        )

    return direct


def in_direct_message(body: dict[str, Any]) -> bool:
    """Typed in a direct message with Shepherd, where no one else sees its answers."""
    return str(body.get("channel_id", "")).startswith("D") or (
        body.get("channel_name") == "directmessage"
    )


def for_approval(client: WebClient, settings: Settings, preview: Preview) -> Outcome:
    """A preview a second operator must approve, made where no one else would see it (a direct
    message, the Home tab): posted in its account's alarm channel instead, and said where."""
    member = settings.accounts.get(preview.action.account or None)
    channel = (member.channel if member else None) or settings.channel
    shown = reply(preview)
    client.chat_postMessage(
        channel=channel, **for_client(client, {"text": shown.text, "blocks": shown.blocks})
    )
    return Said(
        f"{markup.code(preview.action.command)} needs a second operator: its preview "
        f"{markup.code(preview.action.id)} is posted in {markup.channel(channel)} for approval."
    )


def ack_now(ack: Callable[[], None]) -> None:
    ack()
