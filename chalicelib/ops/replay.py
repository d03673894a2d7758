"""Replay a dead-letter queue into its functions so that nothing is lost.

For a Lambda async DLQ or a queue of on-failure destination records: each original payload is
replayed by invoking the function asynchronously, and the message is deleted only after Lambda
accepted the replay. A mark written between the two makes a rerun that finds an already-replayed
message delete it instead of replaying it again.

Batches of 10 go through receive → one read of their marks → async invokes (paced, several at
once, never retried by botocore: a lost answer is reported unsure and the message stays) → one
write of the accepted ones' marks → one batch delete; several batches are in flight at once.
About 1.4 AWS calls per message. The window left is a process that dies between Lambda's 202 and
the marks' write: a rerun replays that batch's accepted messages again (at least once, never lost).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.errors import AccessDenied, AwsError, Invalid, NotFound, Throttled
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.sqs import Message, SqsApi
from chalicelib.store.replay_marks import ReplayMarks

DEFAULT_RATE = 10  # messages per second
REPLAY_VISIBILITY = 120  # seconds a message stays hidden while it is being replayed
BATCH = 10  # SQS's most per receive and per batch delete
INVOKES_IN_FLIGHT = 32  # async invokes waiting for Lambda's answer at once (the client's pool)


def batches_for(rate: int) -> int:
    """Receive → replay → mark → delete pipelines at once: a batch of 10 spends ~4 round trips
    besides its paced invokes, so one pipeline per 25 messages/s asked keeps up with the cap."""
    return min(10, max(2, -(-rate // 25)))


REFUSED = (NotFound, Invalid, Throttled, AccessDenied)  # Lambda did not take the event


@dataclass(frozen=True)
class Target:
    """Where one dead-lettered message goes back to."""

    function: str  # name or ARN, qualified when the record says which version/alias failed
    payload: Any


@dataclass
class ReplayOutcome:
    replayed: int = 0  # accepted by Lambda, and marked
    deleted: int = 0  # of those, deleted from the DLQ
    already_replayed: int = 0  # a rerun found these replayed but not yet deleted (deleted now)
    undeleted: int = 0  # replayed and marked, but the delete failed: a rerun deletes them
    unmarked: int = 0  # replayed, but their marks could not be written: a rerun replays them again
    unroutable: list[str] = field(default_factory=list)  # message ids with no function to go to
    failed: list[str] = field(default_factory=list)  # "id: code" of replays Lambda refused
    unsure: list[str] = field(default_factory=list)  # no answer from Lambda: left, may be doubled
    unauthorised: list[str] = field(default_factory=list)  # for a function not previewed/allowed
    foreign: list[str] = field(default_factory=list)  # for a function in another account
    stopped_early: bool = False  # the deadline came first; a rerun finishes the job
    error: str | None = None  # the AWS failure that stopped the run early

    @property
    def handled(self) -> int:
        return self.replayed + self.already_replayed

    @property
    def skipped(self) -> int:
        """Messages read and left in the queue on purpose or after a refusal."""
        return (
            len(self.unroutable)
            + len(self.unauthorised)
            + len(self.foreign)
            + len(self.failed)
            + len(self.unsure)
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
    """At most `rate` calls per second, spread evenly (no bursts), shared by threads."""

    def __init__(
        self,
        rate: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / max(1, rate)
        self.clock, self.sleep = clock, sleep
        self.next_at = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:  # each caller takes the next slot; the sleeping happens outside
            now = self.clock()
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        if at > now:
            self.sleep(at - now)


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
    batches: int | None = None,
) -> ReplayOutcome:
    """Replay up to `limit` messages into their functions; delete each only once it is safe.

    Only into the functions of `allowed` (`name[:qualifier]`, as previewed and authorised) in
    `home_account`: a message for any other stays in the queue and is counted. `lam` must not
    retry invokes (Aws.invoker()).
    """
    run = _Run(sqs, lam, marks, queue_url, owner, allowed, home_account, pace or Pace(rate, clock))
    batches = batches or batches_for(rate)
    out = ReplayOutcome()
    read: set[str] = set()
    pending: dict[Future[None], tuple[int, ReplayOutcome]] = {}  # batch → (size, its outcome)
    empty_receives = 0

    def collect(only_done: bool = True) -> None:
        for f in [f for f in pending if f.done() or not only_done]:
            _, part = pending.pop(f)
            _merge(out, part, f)

    with (
        ThreadPoolExecutor(batches, "replay-batch") as batch_pool,
        ThreadPoolExecutor(INVOKES_IN_FLIGHT, "replay-invoke") as invoke_pool,
    ):
        run.invokes = invoke_pool
        try:
            while out.error is None:
                before = len(pending)
                collect()
                if progress and len(pending) < before:
                    progress(out)
                claimed = out.handled + sum(n for n, _ in pending.values())
                if claimed >= limit or out.error is not None:
                    break
                if deadline is not None and clock() >= deadline:
                    out.stopped_early = True
                    break
                if len(pending) >= batches:
                    wait(pending, return_when=FIRST_COMPLETED)
                    continue
                try:
                    messages = sqs.receive(
                        queue_url,
                        count=min(BATCH, limit - claimed),
                        visibility=visibility,
                        wait=1 if empty_receives else 0,
                    )
                except AwsError as exc:
                    out.error = f"{exc.code} reading the queue"
                    break
                if not messages:
                    if pending:  # what is in flight may finish the job or free quota
                        wait(pending, return_when=FIRST_COMPLETED)
                        continue
                    empty_receives += 1
                    if empty_receives >= 2:  # short polls miss messages; two empty reads: done
                        break
                    continue
                empty_receives = 0
                fresh = [m for m in messages if m.id not in read]
                if not fresh:
                    break  # only messages this run already left: stop rather than spin on them
                read.update(m.id for m in fresh)
                part = ReplayOutcome()
                pending[batch_pool.submit(run.batch, fresh, part)] = (len(fresh), part)
        finally:
            wait(pending)
            collect(only_done=False)
    if progress:
        progress(out)
    return out


def _merge(out: ReplayOutcome, part: ReplayOutcome, batch: Future[None]) -> None:
    """Add a finished batch to the run's outcome. An AWS failure stops the run (reported);
    anything else (the process dying) is raised as is once the counts are in."""
    out.replayed += part.replayed
    out.deleted += part.deleted
    out.already_replayed += part.already_replayed
    out.undeleted += part.undeleted
    out.unmarked += part.unmarked
    for name in ("unroutable", "failed", "unsure", "unauthorised", "foreign"):
        getattr(out, name).extend(getattr(part, name))
    exc = batch.exception()
    if isinstance(exc, AwsError):
        out.error = out.error or exc.code
    elif exc is not None:
        raise exc


class _Run:
    """One replay's shared parts: the queue, the functions allowed, the pace, the invoke pool."""

    def __init__(
        self,
        sqs: SqsApi,
        lam: LambdaApi,
        marks: ReplayMarks,
        queue_url: str,
        owner: str | None,
        allowed: set[str],
        home_account: str,
        pace: Pace,
    ) -> None:
        self.sqs, self.lam, self.marks = sqs, lam, marks
        self.queue_url, self.owner = queue_url, owner
        self.allowed, self.home_account, self.pace = allowed, home_account, pace
        self.invokes: ThreadPoolExecutor | None = None

    def batch(self, messages: list[Message], part: ReplayOutcome) -> None:
        """One batch, its counts in `part` (this batch's alone: no other thread writes it)."""
        done_before = self.marks.seen_many([m.id for m in messages])
        earlier = [m for m in messages if m.id in done_before]
        routed = [
            (m, target)
            for m in messages
            if m.id not in done_before and (target := self._route(m, part)) is not None
        ]
        assert self.invokes is not None
        invoked = {self.invokes.submit(self._invoke, m, t): m for m, t in routed}
        wait(invoked)  # every answer in before anything is marked, even when one failed
        accepted = []
        for f, m in invoked.items():
            if f.exception() is None:
                refused = f.result()
                if refused is None:
                    accepted.append(m)
                else:
                    getattr(part, refused[0]).append(f"{m.id}: {refused[1]}")
        part.replayed = len(accepted)
        if accepted:  # marked before any delete: a rerun deletes them, never replays them again
            try:
                self.marks.mark_many([m.id for m in accepted])
            except Exception:
                part.unmarked = len(accepted)
                raise
        errors = [e for f in invoked if (e := f.exception()) is not None]
        if errors:
            raise errors[0]
        part.already_replayed = len(earlier)
        try:
            undeleted = set(self.sqs.delete_many(self.queue_url, earlier + accepted))
        except Exception:
            part.undeleted = len(earlier) + len(accepted)  # marked: a rerun deletes them
            raise
        part.deleted = sum(m.id not in undeleted for m in accepted)
        part.undeleted = len(undeleted)

    def _route(self, message: Message, part: ReplayOutcome) -> Target | None:
        target = target_of(message.body, self.owner)
        account, name = ref(target.function, self.home_account) if target else ("", "")
        if target is None:
            part.unroutable.append(message.id)
        elif account != self.home_account:
            part.foreign.append(message.id)
        elif name not in self.allowed:
            part.unauthorised.append(message.id)
        else:
            return target
        return None

    def _invoke(self, message: Message, target: Target) -> tuple[str, str] | None:
        """None when Lambda accepted the replay (202); else ("failed" | "unsure", why)."""
        self.pace.wait()
        try:
            status = self.lam.invoke_async(target.function, target.payload)
        except REFUSED as exc:
            return "failed", exc.code  # stays in the DLQ, visible again after the timeout
        except AwsError as exc:  # no answer: Lambda may have taken it; never sent again here
            return "unsure", exc.code
        return None if status == 202 else ("failed", f"status {status}")
