"""Shepherd's Home tab as a Block Kit `home` view (views.publish). Pure."""

from __future__ import annotations

from typing import Any

from chalicelib import markup
from chalicelib.ops.home import HomeFacts
from chalicelib.slack.blocks import ACKNOWLEDGE, UNDO, Block, button, clip, section
from chalicelib.store.storms import OPEN_PREFIX
from chalicelib.units import duration

MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home view
SHOWN = 15  # per list


def _when(epoch: float) -> str:
    return markup.when(epoch)


def _ack(ack: dict[str, Any] | None) -> str:
    return (
        f"acknowledged by {markup.user(str(ack['user']))} {_when(float(ack['at']))}"
        if ack
        else "*nobody on it*"
    )


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def view(f: HomeFacts) -> dict[str, Any]:
    blocks: list[Block] = [
        _header("Shepherd"),
        _context(f"As of {_when(f.now)} · `/ops help` for commands"),
        _header(f"Open alarms ({len(f.alarms)}) and storms ({len(f.storms)})"),
    ]
    if not f.alarms and not f.storms:
        blocks.append(section(":large_green_circle: Nothing is firing."))
    for s in f.storms[:SHOWN]:
        line = (
            f":rotating_light: *Storm in account {s.scope}*: {s.alarms} alarms on {s.functions} "
            f"function(s), {s.open} still firing · for {duration(f.now - s.since)} · {_ack(s.ack)}"
        )
        blocks.append(_with_ack(line, None if s.ack else f"{OPEN_PREFIX}{s.scope}"))
    for a in f.alarms[:SHOWN]:
        line = (
            f":red_circle: *{a.name}* · firing for {duration(f.now - a.fired_at)} · {_ack(a.ack)}"
            + (f" · {a.reminders} reminder(s)" if a.reminders else "")
        )
        blocks.append(_with_ack(line, None if a.ack else a.arn))
    blocks.append(_header(f"Snoozed ({len(f.snoozes)})"))
    if not f.snoozes:
        blocks.append(section("No alarm is snoozed."))
    for z in f.snoozes[:SHOWN]:
        blocks.append(
            _with_undo(
                f":zzz: *{markup.prose(z.alarm, 255)}* until {_when(z.until)} (in {duration(z.until - f.now)}) · "
                f"by {markup.user(z.user)} · {markup.code(z.action_id)}",
                z.action_id,
            )
        )
    blocks.append(_header(f"Changes in the last 24 h ({len(f.actions)})"))
    if not f.actions:
        blocks.append(section("No change was made through Shepherd."))
    for act in f.actions[:SHOWN]:
        who = act.confirmed_by or act.user
        line = (
            f"{markup.code(act.id)} {_when(act.created)} · {markup.user(who)} · {markup.code(act.command)} · *{act.status}*"
            f"\n{act.summary}"
        )
        blocks.append(_with_undo(line, act.id if act.id in f.undoable else None))
    blocks.append(_header("IAM audit"))
    blocks.append(section(_audit(f.audit)))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _with_ack(text: str, value: str | None) -> Block:
    block = section(text)
    if value:
        block["accessory"] = button("Acknowledge", ACKNOWLEDGE, value[:2000])
    return block


def _with_undo(text: str, action_id: str | None) -> Block:
    block = section(text)
    if action_id:
        block["accessory"] = button("Undo", UNDO, action_id)
    return block


def _audit(run: dict[str, Any] | None) -> str:
    if run is None:
        return "No scheduled audit has run yet; `/ops audit` runs one now."
    return (
        f"Last run {_when(float(run['at']))}: *{run.get('new', 0)} new*, "
        f"*{run.get('fixed', 0)} fixed*"
        + (f", *{run['changed']} changed*" if run.get("changed") else "")
        + f" · {run.get('findings', 0)} findings in all"
    )
