"""`/ops` outcomes as Slack messages: the words, the mentions, the buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import markup
from chalicelib.errors import ShepherdError
from chalicelib.ops.outcomes import (
    Audited,
    Diagnosed,
    Done,
    Failed,
    History,
    MoveCancelled,
    Outcome,
    Preview,
    Said,
    Stale,
)
from chalicelib.slack.blocks import (
    APPROVE,
    CANCEL,
    CANCEL_MOVE,
    CONFIRM,
    MAX_BLOCKS,
    RUNBOOK_LINK,
    UNDO,
    Block,
    actions,
    button,
    link_button,
    section,
)
from chalicelib.store.actions import Action

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[Block] | None = None
    thread: list[str] | None = None  # set: post in the channel, with these replies in its thread
    shared: bool = False  # a change made: shown where the command was given, not to one person


def reply_to(work: Callable[[], Outcome]) -> Reply:
    """The reply to a piece of `/ops` work: its outcome, or its error worded, never a traceback."""
    try:
        return reply(work())
    except ShepherdError as exc:
        return Reply(exc.shown())
    except Exception as exc:
        log.exception("/ops failed")
        return Reply(f":x: Shepherd failed: {type(exc).__name__}: {exc}")


def reply(outcome: Outcome) -> Reply:
    match outcome:
        case Said(text, cancel_move):
            if cancel_move:
                return Reply(text, [section(text), actions(_cancel_move(cancel_move))])
            return Reply(text)
        case History():
            return _history(outcome)
        case Diagnosed(diagnosis, reveal):
            from chalicelib.slack.render import headline, render

            return Reply(headline(diagnosis), render(diagnosis, reveal))
        case Audited(report, title, posted):
            from chalicelib.audit import report as words

            text = f"{title}: {words.counts(report)}"
            if not posted:
                note = (
                    f"{text}\n_Shown to you only: this channel is not one of Shepherd's viewer "
                    "channels. Run it in the alarm channel to post the report there._"
                )
                details = [section(t[:2900]) for t in words.thread_texts(report.findings)[:3]]
                blocks = [section(note), *words.summary_blocks(report, title)[1:], *details]
                return Reply(note, blocks)
            return Reply(
                text, words.summary_blocks(report, title), words.thread_texts(report.findings)
            )
        case Preview():
            return _preview(outcome)
        case Stale():
            return _stale(outcome)
        case Done():
            return _done(outcome)
        case Failed(action, code, message):
            return Reply(
                f":x: {markup.code(action.id)} failed: {code}: {message}. {_what_else(action)}"
            )
        case MoveCancelled(user, queue, moved):
            return Reply(
                f":octagonal_sign: {markup.user(user)} cancelled the move of {markup.code(queue)} "
                f"after {moved} message(s); the rest stay in the DLQ."
            )
    raise TypeError(f"no reply for {outcome!r}")


def _history(h: History) -> Reply:
    if not h.actions:
        return Reply("No actions recorded" + (f" for {h.target}." if h.target else "."))
    lines = [
        f"{markup.when(a.at.get(a.status, a.created))} · {markup.code(a.id)} {a.status} · "
        f"{markup.user(a.confirmed_by or a.user)} · {markup.code(a.command)} · {a.summary}"
        + (f" · approved by {markup.user(a.approved_by)}" if a.approved_by else "")
        + (f" · break glass: {markup.code(a.break_glass, 120)}" if a.break_glass else "")
        + (f" · a step of runbook run {markup.code(a.part_of)}" if a.part_of else "")
        + (f" · {a.outcome}" if a.status in ("refused", "failed", "stale") and a.outcome else "")
        for a in h.actions
    ]
    return Reply("*Recent actions*\n" + "\n".join(lines))


def _preview(p: Preview) -> Reply:
    """A change's preview: Confirm for its proposer; Approve for the team when a second operator
    must approve it. A runbook run's shows each step's own preview, in order."""
    a = p.action
    for_team = bool(a.approval)  # posted where any operator but the proposer approves it
    sections = [f"*Preview* {markup.code(a.id)} · {markup.code(a.command)}\n{a.summary}"]
    if p.steps:
        sections += [_step(n, step, for_team) for n, step in enumerate(p.steps, start=1)]
    elif not for_team:
        sections[0] += "".join(f"\n{line}" for line in p.details)
    tail = "".join(f"\n:warning: {r}" for r in a.risks)
    style = "danger" if a.risks else "primary"
    if for_team:
        if p.details or any(step.details for step in p.steps):
            # They may quote data (a redrive's message bodies): not for every channel.
            tail += "\n_Its details (samples, costs) are shown to whoever previews it themselves._"
        tail += (
            f"\n:busts_in_silhouette: {a.approval}: proposed by {markup.user(a.user)}, who cannot "
            "approve it; any other operator of it may."
        )
        first = button("Approve", APPROVE, a.id, style)
    else:
        if a.break_glass:
            tail += f"\n:rotating_light: Break glass, without a second operator: {markup.code(a.break_glass, 300)}"
        first = button("Confirm", CONFIRM, a.id, style)
    links = [
        link_button(label, f"{RUNBOOK_LINK}:{i}", url) for i, (label, url) in enumerate(p.links)
    ]
    if p.steps:  # each step whole, and the run's risks and approver never cut off after them
        ending = markup.as_sections(tail.strip()) if tail.strip() else []
        steps = [block for text in sections for block in markup.as_sections(text)]
        blocks = [*steps[: MAX_BLOCKS - 1 - len(ending)], *ending]
    else:
        blocks = [section(sections[0] + tail)]
    blocks.append(actions(first, button("Cancel", CANCEL, a.id), *links))
    return Reply("\n".join(sections) + tail, blocks, shared=for_team)


def _step(n: int, step: Preview, for_team: bool) -> str:
    """One step of a runbook run's preview: its command and what it will do."""
    s = step.action
    needs = " · _needs a second operator_" if s.approval else ""
    details = "" if for_team else "".join(f"\n{line}" for line in step.details)
    return f"*{n}.* {markup.code(s.command)}{needs}\n{s.summary}{details}"


def _what_else(a: Action) -> str:
    if a.progress:
        return (
            f"{a.progress} message(s) were handled before it stopped (each replayed one deleted "
            "only after Lambda accepted it); the rest are still in the queue."
        )
    return "Nothing else was changed."


def _stale(s: Stale) -> Reply:
    head = f":hourglass: {markup.code(s.action.id)} was not run: {s.why}. Nothing was changed."
    if s.fresh is None:
        return Reply(f"{head}\nA fresh preview could not be made: {s.fresh_refused}")
    fresh = _preview(s.fresh)
    blocks = [section(head), *(fresh.blocks or [])]
    return Reply(f"{head}\n{fresh.text}", blocks, shared=fresh.shared)  # approval: for the team


def _done(d: Done) -> Reply:
    a = d.action
    icon = ":warning:" if d.partial else ":white_check_mark:"
    text = f"{icon} {markup.user(a.confirmed_by)} ran {markup.code(a.command)} ({markup.code(a.id)}): {d.text}"
    text += _second_operator(a)
    if d.unrecorded:
        text += (
            "\n:warning: The change was made, but the action log could not be written; its "
            "record is repaired the next time it is read (`/ops history`)."
        )
    if d.follow_up == "undo":
        label = "Undo runbook" if a.kind == "runbook" else "Undo"
        blocks = [*markup.as_sections(text), actions(button(label, UNDO, a.id))]
        return Reply(text, blocks, shared=True)
    if d.follow_up == "cancel_move":
        return Reply(text, [section(text), actions(_cancel_move(a.id))], shared=True)
    return Reply(text, shared=True)


def _second_operator(a: Action) -> str:
    """Who else stands behind a change: its approver, or the break-glass reason it was made on."""
    if a.approved_by:
        return f"\n:busts_in_silhouette: Proposed by {markup.user(a.user)}, approved by {markup.user(a.approved_by)}."
    if a.break_glass:
        return (
            f"\n:rotating_light: Break glass: {markup.user(a.user)} acted alone, because "
            f"{markup.code(a.break_glass, 300)}"
        )
    return ""


def _cancel_move(action_id: str) -> Block:
    return button("Cancel move", CANCEL_MOVE, action_id)
