"""Diagnosis → Block Kit, within Slack's limits. Pure."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any

from chalicelib import markup
from chalicelib.diagnosis.causes import kind_title, kind_words
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.diagnosis.logs import ERRORISH, redact
from chalicelib.diagnosis.rules import Diagnosis
from chalicelib.events.signals import Alarm, FailureRecord
from chalicelib.slack.blocks import (
    ACKNOWLEDGE,
    ATTENTION_BLOCK,
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_TEXT,
    RUN_COMMAND,
    RUNBOOK_LINK,
    Block,
    button,
    clip,
    link_button,
)
from chalicelib.units import sparkline

SHOWN_CAUSES = 4
EXCERPT_LINES = 8

STATE_ICON = {
    "ALARM": ":red_circle:",
    "OK": ":large_green_circle:",
    "INSUFFICIENT_DATA": ":white_circle:",
}


def alarm_fields(d: Diagnosis) -> dict[str, Any]:
    """The `alarm` object of the CLI contract, for alarms and destination records alike."""
    s = d.evidence.signal
    if isinstance(s, Alarm):
        return {
            "name": s.name,
            "state": s.state,
            "previous_state": s.previous_state,
            "time": s.time.isoformat(),
            "region": s.region,
            "account": s.account,
        }
    return {
        "name": f"{s.function_name} async failure",
        "state": "ALARM",
        "previous_state": None,
        "time": s.time.isoformat(),
        "region": s.region,
        "account": s.account,
    }


def to_json(d: Diagnosis) -> dict[str, Any]:
    r = d.evidence.resource
    return {
        "alarm": alarm_fields(d),
        "resource": {"type": r.type, "name": r.label, "arn": r.arn},
        "causes": [
            {
                "kind": c.kind,
                "confidence": round(c.confidence, 2),
                "summary": markup.unmarked(c.summary),
                "evidence": [markup.unmarked(e) for e in (*c.evidence, *c.quoted)],
                "action": {"label": markup.unmarked(c.action.label), "command": c.action.command}
                if c.action
                else None,
            }
            for c in d.causes
        ],
        "blocks": markup.finish_blocks(render(d)),  # as Slack is sent them
    }


def headline(d: Diagnosis) -> str:
    a = alarm_fields(d)
    s = d.evidence.signal
    if isinstance(s, Alarm) and s.requested:
        label = markup.prose(d.evidence.resource.label, 255)
        return f"Diagnosis: {label} — {kind_words(d.top.kind)}"
    return (
        f"{a['state']}: {markup.prose(a['name'], 255)} — {kind_words(d.top.kind)} "
        f"({markup.prose(d.evidence.resource.label, 255)})"
    )


WITHHELD = "_Log lines and message bodies are shown to viewers only (`SHEPHERD_VIEWERS`)._"


def render(d: Diagnosis, reveal: bool = True) -> list[Block]:
    """The diagnosis as blocks; `reveal`: with the lines that quote logs and messages (for the
    channels and people of the viewer rule)."""
    ev = d.evidence
    a = alarm_fields(d)
    icon = STATE_ICON.get(a["state"], ":red_circle:")
    asked = isinstance(ev.signal, Alarm) and ev.signal.requested
    if asked:  # `/ops diagnose`: no alarm fired, so no alarm state, Acknowledge or Snooze
        icon = ":mag:"
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(
                    markup.clean(
                        f"Diagnosis: {ev.resource.label}"
                        if asked
                        else f"{a['state']}: {a['name']}",
                        lines=False,
                    ),
                    MAX_HEADER,
                ),
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": clip(
                        f"{icon} *{ev.resource.type}* {markup.code(ev.resource.label)} · "
                        f"{markup.prose(a['region'], 40)} · account {markup.prose(a['account'], 40)} · "
                        f"{_when(ev.signal.time)}",
                        MAX_TEXT,
                    ),
                },
            ],
        },
    ]
    reason = _reason(ev)
    if reason:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(reason)}})
    blocks.append({"type": "divider"})
    for i, cause in enumerate(d.causes[:SHOWN_CAUSES], start=1):
        lines = [f"*{i}. {kind_title(cause.kind)}* · {cause.confidence:.0%} — {cause.summary}"]
        shown = [*cause.evidence, *cause.quoted] if reveal else [*cause.evidence]
        lines.extend(f"• {markup.redacted(e, redact)}" for e in shown[:6])
        if cause.quoted and not reveal:
            lines.append(WITHHELD)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines))}}
        )
    summary = metrics_summary(ev, d)
    if summary:
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": clip(f, 2000)} for f in summary[:10]],
            }
        )
    excerpt = log_excerpt(ev) if reveal else ""
    if excerpt:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip(f"*Logs*\n{markup.code_block(excerpt)}")},
            }
        )
    if ev.unchecked:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip("; ".join(ev.unchecked))}],
            }
        )
    buttons = _buttons(d)
    attention = attention_buttons(d)
    if buttons:
        blocks.append({"type": "actions", "block_id": "diagnosis_actions", "elements": buttons})
    blocks = blocks[: MAX_BLOCKS - 1]
    if attention:
        blocks.append({"type": "actions", "block_id": ATTENTION_BLOCK, "elements": attention})
    return blocks


def unconfigured(signal: Alarm | FailureRecord) -> tuple[str, list[Block]]:
    """The notice for a signal from an account that is neither Shepherd's own nor configured."""
    if isinstance(signal, Alarm):
        what, why = signal.name, signal.reason
    else:
        what = f"{signal.function_name} async failure"
        why = f"{signal.condition} after {signal.attempts} attempt(s)"
    title = clip(markup.clean(f"ALARM: {what}", lines=False), MAX_HEADER)
    note = (
        f":grey_question: From account {markup.code(signal.account, 40)} "
        f"({markup.prose(signal.region, 40)}), which Shepherd is not configured for: not "
        "diagnosed, and nothing can be done from here. To have it diagnosed, add the account to "
        "the accounts file and deploy `deploy/member-account.yaml` there."
    )
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(markup.prose(why))}},
    ]
    text = (
        f"ALARM from unconfigured account {markup.prose(signal.account, 40)}: "
        f"{markup.prose(what, 255)}"
    )
    return text, blocks


SNOOZES = (("Snooze 1 h", "1h"), ("Snooze 4 h", "4h"), ("Snooze until tomorrow 09:00", "tomorrow"))


def attention_buttons(d: Diagnosis) -> list[Block]:
    """Acknowledge and the snoozes, on an alarm's message (a snooze is an `/ops` change)."""
    s = d.evidence.signal
    if not isinstance(s, Alarm) or s.requested:
        return []
    buttons = [button("Acknowledge", ACKNOWLEDGE, s.arn[:2000])]
    for label, length in SNOOZES:
        command = f"/ops snooze {shlex.quote(s.name)} {length}{d.evidence.where}"
        buttons.append(button(label, f"{RUN_COMMAND}:snooze-{length}", command[:2000]))
    return buttons


SHAPE_OF = {  # the series whose shape tells a cause at a glance
    "timeout": "DurationMax",
    "throttling": "Throttles",
    "iterator_age": "IteratorAge",
    "no_invocations": "Invocations",
    "invocation_spike": "Invocations",
    "cold_starts": "DurationMax",
    "duration_anomaly": "DurationAvg",
    "async_backlog": "AsyncEventAge",
    "recursive_loop": "RecursiveInvocationsDropped",
    "account_concurrency": "ClaimedAccountConcurrency",
}


def shape(d: Diagnosis) -> tuple[str, str] | None:
    """(metric, sparkline) over the look-back and the alarm window, for the top cause."""
    ev = d.evidence
    key = SHAPE_OF.get(d.top.kind) or ("Errors" if ev.total("Errors") else "Invocations")
    if key not in ev.metrics:
        return None
    w = ev.window
    values = [v for t, v in ev.metrics[key] if w.lookback_start <= t <= w.end]
    line = sparkline(values)
    return (key, line) if line else None


def metrics_summary(ev: Evidence, d: Diagnosis | None = None) -> list[str]:
    fields: list[str] = []
    drawn = shape(d) if d is not None else None
    if drawn:
        fields.append(f"*{drawn[0]}, last 3 h*\n`{drawn[1]}`")
    if ev.resource.type == "function":
        inv = ev.total("Invocations")
        if ev.has("Invocations"):
            fields.append(
                f"*Invocations*\n{inv:.0f} (3 h before: {ev.total('Invocations', lookback=True):.0f})"
            )
        rate = ev.error_rate()
        if rate is not None:
            fields.append(f"*Error rate*\n{rate:.1%} ({ev.total('Errors'):.0f} errors)")
        if ev.total("Throttles"):
            fields.append(f"*Throttles*\n{ev.total('Throttles'):.0f}")
        peak = ev.peak("DurationMax")
        if peak is not None:
            limit = (
                f" of {ev.function.timeout_s} s" if ev.function and ev.function.timeout_s else ""
            )
            fields.append(f"*Max duration*\n{peak / 1000:.1f} s{limit}")
        conc = ev.peak("ConcurrentExecutions")
        if conc is not None:
            reserved = ev.function.reserved_concurrency if ev.function else None
            fields.append(
                f"*Peak concurrency*\n{conc:.0f}"
                + (f" (reserved {reserved})" if reserved is not None else "")
            )
        age = ev.peak("IteratorAge")
        if age is not None:
            fields.append(f"*Iterator age*\n{age / 1000:.0f} s")
        if ev.function and ev.function.alias_version:
            fields.append(
                f"*Alias*\n{markup.code(ev.function.alias)} → v{ev.function.alias_version}"
            )
    q = ev.queue
    if q is not None and q.visible is not None:
        fields.append(
            f"*{markup.prose(q.name, 80)}*\n{q.visible} visible, {q.in_flight or 0} in flight"
        )
    return fields


def log_excerpt(ev: Evidence) -> str:
    interesting = [line.message for line in ev.logs if ERRORISH.search(line.message)]
    picked = interesting[-EXCERPT_LINES:]
    text = "\n".join(redact(m.strip().splitlines()[0] if m.strip() else m)[:300] for m in picked)
    return clip(text, MAX_TEXT - 20)  # made a code block that nothing in it can close


def _reason(ev: Evidence) -> str:
    s = ev.signal
    if isinstance(s, FailureRecord):
        return (
            f"Async invocation {markup.code(s.request_id)} of "
            f"{markup.code(s.function_arn.split(':function:')[-1])} "
            f"failed after {s.attempts} attempt(s): {markup.prose(s.condition, 200)}"
        )
    text = markup.prose(s.reason)
    if s.shape == "composite" and s.rule:
        text = f"Composite rule: {markup.code(s.rule, 1000)}\n{text}"
    if s.description:
        text = f"_{markup.prose(s.description, 1024)}_\n{text}"
    return text


def _buttons(d: Diagnosis) -> list[Block]:
    buttons: list[Block] = []
    seen: set[str] = set()
    for cause in d.causes:
        if cause.action and cause.action.command not in seen and len(buttons) < 4:
            seen.add(cause.action.command)
            buttons.append(
                button(
                    cause.action.label,
                    f"{RUN_COMMAND}:{len(buttons)}",
                    cause.action.command[:2000],
                    None if buttons else "primary",
                )
            )
    for offer in d.runbooks:  # the runbooks it matches (chalicelib/ops/runbooks.py)
        buttons.append(button(offer.label, f"{RUN_COMMAND}:{len(buttons)}", offer.command[:2000]))
    r = d.evidence.resource
    if r.type == "function":
        status = f"/ops status {r.name}{d.evidence.where}"
        buttons.append(button("Status", f"{RUN_COMMAND}:status", status))
    if d.evidence.runbook:  # its tag, already checked to be an https URL
        buttons.append(link_button("Runbook", RUNBOOK_LINK, d.evidence.runbook))
    return buttons


def _when(t: datetime) -> str:
    return markup.when(t)
