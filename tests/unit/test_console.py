"""The local stand-in for Slack's message box: each printed button numbered once, as shown."""

from __future__ import annotations

from devtools.console import Console
from devtools.fake_slack import as_text


def test_a_message_printed_twice_is_numbered_afresh_never_twice() -> None:
    console = Console("http://127.0.0.1:1/slack/events", "secret", "http://127.0.0.1:1/")
    blocks = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}},
            ],
        }
    ]
    first = as_text(console.numbered(blocks))
    second = as_text(console.numbered(blocks))  # the storm summary, shown again at the end
    assert "[1 Acknowledge]" in first and "[2 Acknowledge]" in second
    assert blocks[0]["elements"][0]["text"]["text"] == "Acknowledge"  # as Slack holds it
    assert sorted(console.buttons) == [1, 2]
