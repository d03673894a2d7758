"""Redrive a dead-letter queue so that nothing is lost.

Two ways back, chosen by what feeds the queue:

- a DLQ of SQS queues: SQS's own message-move task sends every message back to its source queue
  at a capped rate; it can be followed and cancelled (`MessageMoves`, moto lacks these calls);
- a Lambda async DLQ or a queue of on-failure destination records: each original payload is
  replayed by invoking the function asynchronously (`replay`), and the message is deleted only
  after Lambda accepted the replay. A marker written between the two makes a rerun that finds an
  already-replayed message delete it instead of replaying it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws import error_code

DEFAULT_RATE = 10  # messages per second
REPLAY_VISIBILITY = 120  # seconds a message stays hidden while it is being replayed
MARK_TTL = 14 * 24 * 3600  # SQS keeps a message at most 14 days


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
    stopped_early: bool = False  # the deadline came first; a rerun finishes the job

    @property
    def handled(self) -> int:
        return self.replayed + self.already_replayed

    @property
    def left_in_queue(self) -> set[str]:
        """Ids of the messages this run could not replay (they stay in the DLQ)."""
        return set(self.unroutable) | {f.split(":", 1)[0] for f in self.failed}


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


def dlq_owner(lam: Any, queue_arn: str) -> str | None:
    """The function whose async DeadLetterConfig sends failed events to this queue."""
    from chalicelib.diagnosis.gather import dead_letter_functions

    return next(iter(dead_letter_functions(lam, queue_arn)), None)


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


class ReplayMarks:
    """Message ids whose replay Lambda accepted, kept until SQS would have dropped them anyway."""

    def __init__(self, dynamodb: Any, table: str, queue_arn: str, clock: Any = time.time) -> None:
        self.dynamodb, self.table, self.clock = dynamodb, table, clock
        self.pk = f"replayed#{queue_arn}"

    def seen(self, message_id: str) -> bool:
        item = self.dynamodb.get_item(
            TableName=self.table,
            Key={"pk": {"S": self.pk}, "sk": {"S": message_id}},
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def mark(self, message_id: str) -> None:
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": self.pk},
                "sk": {"S": message_id},
                "expires_at": {"N": str(int(self.clock()) + MARK_TTL)},
            },
        )


def replay(
    *,
    sqs: Any,
    lam: Any,
    marks: ReplayMarks,
    queue_url: str,
    owner: str | None,
    limit: int,
    rate: int = DEFAULT_RATE,
    visibility: int = REPLAY_VISIBILITY,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    pace: Pace | None = None,
    progress: Callable[[ReplayOutcome], None] | None = None,
) -> ReplayOutcome:
    """Replay up to `limit` messages into their functions; delete each only once it is safe."""
    out = ReplayOutcome()
    pace = pace or Pace(rate, clock)
    empty_receives = 0
    while out.handled < limit:
        if deadline is not None and clock() >= deadline:
            out.stopped_early = True
            break
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - out.handled),
            VisibilityTimeout=visibility,
            WaitTimeSeconds=1 if empty_receives else 0,
        ).get("Messages", [])
        if not messages:
            empty_receives += 1
            if empty_receives >= 2:  # short polls can miss messages; two empty reads means done
                break
            continue
        empty_receives = 0
        for message in messages:
            _replay_one(sqs, lam, marks, queue_url, owner, message, pace, out)
        if progress:
            progress(out)
        if {m["MessageId"] for m in messages} <= out.left_in_queue:
            break  # nothing in this batch could go anywhere: stop rather than spin on it
    return out


def _replay_one(
    sqs: Any,
    lam: Any,
    marks: ReplayMarks,
    queue_url: str,
    owner: str | None,
    message: dict[str, Any],
    pace: Pace,
    out: ReplayOutcome,
) -> None:
    message_id = message["MessageId"]
    if marks.seen(message_id):
        # Replayed by an earlier run that stopped before the delete: only the delete is left.
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        out.already_replayed += 1
        return
    target = target_of(message.get("Body", ""), owner)
    if target is None:
        out.unroutable.append(message_id)
        return
    pace.wait()
    try:
        response = lam.invoke(
            FunctionName=target.function,
            InvocationType="Event",
            Payload=json.dumps(target.payload).encode(),
        )
    except Exception as exc:
        if error_code(exc) in ("ResourceNotFoundException", "InvalidRequestContentException"):
            out.failed.append(f"{message_id}: {error_code(exc)}")
            return  # stays in the DLQ, visible again after the visibility timeout
        raise
    if response.get("StatusCode") != 202:
        out.failed.append(f"{message_id}: status {response.get('StatusCode')}")
        return
    marks.mark(message_id)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    out.replayed += 1


class MessageMoves:
    """SQS message-move tasks: DLQ back to its source queues (moto does not implement these)."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs

    def start(self, dlq_arn: str, rate: int) -> str:
        response = self.sqs.start_message_move_task(
            SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=rate
        )
        return str(response["TaskHandle"])

    def latest(self, dlq_arn: str) -> dict[str, Any] | None:
        """The most recent move task of this DLQ: status, moved, to move, handle when running."""
        tasks = self.sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        if not tasks:
            return None
        task = tasks[0]
        return {
            "status": task.get("Status"),
            "moved": int(task.get("ApproximateNumberOfMessagesMoved", 0)),
            "to_move": task.get("ApproximateNumberOfMessagesToMove"),
            "rate": task.get("MaxNumberOfMessagesPerSecond"),
            "handle": task.get("TaskHandle"),
            "failure": task.get("FailureReason"),
        }

    def cancel(self, handle: str) -> int:
        response = self.sqs.cancel_message_move_task(TaskHandle=handle)
        return int(response.get("ApproximateNumberOfMessagesMoved", 0))
