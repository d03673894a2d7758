"""An audit report for people: terminal text, Slack summary and thread, and what changed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from chalicelib.audit.findings import KINDS, Finding, Report

ICONS = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":white_circle:",
    "info": ":information_source:",
}
THREAD_CHUNK = 2800  # a section's text is at most 3,000 characters


@dataclass(frozen=True)
class Change:
    new: list[Finding]
    fixed: list[str]  # keys of findings no longer reported
    changed: list[Finding] = field(default_factory=list)  # same place, different grant

    @property
    def empty(self) -> bool:
        return not self.new and not self.fixed and not self.changed

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "fixed": len(self.fixed), "changed": len(self.changed)}


def diff(previous: Iterable[str] | None, report: Report) -> Change:
    """What is new and what was fixed since the previous run's finding keys."""
    before = set(previous or ())
    # Keys stored before they carried what a finding grants name only where it is: such a key
    # stands for any finding there, so an upgrade reports nothing new or fixed by itself.
    legacy = {k for k in before if k.count("|") == 3}
    now = {f.key for f in report.findings}
    here = {f.identity for f in report.findings}
    was = {k.rsplit("|", 1)[0] for k in before if k not in legacy}  # where findings were
    moved = [f for f in report.findings if f.key not in before and f.identity in was]
    new = [
        f
        for f in report.findings
        if f.key not in before and f.identity not in legacy and f.identity not in was
    ]
    gone = before - now
    fixed = sorted(
        k
        for k in gone
        if (k not in legacy or k not in here) and (k in legacy or k.rsplit("|", 1)[0] not in here)
    )
    return Change(new, fixed, moved)


def write_json(report: Report, out: IO[str], batch: int = 1000) -> None:
    """`{"summary": …, "findings": […]}` as compact JSON (the C encoder), a batch of findings at
    a time: a 30,000-role report is never one string in memory."""
    out.write('{"summary":' + json.dumps(report.summary(), separators=(",", ":")))
    out.write(',"findings":[')
    for start in range(0, len(report.findings), batch):
        chunk = [f.to_json() for f in report.findings[start : start + batch]]
        out.write(("," if start else "") + json.dumps(chunk, separators=(",", ":"))[1:-1])
    out.write("]}\n")


def spelled(actions: tuple[str, ...]) -> list[str]:
    """Actions as AWS spells them (`iam:PassRole`), whatever case a finding keeps them in."""
    from chalicelib.audit.catalogue import load

    catalogue = load()
    return [catalogue.proper(a) for a in actions]


def many(n: int, one: str, more: str | None = None) -> str:
    """`1 role`, `2 roles`."""
    return f"{n} {one if n == 1 else more or one + 's'}"


def counts(report: Report) -> str:
    s = report.summary()
    parts = [f"{n} {sev}" for sev, n in s["by_severity"].items()]
    return f"{s['findings']} finding(s)" + (f" ({', '.join(parts)})" if parts else "")


def text(report: Report) -> str:
    s = report.summary()
    p = s["principals"]
    lines = [
        f"IAM wildcard audit: {counts(report)} in {many(p['roles'], 'role')}, "
        f"{many(p['users'], 'user')}, {many(p['groups'], 'group')}, "
        f"{many(s['policies'], 'managed policy', 'managed policies')} "
        f"(catalogue {s['catalogue']}; {s['suppressed']} suppressed"
        + (
            f", {s['expired_suppressions']} under expired suppressions"
            if s["expired_suppressions"]
            else ""
        )
        + ")"
    ]
    for f in report.findings:
        lines.append(f"{f.severity:<9}{f.kind:<20}{f.principal}  {f.policy}  [{f.statement}]")
        lines.append(f"         {f.detail}")
        if f.actions:
            more = (
                f" … +{f.actions_total - len(f.actions)}"
                if f.actions_total > len(f.actions)
                else ""
            )
            lines.append(
                f"         {', '.join(spelled(f.actions[:8]))}"
                f"{' …' if len(f.actions) > 8 else ''}{more}"
            )
    if s["unresolved_policies"]:
        lines.append("Attached but not in the input: " + ", ".join(s["unresolved_policies"]))
    return "\n".join(lines)


def line(f: Finding) -> str:
    actions = ", ".join(f"`{a}`" for a in spelled(f.actions[:5]))
    more = f" +{f.actions_total - 5}" if f.actions_total > 5 else ""
    return (
        f"{ICONS.get(f.severity, '')} *{KINDS[f.kind].title}* · `{f.principal}` · "
        f"{_policy(f.policy)} [{f.statement}]\n{f.detail}"
        + (f"\n{actions}{more}" if actions else "")
    )


def summary_blocks(
    report: Report, title: str, change: Change | None = None
) -> list[dict[str, Any]]:
    s = report.summary()
    kinds = ", ".join(f"{KINDS[k].title.lower()}: {n}" for k, n in s["by_kind"].items()) or "none"
    body = f"*{counts(report)}* · {kinds}"
    if change is not None:
        moved = f", *{len(change.changed)} changed*" if change.changed else ""
        body = (
            f"*{len(change.new)} new*, *{len(change.fixed)} fixed*{moved} since the last run\n"
            + body
        )
    context = (
        f"{many(s['principals']['roles'], 'role')} · {many(s['principals']['users'], 'user')} · "
        f"{many(s['principals']['groups'], 'group')} · "
        f"{many(s['policies'], 'managed policy', 'managed policies')} · "
        f"{s['suppressed']} suppressed"
        + (
            f" · {s['expired_suppressions']} under expired suppressions"
            if s["expired_suppressions"]
            else ""
        )
        + f" · catalogue {s['catalogue']}"
    )
    return [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]},
    ]


def thread_texts(
    findings: list[Finding],
    fixed: list[str] | None = None,
    limit: int = 20,
    changed: list[Finding] | None = None,
) -> list[str]:
    """The details, a few thread messages of at most THREAD_CHUNK characters each."""
    items = [line(f) for f in findings]
    items += [":arrows_counterclockwise: changed: " + line(f) for f in changed or ()]
    if fixed:
        items += [":white_check_mark: fixed: " + _fixed(key) for key in fixed]
    chunks: list[str] = []
    current = ""
    for item in items:
        if len(current) + len(item) + 2 > THREAD_CHUNK:
            chunks.append(current)
            current = ""
            if len(chunks) == limit:
                break
        current = f"{current}\n\n{item}" if current else item
    else:
        if current:
            chunks.append(current)
    shown = sum(c.count("\n\n") + 1 for c in chunks)
    if shown < len(items):
        chunks.append(
            f"… and {len(items) - shown} more: run `shepherd audit --json` for all of them"
        )
    return chunks


def _fixed(key: str) -> str:
    kind, principal, policy, statement = [*key.split("|"), "", "", ""][:4]
    return f"{KINDS[kind].title if kind in KINDS else kind} · `{principal}` · {_policy(policy)} [{statement}]"


def _policy(policy: str) -> str:
    return f"`{policy.rsplit('/', 1)[-1]}`" if policy.startswith("arn:") else f"`{policy}`"
