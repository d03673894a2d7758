"""Alarms told in a Slack channel: one message per episode, updated in place as the state moves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from chalicelib import markup
from chalicelib.diagnosis import graphs
from chalicelib.diagnosis.causes import kind_words
from chalicelib.diagnosis.rules import Diagnosis
from chalicelib.errors import UpstreamFailure
from chalicelib.events.signals import Alarm, Signal
from chalicelib.slack import edits, render, storm_blocks
from chalicelib.slack.blocks import Block
from chalicelib.slack.poster import SlackPoster
from chalicelib.store.alarm_states import AlarmMessage
from chalicelib.store.storms import StormRecord
from chalicelib.units import duration

log = logging.getLogger(__name__)


Grapher = Callable[[Diagnosis], bytes | None]  # the diagnosis as a picture (diagnosis/graphs.py)
_GRAPHS = ThreadPoolExecutor(2, "graphs")  # drawn while the message is posted
GRAPH_WAIT_S = 15.0


class SlackAlarmChannel:
    def __init__(
        self,
        poster: SlackPoster,
        channel: str,
        by_account: dict[str, str] | None = None,
        grapher: Grapher | None = None,
    ) -> None:
        self.poster = poster
        self.channel = channel
        self.by_account = by_account or {}  # a member account's own alarm channel
        self.grapher = grapher

    def _graph_in_thread(
        self, drawing: Future[bytes | None] | None, diagnosis: Diagnosis, channel: str, ts: str
    ) -> None:
        """The picture of the evidence in the message's thread. A graph is an extra: if it cannot
        be drawn or uploaded the alarm stands as posted (logged, not retried), and a retried
        delivery does not upload it again, so it is never there twice."""
        if drawing is None:
            return
        try:
            image = drawing.result(timeout=GRAPH_WAIT_S)
            if image:
                label = markup.clean(diagnosis.evidence.resource.label, 120, lines=False)
                title = f"{label}: {kind_words(diagnosis.top.kind)}"  # shown as it is
                self.poster.upload(channel, ts, image, graphs.filename(diagnosis), title)
        except Exception:
            log.warning("no graph for %s", diagnosis.evidence.resource.label, exc_info=True)

    def channel_for(self, account: str | None) -> str:
        return self.by_account.get(account or "", self.channel)

    def _of(self, diagnosis: Diagnosis) -> str:
        return self.channel_for(getattr(diagnosis.evidence.signal, "account", None))

    def post(self, diagnosis: Diagnosis, key: str, look_first: bool) -> AlarmMessage:
        blocks = render.render(diagnosis)
        drawing = (
            _GRAPHS.submit(self.grapher, diagnosis) if self.grapher and not look_first else None
        )
        channel, ts, blocks = self._post(
            self._of(diagnosis), render.headline(diagnosis), blocks, key=key, look_first=look_first
        )
        self._graph_in_thread(drawing, diagnosis, channel, ts)
        return AlarmMessage(channel, ts, blocks)

    def _post(
        self, channel: str, text: str, blocks: list[Block], **kw: Any
    ) -> tuple[str, str, list[Block]]:
        """Post; a message Slack refuses whole for a link it will not take (a runbook tag's URL
        that passed Shepherd's check) is posted again without its link buttons: a link must not
        keep the alarm from being told. Returns what was posted, which later edits start from."""
        try:
            return (*self.poster.post(channel, text, blocks, **kw), blocks)
        except UpstreamFailure as exc:
            plain = edits.without_links(blocks)
            if exc.code != "invalid_blocks" or plain == blocks:
                raise
        log.warning("Slack refused a link button of %r; posted without it", text[:120])
        return (*self.poster.post(channel, text, plain, **kw), plain)

    def post_resolved(
        self, diagnosis: Diagnosis, ok: Alarm, key: str, look_first: bool
    ) -> AlarmMessage:
        """An ALARM that arrives after its own OK: shown as the episode it was, already over."""
        fired = diagnosis.evidence.signal.time
        took = max(0.0, ok.time.timestamp() - fired.timestamp())
        blocks = render.render(diagnosis)
        resolved = edits.render_recovered(blocks, ok.time, took)
        channel, ts = self.poster.post(
            self._of(diagnosis),
            f"RESOLVED: {render.headline(diagnosis)}",
            resolved,
            key=key,
            look_first=look_first,
        )
        # Its recovery in the thread, as when the OK comes after: one episode, told the same way
        # whichever of the two notifications arrived first.
        self.poster.post(
            channel, _recovered(ok, took), thread_ts=ts, key=f"{key}|recovered", look_first=True
        )
        return AlarmMessage(channel, ts, blocks)

    def recover(
        self,
        message: AlarmMessage,
        ok: Alarm,
        fired_at: float,
        key: str,
        look_first: bool,
        flaps: int = 0,
    ) -> AlarmMessage:
        """Mark the message recovered and say so in its thread; a deleted message gets a new post."""
        took = max(0.0, ok.time.timestamp() - fired_at)
        flapped = (flaps, datetime.fromtimestamp(fired_at, UTC))
        blocks = edits.render_recovered(message.blocks, ok.time, took, flapped)
        text = _recovered(ok, took)
        title = f"RESOLVED: {markup.prose(ok.name, 255)}"
        if self.poster.update(message.channel, message.ts, title, blocks):
            self.poster.post(
                message.channel, text, thread_ts=message.ts, key=key, look_first=look_first
            )
            return message
        channel, ts = self.poster.post(
            message.channel, text, blocks, key=key, look_first=look_first
        )
        return AlarmMessage(channel, ts, message.blocks)

    def refire(self, message: AlarmMessage, alarm: Alarm, flaps: int, first_at: float) -> bool:
        """Show the episode firing again (flapping) in place; False if the message is gone."""
        first = datetime.fromtimestamp(first_at, UTC)
        blocks = edits.render_refired(message.blocks, alarm.time, flaps, first)
        title = f"ALARM: {markup.prose(alarm.name, 255)}"
        return self.poster.update(message.channel, message.ts, title, blocks)

    def post_unconfigured(self, signal: Signal, key: str, look_first: bool) -> AlarmMessage:
        """A signal from an account Shepherd is not configured for: no evidence, no buttons."""
        text, blocks = render.unconfigured(signal)
        channel, ts = self.poster.post(self.channel, text, blocks, key=key, look_first=look_first)
        return AlarmMessage(channel, ts, blocks)

    # --- who is on it ----------------------------------------------------------------------

    def acknowledged(self, message: AlarmMessage, user: str, at: float) -> AlarmMessage:
        """Show who acknowledged the alarm, in place (the stored blocks keep it for later edits)."""
        blocks = edits.acknowledged(message.blocks, user, datetime.fromtimestamp(at, UTC))
        header = next((b for b in blocks if b.get("type") == "header"), None)
        title = header["text"]["text"] if header else "Alarm"
        self.poster.update(message.channel, message.ts, f"{title} (acknowledged)", blocks)
        return AlarmMessage(message.channel, message.ts, blocks)

    def offers(self, message: AlarmMessage, command: str) -> bool:
        return edits.offers(message.blocks, command)

    def fix_applied(
        self, message: AlarmMessage, command: str, user: str, action_id: str
    ) -> AlarmMessage | None:
        blocks = edits.fix_applied(message.blocks, command, user, action_id)
        if blocks is None:
            return None
        header = next((b for b in blocks if b.get("type") == "header"), None)
        title = header["text"]["text"] if header else "Alarm"
        self.poster.update(message.channel, message.ts, f"{title} (fix applied)", blocks)
        return AlarmMessage(message.channel, message.ts, blocks)

    def remind(self, message: AlarmMessage, text: str, key: str) -> None:
        self.poster.post(message.channel, text, thread_ts=message.ts, key=key, look_first=True)

    # --- storms -------------------------------------------------------------------------------

    def post_summary(self, storm: StormRecord, shared: str | None, key: str) -> AlarmMessage:
        channel, ts = self.poster.post(
            self.channel_for(storm.scope),
            storm_blocks.title(storm),
            storm_blocks.summary(storm, shared),
            key=key,
            look_first=True,  # opened once per storm, whichever attempt gets there
        )
        return AlarmMessage(channel, ts, [])

    def update_summary(self, storm: StormRecord, shared: str | None) -> None:
        assert storm.summary is not None
        self.poster.update(
            storm.summary.channel,
            storm.summary.ts,
            storm_blocks.title(storm),
            storm_blocks.summary(storm, shared),
        )

    def function_reply(
        self, storm: StormRecord, function: str, diagnosis: Diagnosis, key: str, look_first: bool
    ) -> AlarmMessage:
        """The function's reply in the storm's thread: its first alarm's diagnosis."""
        assert storm.summary is not None
        blocks = storm_blocks.function_reply(storm, function, diagnosis)
        text = f"{markup.prose(function, 255)}: {render.headline(diagnosis)}"
        channel, ts, _ = self._post(
            storm.summary.channel,
            text,
            blocks,
            thread_ts=storm.summary.ts,
            key=f"storm|{storm.summary.ts}|{function}",
            look_first=look_first,
        )
        return AlarmMessage(channel, ts, [])


def _recovered(ok: Alarm, took: float) -> str:
    """The recovery as said in the alarm's thread."""
    return (
        f":large_green_circle: *{markup.prose(ok.name, 255)}* is back to OK after "
        f"{duration(took, exact=True)}.\n{markup.prose(ok.reason)}"
    )
