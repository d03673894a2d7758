"""The one rule for text in Slack (chalicelib/markup.py), context by context."""

from __future__ import annotations

import re

import pytest

from chalicelib import markup

HOSTILE = "x`<!channel> <https://evil.example|Click to fix> & <@UEVIL>\x1b[31m red\x1b[0m\x00\u202e"
LIVE = re.compile(r"<[@#!h][^>]*>")


def wire(text: str) -> str:
    return markup.finish(text)


@pytest.mark.parametrize(
    "made",
    [
        markup.code(HOSTILE),
        markup.code_block(HOSTILE + "\n```\nmore"),
        markup.prose(HOSTILE),
        f"*{markup.prose(HOSTILE)}*",
        markup.link("https://console.aws.amazon.com/", HOSTILE),
    ],
)
def test_outside_text_is_never_live_markup_in_any_context(made: str) -> None:
    sent = wire(made)
    live = LIVE.findall(sent)
    # Only the link Shepherd made is live, and its label (outside text) is escaped within it.
    assert all(t.startswith("<https://console.aws.amazon.com/|") for t in live), live
    assert "\x1b" not in sent and "\x00" not in sent and "\u202e" not in sent
    assert "&lt;!channel&gt;" in sent  # shown, as text


def test_a_code_span_cannot_be_closed_by_what_it_holds() -> None:
    sent = wire(f"before {markup.code(HOSTILE)} after")
    assert sent.count("`") == 2 and sent.startswith("before `") and sent.endswith("` after")


def test_a_code_block_cannot_be_closed_by_what_it_holds() -> None:
    sent = wire(markup.code_block("a\n```\n<!here>\nb"))
    assert sent.count("```") == 2 and "&lt;!here&gt;" in sent and "\n" in sent


def test_shepherd_s_own_tokens_stay_live_and_only_well_formed_ids_make_one() -> None:
    sent = wire(f"{markup.user('U123ABC')} {markup.here()} {markup.when(0)} {markup.group('S1X')}")
    assert sent.startswith("<@U123ABC> <!here> <!date^0^")
    assert sent.endswith("<!subteam^S1X>")
    forged = wire(markup.user("U1> <!channel"))
    assert "<!channel" not in forged and "&lt;!channel" in forged


def test_lengths_are_capped_and_newlines_leave_code_spans() -> None:
    long = markup.code("a" * 500 + "\nb", limit=50)
    assert len(markup.unmarked(long)) == 52 and "\n" not in long
    assert len(markup.prose("p" * 5000)) == markup.PROSE_LIMIT


def test_blocks_at_the_wire_are_verbatim_and_plain_text_unmarked() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"ALARM {markup.code('a<b')}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": markup.prose("<!channel>")}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "value": "<keep>", "text": {"type": "plain_text", "text": "Go"}}
            ],
        },
    ]
    sent = markup.finish_blocks(blocks)
    assert sent[0]["text"]["text"] == "ALARM a<b"  # plain text: shown as it is, never parsed
    assert sent[1]["text"] == {"type": "mrkdwn", "text": "&lt;!channel&gt;", "verbatim": True}
    assert sent[2]["elements"][0]["value"] == "<keep>"  # values are data, not text


def test_unmarked_reads_as_slack_shows_it() -> None:
    made = f"{markup.user('U1AB')} ran {markup.code('/ops x')}"
    assert markup.unmarked(made) == "<@U1AB> ran `/ops x`"
