"""Every Slack action id Shepherd answers, and the Block Kit pieces its messages are built of."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]

CONFIRM = "ops_confirm"
APPROVE = "ops_approve"  # Confirm by a second operator, on a preview posted for the team
RUNBOOK_LINK = "runbook_link"  # opens the runbook its tag names; the click is only acknowledged
CANCEL = "ops_cancel"
UNDO = "ops_undo"
CANCEL_MOVE = "ops_cancel_move"
RUN_COMMAND = "run_command"  # prefix: `run_command:<n>` buttons carry an `/ops …` command
ACKNOWLEDGE = "alarm_ack"  # value: the alarm's ARN, or `storm:<account>` for a storm summary
ATTENTION_BLOCK = "alarm_attention"  # the actions block with Acknowledge and the snoozes

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_BUTTON = 75


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON)},
    }
    if style:
        element["style"] = style
    return element


def link_button(label: str, action_id: str, url: str) -> Block:
    """A button that opens `url` (Slack still sends the click, which is only acknowledged)."""
    return {
        "type": "button",
        "action_id": action_id,
        "url": url[:3000],
        "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON)},
    }


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block
