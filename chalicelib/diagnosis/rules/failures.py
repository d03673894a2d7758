"""What the function's own code ran into: permissions, a throttling dependency, exceptions."""

from __future__ import annotations

from chalicelib.diagnosis import logs as L
from chalicelib.diagnosis.causes import (
    Cause,
    log_messages,
    matching,
    quote,
    rate_line,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.events.signals import FailureRecord


@rule
def permission_denied(ev: Evidence) -> Cause | None:
    denied = matching(ev, L.PERMISSION)
    if not denied:
        return None
    actions = sorted(
        {m["action"] for line in denied if (m := L.PERMISSION.search(line)) and m["action"]}
    )
    evidence = [f"{len(denied)} × access denied in the logs"]
    if actions:
        evidence.append("Denied: " + ", ".join(f"`{a}`" for a in actions))
    return Cause(
        "permission_denied",
        0.88,
        "The function's role is not allowed to do what the code asks.",
        tuple(evidence),
        quoted=(f"e.g. `{quote(denied[0])}`",),
    )


@rule
def downstream_throttling(ev: Evidence) -> Cause | None:
    hits = matching(ev, L.DOWNSTREAM)
    if not hits:
        return None
    return Cause(
        "downstream_throttling",
        0.82,
        "A dependency is throttling or unavailable (429/503, rate exceeded).",
        (f"{len(hits)} × throttled by a dependency",),
        quoted=(f"e.g. `{quote(hits[0])}`",),
    )


@rule
def code_error(ev: Evidence) -> Cause | None:
    signatures = L.error_signatures(log_messages(ev))
    errors = ev.total("Errors")
    if not signatures and errors <= 0:
        return None
    evidence = []
    rate = rate_line(ev)
    if rate:
        evidence.append(rate)
    summary = "Unhandled errors in the function's code."
    quoted: list[str] = []
    if signatures:
        top = signatures[0]
        where = f" at {top.location}" if top.location else ""
        evidence.append(f"Top error ×{top.count}: `{top.type}`{where}")
        evidence.extend(f"Also ×{s.count}: `{s.type}`" for s in signatures[1:3])
        quoted = [f"`{s.type}: {quote(s.message, 120)}`" for s in signatures[:3]]
        summary = f"Unhandled `{top.type}` in the function's code."
    if isinstance(ev.signal, FailureRecord):
        evidence.append(
            f"Async event dropped to the on-failure destination after {ev.signal.attempts} attempts "
            f"({ev.signal.condition})"
        )
    return Cause(
        "code_error", 0.6 if signatures else 0.4, summary, tuple(evidence), quoted=tuple(quoted)
    )
