"""What the function's own code ran into: permissions, a throttling dependency, exceptions."""

from __future__ import annotations

from chalicelib import markup
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
        evidence.append("Denied: " + ", ".join(f"{markup.code(a)}" for a in actions))
    return Cause(
        "permission_denied",
        0.88,
        "The function's role is not allowed to do what the code asks.",
        tuple(evidence),
        quoted=(f"e.g. {markup.code(quote(denied[0]))}",),
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
        quoted=(f"e.g. {markup.code(quote(hits[0]))}",),
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
        evidence.append(f"Top error ×{top.count}: {markup.code(top.type)}{where}")
        evidence.extend(f"Also ×{s.count}: {markup.code(s.type)}" for s in signatures[1:3])
        quoted = [f"{markup.code(f'{s.type}: {quote(s.message, 120)}')}" for s in signatures[:3]]
        summary = f"Unhandled {markup.code(top.type)} in the function's code."
    if isinstance(ev.signal, FailureRecord):
        evidence.append(
            f"Async event dropped to the on-failure destination after {ev.signal.attempts} attempts "
            f"({ev.signal.condition})"
        )
    return Cause(
        "code_error", 0.6 if signatures else 0.4, summary, tuple(evidence), quoted=tuple(quoted)
    )


@rule
def new_error(ev: Evidence) -> Cause | None:
    """The window's top error signature absent from the 48 h before, among errors that were
    there (with no earlier errors at all, `code_error` says it)."""
    now = L.error_signatures(log_messages(ev))
    before = L.error_signatures([line.message for line in ev.prior_errors])
    if not now or not before:
        return None
    known = {(s.type, s.message) for s in before} | {(s.type, None) for s in before}
    fresh = [s for s in now if (s.type, s.message) not in known]
    if not fresh or fresh[0] is not now[0]:
        return None
    top = fresh[0]
    where = f" at {top.location}" if top.location else ""
    types = sorted({s.type for s in before})
    return Cause(
        "new_error",
        0.7,
        f"A new error: {markup.code(top.type)} was not seen in the 48 h before.",
        (
            f"×{top.count} {markup.code(top.type)}{where} in the window",
            f"The 48 h before had {sum(s.count for s in before)} error line(s) of other kinds: "
            + ", ".join(f"{markup.code(t)}" for t in types[:4]),
        ),
        quoted=(f"{markup.code(f'{top.type}: {quote(top.message, 120)}')}",),
    )


@rule
def recursive_loop(ev: Evidence) -> Cause | None:
    dropped = ev.total("RecursiveInvocationsDropped")
    if dropped <= 0:
        return None
    return Cause(
        "recursive_loop",
        0.93,
        "Lambda stopped a recursive loop: the function invokes itself through a queue, topic or "
        "bucket.",
        (
            f"{dropped:.0f} recursive invocation(s) dropped by Lambda in the alarm window",
            "Its output feeds its own trigger: break the cycle (a separate destination, a filter)",
        ),
    )
