"""Throttling: reserved concurrency reached, or the account's pool."""

from __future__ import annotations

from chalicelib.aws.limits import reservable
from chalicelib.diagnosis.causes import (
    Action,
    Cause,
    pct,
    rule,
)
from chalicelib.diagnosis.evidence import Evidence


@rule
def throttling(ev: Evidence) -> Cause | None:
    fn = ev.function
    throttles = ev.total("Throttles")
    if throttles <= 0:
        return None
    invocations = ev.total("Invocations")
    evidence = [
        f"{throttles:.0f} throttled requests in the alarm window "
        f"({pct(throttles / (throttles + invocations))} of attempts)"
    ]
    peak = ev.peak("ConcurrentExecutions")
    reserved = fn.reserved_concurrency if fn else None
    confidence = 0.8
    action = None
    if reserved is not None:
        line = f"Reserved concurrency {reserved}"
        if peak is not None:
            line += f"; peak concurrent executions {peak:.0f}"
        evidence.append(line)
        if peak is not None and peak >= reserved:
            confidence = 0.92
        proposed = raise_concurrency(reserved, fn)
        if proposed is not None and fn is not None:
            action = Action(
                f"Raise reserved concurrency to {proposed}",
                f"/ops concurrency {fn.name} reserve {proposed}",
            )
    elif fn and fn.account_unreserved is not None:
        evidence.append(
            f"No reserved concurrency: the account pool has {fn.account_unreserved} unreserved "
            f"of {fn.account_concurrency_limit}"
        )
    return Cause(
        "throttling",
        confidence,
        "Lambda is throttling invocations: concurrency is capped.",
        tuple(evidence),
        action,
    )


def raise_concurrency(current: int, fn: object) -> int | None:
    proposed = max(current * 2, current + 10)
    unreserved = getattr(fn, "account_unreserved", None)
    if unreserved is not None:
        proposed = min(proposed, reservable(current, unreserved))
    return proposed if proposed > current else None


ACCOUNT_NEAR = 0.9  # claimed concurrency at this share of the account's limit
DEFAULT_ACCOUNT_LIMIT = 1000  # Lambda's default quota, when the account's cannot be read


@rule
def account_concurrency(ev: Evidence) -> Cause | None:
    claimed = ev.peak("ClaimedAccountConcurrency")
    if claimed is None and ev.resource.type == "account":
        claimed = ev.peak("ConcurrentExecutions")  # an older account-level alarm's own metric
    if claimed is None:
        return None
    fn = ev.function
    limit = fn.account_concurrency_limit if fn and fn.account_concurrency_limit else None
    of = limit or DEFAULT_ACCOUNT_LIMIT
    # This function's cause when it draws on the shared pool and is throttled (a function with its
    # own reservation is not limited by what the others claim).
    drawn = ev.total("Throttles") > 0 and (fn is None or fn.reserved_concurrency is None)
    drawn = drawn or ev.resource.type == "account"  # the alarm is on the pool itself
    if claimed < ACCOUNT_NEAR * of or not drawn:
        return None
    source = "" if limit else " (Lambda's default quota: the account's could not be read)"
    return Cause(
        "account_concurrency",
        0.9,
        f"The account's concurrency is nearly all claimed: {claimed:.0f} of {of}.",
        (
            f"ClaimedAccountConcurrency peaked at {claimed:.0f} of {of}{source}",
            "Every function in the account and region shares what is left: find the one that "
            "grew, cap it with reserved concurrency, or ask AWS for a higher quota",
        ),
    )
