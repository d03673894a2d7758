"""Posting to Slack with the bot token; transport failures become UpstreamFailure (retried).

Alarm posts are made once: each carries Slack message metadata naming its delivery, and a post
whose answer was lost (the connection dropped, a timeout, a 5xx) is looked for in the channel
before it is made again. A 429 is waited out only while the invocation has time left for it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from chalicelib.errors import UpstreamFailure
from chalicelib.slack.keys import RotatingWebClient, SlackKeys

log = logging.getLogger(__name__)

EVENT_TYPE = "shepherd_alarm"  # Slack message metadata: which delivery a message answers
LOOKBACK_S = 3600  # how far back a lost post is looked for
WAIT_MARGIN_S = 5.0  # a 429 wait must leave this much of the invocation


class Deadline:
    """When the current invocation ends (epoch seconds); none outside Lambda."""

    def __init__(self) -> None:
        self.at: float | None = None

    def left(self) -> float:
        return float("inf") if self.at is None else self.at - time.time()


class RateLimitWithinDeadline(RateLimitErrorRetryHandler):
    """Wait out a 429's Retry-After only if the invocation outlives it; else fail fast."""

    def __init__(self, deadline: Deadline, max_retry_count: int = 10) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.deadline = deadline

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = next(
            (float(v[0]) for k, v in response.headers.items() if k.lower() == "retry-after"), 1.0
        )
        if wait + 1 + WAIT_MARGIN_S > self.deadline.left():
            log.warning("Slack asks to wait %.0f s: more than this invocation has left", wait)
            return False
        return True


def web_client(
    keys: SlackKeys, base_url: str, *, deadline: Deadline | None = None, resend: bool = True
) -> WebClient:
    """A WebClient with Shepherd's retries; `resend=False` never re-sends a request whose answer
    was lost (the caller checks first), as an alarm post must not be made twice. A refused token
    is re-read once (chalicelib/slack/keys.py)."""
    client = RotatingWebClient(keys, base_url=base_url, timeout=10)
    client.retry_handlers.clear()  # the defaults re-send after a dropped connection
    client.retry_handlers.append(
        RateLimitWithinDeadline(deadline)
        if deadline
        else RateLimitErrorRetryHandler(max_retry_count=2)
    )
    if resend:
        client.retry_handlers.extend(
            [
                ConnectionErrorRetryHandler(max_retry_count=2),
                ServerErrorRetryHandler(max_retry_count=1),
            ]
        )
    return client


class SlackPoster:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.channel_ids: dict[str, str] = {}  # names as configured -> ids, learned from posts

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        *,
        key: str | None = None,
        look_first: bool = False,
    ) -> tuple[str, str]:
        """Post a message; returns (channel id, ts).

        With `key`, the message carries it as metadata and is made at most once: a post whose
        answer was lost is looked for before it is made again, and `look_first` looks before the
        first try (an earlier attempt may have posted it before it died).
        """
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"delivery": key}} if key else None
        if key and look_first:
            found = self.find(channel, key, thread_ts)
            if found:
                return found
        for attempt in range(2):
            try:
                response = self._call(
                    "chat.postMessage",
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    metadata=metadata,
                )
            except _Ambiguous as exc:
                if key is None or attempt:
                    raise UpstreamFailure("slack", f"chat.postMessage failed: {exc}") from exc
                found = self.find(channel, key, thread_ts)
                if found:
                    return found
                continue
            self.channel_ids[channel] = str(response["channel"])
            return str(response["channel"]), str(response["ts"])
        raise AssertionError("unreachable")

    def find(self, channel: str, key: str, thread_ts: str | None = None) -> tuple[str, str] | None:
        """The message posted for `key` in the last hour (or in a thread), if any."""
        channel_id = self.channel_id(channel)
        if thread_ts:
            response = self._call(
                "conversations.replies",
                channel=channel_id,
                ts=thread_ts,
                include_all_metadata=True,
                limit=200,
            )
        else:
            response = self._call(
                "conversations.history",
                channel=channel_id,
                oldest=f"{time.time() - LOOKBACK_S:.6f}",
                include_all_metadata=True,
                limit=200,
            )
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery") == key:
                return channel_id, str(message["ts"])
        return None

    def channel_id(self, channel: str) -> str:
        """The id of a channel given by name (`#ops-alarms`), learned from posts or looked up."""
        if channel in self.channel_ids or not channel.startswith("#"):
            return self.channel_ids.get(channel, channel)
        cursor = None
        while True:
            page = self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for c in page.get("channels") or []:
                if c.get("name") == channel.lstrip("#"):
                    self.channel_ids[channel] = str(c["id"])
                    return self.channel_ids[channel]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise UpstreamFailure("slack", f"no channel {channel} visible to the bot")

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> bool:
        """Edit a message in place; False if it no longer exists."""
        try:
            self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        except UpstreamFailure as exc:
            if exc.code == "message_not_found":
                return False
            raise
        return True

    def upload(self, channel: str, thread_ts: str, content: bytes, name: str, title: str) -> str:
        """A file in a thread (files_upload_v2: needs `files:write`); its file id."""
        try:
            done = self.client.files_upload_v2(
                channel=self.channel_id(channel),
                thread_ts=thread_ts,
                file=content,
                filename=name,
                title=title,
            )
        except SlackApiError as exc:
            raise UpstreamFailure(
                "slack", "files upload failed", str(exc.response.get("error"))
            ) from exc
        except (SlackClientError, OSError) as exc:
            raise _Ambiguous(f"files upload: {exc}") from exc
        return str((done.get("file") or {}).get("id", ""))

    def _call(self, method: str, **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 200)
            if status >= 500:
                raise _Ambiguous(f"{method}: HTTP {status}") from exc
            raise UpstreamFailure(
                "slack", f"{method} failed", str(exc.response.get("error"))
            ) from exc
        except (SlackClientError, OSError) as exc:
            raise _Ambiguous(f"{method}: {exc}") from exc


class _Ambiguous(UpstreamFailure):
    """Slack may or may not have acted on the request (a lost answer, a 5xx)."""

    def __init__(self, message: str) -> None:
        super().__init__("slack", message)
