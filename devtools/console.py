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
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

HELP = (
    "Type `/ops …` as in Slack (try `/ops help`), `click N` or `click <label>` to press a button, "
    "`home` to open Shepherd's Home tab, `as U…` to be another Slack user (a second operator "
    "approving), Ctrl-D to quit."
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

    def numbered(self, blocks: list[dict[str, Any]], home: bool = False) -> list[dict[str, Any]]:
        """A copy of a message (or the Home tab) as printed: each button numbered, the label
        showing it. The message itself is left as Slack holds it, so that printing it again
        numbers it afresh, never twice."""
        import copy

        blocks = copy.deepcopy(blocks)
        for block in blocks:
            elements = block.get("elements", []) if block.get("type") == "actions" else []
            if block.get("type") == "section" and block.get("accessory"):
                elements = [block["accessory"]]
            for element in elements:
                if element.get("type") == "button":
                    n = next(self._numbers)
                    self.buttons[n] = {**element, "_home": home}
                    element["text"] = {**element["text"], "text": f"{n} {element['text']['text']}"}
        return blocks

    def line(self, text: str) -> str | None:
        """Handle one typed line; returns an error to show, or None when it was sent."""
        text = text.strip()
        if not text:
            return None
        if text.startswith("/ops"):
            return self.slash(text.removeprefix("/ops").strip())
        if text.startswith("click "):
            return self.click(text.removeprefix("click ").strip())
        if text == "home":
            return self.home()
        if text.startswith("as "):
            who = text.removeprefix("as ").strip()
            if not re.fullmatch(r"[UW][A-Z0-9]{1,31}", who):
                return f"not a Slack user id: {who!r} (they look like ULOCALPEER)"
            self.user = who
            return f"you are now {who}"
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

    def home(self) -> str | None:
        """Open Shepherd's Home tab, as Slack tells the app (an `app_home_opened` event)."""
        event = {
            "token": "local",
            "team_id": "T0LOCAL",
            "api_app_id": "A0LOCAL",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": self.user,
                "channel": "D0LOCAL",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
        }
        return self._post_json(json.dumps(event))

    def click(self, which: str) -> str | None:
        button = self._button(which)
        if button is None:
            return f"no button {which!r}; buttons are numbered in the messages above"
        payload: dict[str, Any] = {
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
        if button.get("_home"):  # a click on the Home tab: a view, no response_url
            del payload["response_url"], payload["channel"]
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
        return self._post({"payload": json.dumps(payload)})

    def _post_json(self, body: str) -> str | None:
        headers = {**signed_headers(self.signing_secret, body), "Content-Type": "application/json"}
        return self._send(body, headers)

    def _button(self, which: str) -> dict[str, Any] | None:
        if which.isdigit():
            return self.buttons.get(int(which))
        for n in sorted(self.buttons, reverse=True):
            if self.buttons[n]["text"]["text"].lower() == which.lower():
                return self.buttons[n]
        return None

    def _post(self, form: dict[str, str]) -> str | None:
        body = urlencode(form)
        return self._send(body, signed_headers(self.signing_secret, body))

    def _send(self, body: str, headers: dict[str, str]) -> str | None:
        request = urllib.request.Request(
            self.endpoint, data=body.encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            return f"Shepherd answered HTTP {exc.code}"
        except OSError as exc:
            return f"could not reach Shepherd at {self.endpoint}: {exc}"
        return None
