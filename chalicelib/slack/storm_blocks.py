"""A storm as Block Kit: the summary in the channel, one reply per function in its thread. Pure."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from chalicelib import markup
from chalicelib.diagnosis.causes import kind_words
from chalicelib.diagnosis.rules import Diagnosis
from chalicelib.slack import edits, render
from chalicelib.slack.blocks import (
    ACKNOWLEDGE,
    ATTENTION_BLOCK,
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_TEXT,
    Block,
    actions,
    button,
    clip,
    section,
)
from chalicelib.store.storms import MAX_REPLIES, OPEN_PREFIX, StormEntry, StormRecord

SHOWN_FUNCTIONS = 15
MAX_SECTIONS = 40  # of alarm names: 300 alarms fit in about ten


def _when(epoch: float) -> str:
    t = datetime.fromtimestamp(epoch, UTC)
    return markup.date(epoch, "{time}", f"{t:%H:%M:%S} UTC")


def title(storm: StormRecord) -> str:
    return f"ALARM STORM: {storm.count} alarms on {storm.functions} function(s)"


def summary(storm: StormRecord, shared: str | None) -> list[Block]:
    entries = storm.entries
    resolved = sum(e.resolved for e in entries)
    first = min(e.fired_at for e in entries)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title(storm), MAX_HEADER)}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f":rotating_light: account {storm.scope} · since {_when(first)}, "
                    f"last {_when(storm.last_fired)} · {resolved} of {len(entries)} back to OK"
                    + (f" (of the newest {len(entries)})" if storm.count > len(entries) else ""),
                }
            ],
        },
    ]
    if storm.ack:
        who = f":eyes: Acknowledged by {markup.user(str(storm.ack['user']))} {_when(float(storm.ack['at']))}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": who}]})
    if shared:
        blocks.append(section(f"*Shared cause:* {shared}"))
    kinds = Counter(e.kind for e in entries)
    blocks.append(
        section("*By cause:* " + " · ".join(f"{kind_words(k)} {n}" for k, n in kinds.most_common()))
    )
    functions = Counter(e.function for e in entries)
    shown = " · ".join(f"{markup.code(f)} {n}" for f, n in functions.most_common(SHOWN_FUNCTIONS))
    more = len(functions) - SHOWN_FUNCTIONS
    blocks.append(section("*By function:* " + shown + (f" · and {more} more" if more > 0 else "")))
    blocks.extend(section(text) for text in _alarm_list(entries))
    unreplied = storm.functions - len(storm.replies)
    if unreplied > 0 and len(storm.replies) >= MAX_REPLIES:
        blocks.append(
            section(
                f"_{unreplied} function(s) beyond the first {MAX_REPLIES} have no diagnosis reply "
                "in the thread: `/ops diagnose <function>` gives one._"
            )
        )
    blocks = blocks[: MAX_BLOCKS - 1]
    if not storm.ack:
        ack = button("Acknowledge", ACKNOWLEDGE, f"{OPEN_PREFIX}{storm.scope}", "primary")
        blocks.append(actions(ack, block_id=ATTENTION_BLOCK))
    return blocks


def _alarm_list(entries: list[StormEntry]) -> list[str]:
    """Every alarm, newest first, in as many sections as it takes (each within Slack's limit)."""
    sections, current = [], "*Alarms, newest first* (a diagnosis per function in the thread):"
    for e in sorted(entries, key=lambda e: e.fired_at, reverse=True):
        line = f"\n• {_when(e.fired_at)} {markup.code(e.function)} {markup.prose(e.name, 255)} — {kind_words(e.kind)}"
        line += " · OK" if e.resolved else ""
        if len(current) + len(line) > MAX_TEXT - 20:
            sections.append(current)
            current = line.lstrip("\n")
        else:
            current += line
    return [*sections, current][:MAX_SECTIONS]


def function_reply(storm: StormRecord, function: str, diagnosis: Diagnosis) -> list[Block]:
    head = section(
        f"*{markup.prose(function, 255)}* in the storm: the diagnosis of its first alarm"
    )
    # Acknowledged with the storm, on its summary; each alarm can still be snoozed here.
    return [head, *edits.without_acknowledge(render.render(diagnosis))][:MAX_BLOCKS]
