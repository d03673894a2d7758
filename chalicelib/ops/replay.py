"""Replay a dead-letter queue into its functions so that nothing is lost.

For a Lambda async DLQ or a queue of on-failure destination records: each original payload is
replayed by invoking the function asynchronously, and the message is deleted only after Lambda
accepted the replay. A marker written between the two makes a rerun that finds an
already-replayed message delete it instead of replaying it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.errors import Invalid, NotFound
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.sqs import Message, SqsApi
from chalicelib.store.replay_marks import ReplayMarks

DEFAULT_RATE = 10  # messages per second
REPLAY_VISIBILITY = 120  # seconds a message stays hidden while it is being replayed


@dataclass(frozen=True)
class Target:
    """Where one dead-lettered message goes back to."""

    function: str  # name or ARN, qualified when the record says which version/alias failed
    payload: Any


@dataclass
class ReplayOutcome:
    replayed: int = 0
    already_replayed: int = 0  # a rerun found these replayed but not yet deleted
    unroutable: list[str] = field(default_factory=list)  # message ids with no function to go to
    failed: list[str] = field(default_factory=list)  # "id: code" of replays Lambda refused
    unauthorised: list[str] = field(default_factory=list)  # for a function not previewed/allowed
    foreign: list[str] = field(default_factory=list)  # for a function in another account
    stopped_early: bool = False  # the deadline came first; a rerun finishes the job

    @property
    def handled(self) -> int:
        return self.replayed + self.already_replayed

    @property
    def left_in_queue(self) -> set[str]:
        """Ids of the messages this run could not replay (they stay in the DLQ)."""
        return (
            set(self.unroutable)
            | set(self.unauthorised)
            | set(self.foreign)
            | {f.split(":", 1)[0] for f in self.failed}
        )


def ref(function: str, home_account: str) -> tuple[str, str]:
    """(account, `name[:qualifier]`) of a target: an ARN says its account, a bare name is home."""
    if ":function:" not in function:
        return home_account, function
    account = function.split(":")[4] if function.count(":") >= 5 else home_account
    return account, function.split(":function:", 1)[-1]


def target_of(body: str, dlq_owner: str | None) -> Target | None:
    """The function and payload a dead-lettered message came from, or None if it cannot be told.

    An on-failure destination record names its function (with the qualifier that ran) and holds
    the original event in `requestPayload`; a Lambda async DLQ message *is* the original event,
    and the function is the one whose DeadLetterConfig points at the queue.
    """
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("requestContext"), dict):
        arn = doc["requestContext"].get("functionArn")
        if isinstance(arn, str) and ":function:" in arn and "requestPayload" in doc:
            return Target(arn, doc["requestPayload"])
    if dlq_owner is None:
        return None
    return Target(dlq_owner, doc if doc is not None else body)


class Pace:
    """At most `rate` calls per second, spread evenly (no bursts at the start of a second)."""

    def __init__(
        self,
        rate: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / max(1, rate)
        self.clock, self.sleep = clock, sleep
        self.next_at = clock()

    def wait(self) -> None:
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def replay(
    *,
    sqs: SqsApi,
    lam: LambdaApi,
    marks: ReplayMarks,
    queue_url: str,
    owner: str | None,
    limit: int,
    allowed: set[str],
    home_account: str,
    rate: int = DEFAULT_RATE,
    visibility: int = REPLAY_VISIBILITY,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    pace: Pace | None = None,
    progress: Callable[[ReplayOutcome], None] | None = None,
) -> ReplayOutcome:
    """Replay up to `limit` messages into their functions; delete each only once it is safe.

    Only into the functions of `allowed` (`name[:qualifier]`, as previewed and authorised) in
    `home_account`: a message for any other stays in the queue and is counted.
    """
    out = ReplayOutcome()
    pace = pace or Pace(rate, clock)
    empty_receives = 0
    while out.handled < limit:
        if deadline is not None and clock() >= deadline:
            out.stopped_early = True
            break
        messages = sqs.receive(
            queue_url,
            count=min(10, limit - out.handled),
            visibility=visibility,
            wait=1 if empty_receives else 0,
        )
        if not messages:
            empty_receives += 1
            if empty_receives >= 2:  # short polls can miss messages; two empty reads means done
                break
            continue
        empty_receives = 0
        for message in messages:
            _replay_one(
                sqs, lam, marks, queue_url, owner, message, pace, out, allowed, home_account
            )
        if progress:
            progress(out)
        if {m.id for m in messages} <= out.left_in_queue:
            break  # nothing in this batch could go anywhere: stop rather than spin on it
    return out


def _replay_one(
    sqs: SqsApi,
    lam: LambdaApi,
    marks: ReplayMarks,
    queue_url: str,
    owner: str | None,
    message: Message,
    pace: Pace,
    out: ReplayOutcome,
    allowed: set[str],
    home_account: str,
) -> None:
    if marks.seen(message.id):
        # Replayed by an earlier run that stopped before the delete: only the delete is left.
        sqs.delete(queue_url, message.receipt)
        out.already_replayed += 1
        return
    target = target_of(message.body, owner)
    if target is None:
        out.unroutable.append(message.id)
        return
    account, name = ref(target.function, home_account)
    if account != home_account:
        out.foreign.append(message.id)
        return
    if name not in allowed:
        out.unauthorised.append(message.id)
        return
    pace.wait()
    try:
        status = lam.invoke_async(target.function, target.payload)
    except (NotFound, Invalid) as exc:
        out.failed.append(f"{message.id}: {exc.code}")
        return  # stays in the DLQ, visible again after the visibility timeout
    if status != 202:
        out.failed.append(f"{message.id}: status {status}")
        return
    marks.mark(message.id)
    sqs.delete(queue_url, message.receipt)
    out.replayed += 1
