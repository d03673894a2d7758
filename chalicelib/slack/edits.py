"""How a posted alarm message changes in place: acknowledged, recovered, firing again, fixed.
Each takes the stored blocks and returns the new ones (the store keeps them for later edits)."""

from __future__ import annotations

from datetime import datetime

from chalicelib import markup
from chalicelib.slack.blocks import (
    ACKNOWLEDGE,
    ATTENTION_BLOCK,
    MAX_BLOCKS,
    MAX_HEADER,
    RUN_COMMAND,
    Block,
    clip,
)
from chalicelib.units import duration


def without_acknowledge(blocks: list[Block]) -> list[Block]:
    """The blocks without their Acknowledge button (the snoozes stay)."""
    out = []
    for b in blocks:
        if b.get("type") == "actions" and b.get("block_id") == ATTENTION_BLOCK:
            kept = [e for e in b["elements"] if e.get("action_id") != ACKNOWLEDGE]
            b = {**b, "elements": kept}
            if not kept:
                continue
        out.append(b)
    return out


def acknowledged(blocks: list[Block], user: str, at: datetime) -> list[Block]:
    """The message once someone is on it: who and when, and no Acknowledge button."""
    out = without_acknowledge(blocks)
    note = {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": f":eyes: Acknowledged by {markup.user(user)} {_when(at)}"}
        ],
    }
    out.insert(min(2, len(out)), note)
    return out[:MAX_BLOCKS]


def render_recovered(
    original: list[Block],
    recovered_at: datetime,
    took_s: float | None,
    flapped: tuple[int, datetime] | None = None,
) -> list[Block]:
    """The alarm message updated in place: marked recovered, buttons gone (and how it flapped)."""
    blocks = [b for b in original if b.get("type") != "actions"]
    if blocks and blocks[0].get("type") == "header":
        title = blocks[0]["text"]["text"]
        title = (
            title.replace("ALARM:", "RESOLVED:", 1)
            if title.startswith("ALARM:")
            else f"RESOLVED: {title}"
        )
        blocks[0] = {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(title, MAX_HEADER)},
        }
    note = f":large_green_circle: Back to OK {_when(recovered_at)}"
    if took_s is not None:
        note += f" after {duration(took_s, exact=True)}"
    if flapped and flapped[0]:
        note += f" · {flap_note(*flapped)}"
    blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return blocks[:MAX_BLOCKS]


def render_refired(
    original: list[Block], fired_at: datetime, flaps: int, first: datetime
) -> list[Block]:
    """The alarm message updated in place when it fires again soon after recovering (flapping)."""
    note = f"{flap_note(flaps, first)}, firing again {_when(fired_at)}"
    blocks = list(original)
    blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return blocks[:MAX_BLOCKS]


def flap_note(flaps: int, first: datetime) -> str:
    return f":repeat: Flapping: fired {flaps + 1} times since {_when(first)}"


def fix_applied(blocks: list[Block], command: str, user: str, action_id: str) -> list[Block] | None:
    """The message once its fix has been run: that button gone, who ran it said; None when no
    button of the message runs `command`."""
    wanted = _bare(command)
    out, found = [], False
    for b in blocks:
        if b.get("type") == "actions":
            kept = [
                e
                for e in b["elements"]
                if not (
                    str(e.get("action_id", "")).startswith(f"{RUN_COMMAND}:")
                    and _bare(str(e.get("value", ""))) == wanted
                )
            ]
            found |= len(kept) < len(b["elements"])
            b = {**b, "elements": kept}
            if not kept:
                continue
        out.append(b)
    if not found:
        return None
    note = (
        f":white_check_mark: Fix applied by {markup.user(user)}: "
        f"{markup.code('/ops ' + wanted)} ({markup.code(action_id)}) — `/ops undo` reverts it"
    )
    out.insert(
        min(2, len(out)), {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    )
    return out[:MAX_BLOCKS]


def offers(blocks: list[Block], command: str) -> bool:
    """Whether a button of the message runs `command`."""
    wanted = _bare(command)
    return any(
        str(e.get("action_id", "")).startswith(f"{RUN_COMMAND}:")
        and _bare(str(e.get("value", ""))) == wanted
        for b in blocks
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    )


def _bare(command: str) -> str:
    return " ".join(command.strip().removeprefix("/ops").split())


def _when(t: datetime) -> str:
    return markup.when(t)


def without_links(blocks: list[Block]) -> list[Block]:
    """`blocks` without their link buttons (an actions block left empty goes too)."""
    out = []
    for block in blocks:
        if block.get("type") == "actions":
            kept = [e for e in block.get("elements") or [] if not e.get("url")]
            if not kept:
                continue
            block = {**block, "elements": kept}
        out.append(block)
    return out
