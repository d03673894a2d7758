"""The bot token and signing secret as last read, and the one re-read a rotated secret needs.

Secrets are kept `max_age` seconds (chalicelib/aws/secrets.py). When Slack refuses the token
(`invalid_auth`, `token_revoked`…) or a request's signature does not match the secret held, the
secrets are read again at once, at most once per REREAD_EVERY_S, and the call is retried only if
the value changed: a rotated secret works on the next call, a wrong one still fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from chalicelib.config import SlackSecrets
from chalicelib.markup import finish_payload

log = logging.getLogger(__name__)

REREAD_EVERY_S = 30.0  # unsigned junk must not turn into a read of SSM per request
REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


class SlackKeys:
    def __init__(
        self,
        read: Callable[[], SlackSecrets],
        forget: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read, self._forget, self.clock = read, forget, clock
        self._held: SlackSecrets | None = None
        self._reread_at = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> SlackSecrets:
        with self._lock:
            if self._held is None:
                self._held = self._read()
            return self._held

    def reread(self) -> bool:
        """Read the secrets again now (not within REREAD_EVERY_S of the last time); whether
        they changed."""
        with self._lock:
            if self.clock() - self._reread_at < REREAD_EVERY_S:
                return False
            self._reread_at = self.clock()
            before = self._held
            self._forget()
            self._held = self._read()
            changed = before is not None and self._held != before
        if changed:
            log.info("the Slack secrets changed since they were read: using the new ones")
        return changed


WITH_TEXT = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.scheduleMessage",
        "views.publish",
        "views.open",
        "views.update",
        "views.push",
    }
)


class RotatingWebClient(WebClient):
    """A WebClient whose token is re-read once when Slack refuses it, and the call made again.

    A refused token means Slack did nothing with the call, so making it again is safe. What it
    sends is finished for the wire (chalicelib/markup.py) on the way out."""

    finishes_text = True

    def __init__(self, keys: SlackKeys, **kwargs: Any) -> None:
        super().__init__(token=keys.current().bot_token, **kwargs)
        self.keys = keys

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        if api_method in WITH_TEXT:
            # The wire: outside text made inert here, once, whoever built the message.
            for part in ("json", "params", "data"):
                if isinstance(kwargs.get(part), dict):
                    kwargs[part] = finish_payload(kwargs[part])
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.get("error") not in REFUSED_TOKEN:
                raise
            fresh = self.keys.current().bot_token  # another client may have re-read it already
            if fresh == self.token:
                if not self.keys.reread():
                    raise
                fresh = self.keys.current().bot_token
            self.token = fresh
            return super().api_call(api_method, **kwargs)
