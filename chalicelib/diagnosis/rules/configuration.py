"""How the function is set up: settings that turn ordinary failures into lost or repeated work."""

from __future__ import annotations

import re

from chalicelib import markup
from chalicelib.aws.limits import SQS_VISIBILITY_FACTOR
from chalicelib.diagnosis.causes import Cause, rule
from chalicelib.diagnosis.evidence import Evidence

# Runtimes past their deprecation date (Lambda's runtime deprecation schedule): new functions
# cannot be created on them and they get no security patches.
DEPRECATED = {
    "python2.7": "2021-07-15",
    "python3.6": "2022-07-18",
    "python3.7": "2023-12-04",
    "python3.8": "2024-10-14",
    "python3.9": "2025-12-15",
    "nodejs10.x": "2021-07-30",
    "nodejs12.x": "2023-03-31",
    "nodejs14.x": "2023-12-04",
    "nodejs16.x": "2024-06-12",
    "nodejs18.x": "2025-09-01",
    "java8": "2024-01-08",
    "dotnetcore3.1": "2023-04-03",
    "dotnet6": "2024-12-20",
    "ruby2.7": "2023-12-07",
    "go1.x": "2024-01-08",
    "provided": "2024-01-08",
}


# What a message handled twice looks like: an idempotency guard or a conditional write refusing it.
TWICE = re.compile(
    r"ConditionalCheckFailed|already (?:been )?(?:processed|exists|handled)|[Dd]uplicate|"
    r"[Ii]dempoten|IdempotencyAlreadyInProgress",
)


def _handled_twice(ev: Evidence) -> str:
    """Why the window shows messages handled twice: errors that say so, or runs outliving the
    visibility timeout. '' when it does not."""
    said = [line for line in ev.logs if TWICE.search(line.message)]
    if said:
        return (
            f"{len(said)} error line(s) of a message handled twice (e.g. "
            f"{markup.code(said[0].message.strip().splitlines()[0], 120)}): redelivered while "
            "still in flight, the second run fails"
        )
    return ""


@rule
def misconfiguration(ev: Evidence) -> Cause | None:
    fn = ev.function
    if fn is None:
        return None
    problems: list[str] = []
    duplicates = False
    for source in fn.event_sources:
        visibility = source.get("visibility_timeout")
        if visibility is None or not fn.timeout_s:
            continue
        seconds, queue = int(visibility), source["arn"].rsplit(":", 1)[-1]
        if seconds < SQS_VISIBILITY_FACTOR * fn.timeout_s:
            duplicates = duplicates or seconds < fn.timeout_s
            problems.append(
                f"{markup.code(queue)}'s visibility timeout is {seconds} s, under {SQS_VISIBILITY_FACTOR}× "
                f"the {fn.timeout_s} s function timeout: a retried batch becomes visible while it is "
                "still handled, and is handled twice"
            )
    if ev.total("AsyncEventsReceived") > 0 and not fn.dlq_arn and not fn.on_failure_arn:
        problems.append(
            "It is invoked asynchronously with no DLQ and no on-failure destination: an event "
            "that fails all its retries is lost"
        )
    if fn.runtime in DEPRECATED:
        problems.append(
            f"Runtime {markup.code(fn.runtime)} is deprecated since {DEPRECATED[fn.runtime]}: no security "
            "patches, and updates to it will be refused"
        )
    if not problems:
        return None
    redelivered = duplicates and _handled_twice(ev)
    if redelivered:
        problems.append(redelivered)
    return Cause(
        "misconfiguration",
        # Under ROOT_MIN unless the redeliveries are seen: only then does it explain the errors.
        0.8 if redelivered else 0.45 if duplicates else 0.3,
        f"The function's setup is risky: {len(problems)} problem(s) found.",
        tuple(problems),
    )
