"""The local Slack stand-in's keyboard: `/ops …` typed here reaches the bot as Slack would send it.

Each line is signed with the signing secret (v0 HMAC) and POSTed to `chalice local`'s
/slack/events; buttons printed in Slack messages are numbered, and `click N` (or `click Confirm`,
the latest button with that label) sends the block_actions payload Slack would send.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

HELP = (
    "Type `/ops …` as in Slack (try `/ops help`), `click N` or `click <label>` to press a button, "
    "Ctrl-D to quit."
)


def signed_headers(secret: str, body: str, now: float | None = None) -> dict[str, str]:
    """The headers Slack adds to every request: a timestamp and the v0 signature over the body."""
    ts = str(int(time.time() if now is None else now))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


@dataclass
class Console:
    endpoint: str  # chalice local's /slack/events
    signing_secret: str
    response_url: str  # the Slack stand-in's response_url base
    user: str = "ULOCALOPS"
    buttons: dict[int, dict[str, Any]] = field(default_factory=dict)
    _numbers: Any = field(default_factory=lambda: itertools.count(1))

    def number_buttons(self, blocks: list[dict[str, Any]]) -> None:
        """Give each button of a printed message a number (the label shows it)."""
        for block in blocks:
            if block.get("type") != "actions":
                continue
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    n = next(self._numbers)
                    self.buttons[n] = dict(element)
                    element["text"] = {**element["text"], "text": f"{n} {element['text']['text']}"}

    def line(self, text: str) -> str | None:
        """Handle one typed line; returns an error to show, or None when it was sent."""
        text = text.strip()
        if not text:
            return None
        if text.startswith("/ops"):
            return self.slash(text.removeprefix("/ops").strip())
        if text.startswith("click "):
            return self.click(text.removeprefix("click ").strip())
        if text in ("help", "?"):
            return HELP
        return f"not a Slack command here: {text!r}. {HELP}"

    def slash(self, text: str) -> str | None:
        return self._post(
            {
                "command": "/ops",
                "text": text,
                "user_id": self.user,
                "user_name": "local-operator",
                "team_id": "T0LOCAL",
                "channel_id": "C0OPSALARM",
                "channel_name": "ops-alarms",  # Slack sends both; the viewer rule goes by either
                "response_url": f"{self.response_url}cmd",
                "trigger_id": "local",
            }
        )

    def click(self, which: str) -> str | None:
        button = self._button(which)
        if button is None:
            return f"no button {which!r}; buttons are numbered in the messages above"
        payload = {
            "type": "block_actions",
            "user": {"id": self.user},
            "team": {"id": "T0LOCAL"},
            "channel": {"id": "C0OPSALARM"},
            "api_app_id": "A0LOCAL",
            "token": "local",
            "trigger_id": "local",
            "container": {},
            "response_url": f"{self.response_url}btn",
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": "b",
                    "value": button.get("value", ""),
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self._post({"payload": json.dumps(payload)})

    def _button(self, which: str) -> dict[str, Any] | None:
        if which.isdigit():
            return self.buttons.get(int(which))
        for n in sorted(self.buttons, reverse=True):
            if self.buttons[n]["text"]["text"].lower() == which.lower():
                return self.buttons[n]
        return None

    def _post(self, form: dict[str, str]) -> str | None:
        body = urlencode(form)
        request = urllib.request.Request(
            self.endpoint,
            data=body.encode(),
            headers=signed_headers(self.signing_secret, body),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            return f"Shepherd answered HTTP {exc.code}"
        except OSError as exc:
            return f"could not reach Shepherd at {self.endpoint}: {exc}"
        return None
