"""SQS: queues by name, depth, a look that loses nothing, receive/delete, message-move tasks.

Message-move tasks are calls moto lacks: tested with Stubber, answered by devtools/aws_gaps.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import NotFound, calls
from chalicelib.markup import strip_marks

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

PEEK = 3  # messages a look reads


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str
    depth: int  # visible messages
    in_flight: int  # received and not yet deleted
    dead_letter_target: str | None = None  # set: a live queue, whose failures go there

    @property
    def live(self) -> bool:
        """A queue with a DLQ of its own: a receive counts toward moving its work there."""
        return self.dead_letter_target is not None


@dataclass(frozen=True)
class Message:
    id: str
    receipt: str
    body: str


@dataclass(frozen=True)
class MoveTask:
    status: str | None
    moved: int
    to_move: int | None
    rate: int | None
    handle: str | None
    failure: str | None
    started: float = 0.0  # epoch seconds


class SqsApi:
    def __init__(self, client: SQSClient) -> None:
        self.client = client

    def queue(self, name: str) -> Queue | None:
        """A queue's identity and depth by name; None when there is no such queue."""
        try:
            url = self._url(name)
        except NotFound:
            return None
        attrs = self._attributes(url, "QueueArn", "RedrivePolicy")
        return Queue(
            name,
            url,
            attrs["QueueArn"],
            int(attrs.get("ApproximateNumberOfMessages", 0)),
            int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            _dead_letter_target(attrs.get("RedrivePolicy")),
        )

    def visibility_timeout(self, queue_arn: str, url: str | None = None) -> int | None:
        """A queue's visibility timeout (seconds) by ARN (and its URL, when known: one call
        fewer); None when there is no such queue."""
        try:
            url = url or self._url(queue_arn.rsplit(":", 1)[-1])
            value = self._attributes(url, "VisibilityTimeout").get("VisibilityTimeout")
        except NotFound:
            return None
        return int(value) if value is not None else None

    def live(self, url: str) -> bool:
        """Whether the queue has a DLQ of its own (then it must not be peeked)."""
        policy = self._attributes(url, "RedrivePolicy").get("RedrivePolicy")
        return _dead_letter_target(policy) is not None

    @calls("sqs")
    def _url(self, name: str) -> str:
        return str(self.client.get_queue_url(QueueName=name)["QueueUrl"])

    @calls("sqs")
    def _attributes(self, url: str, *extra: str) -> dict[str, str]:
        names: Any = [
            *extra,
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ]
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=names)
        return {str(k): v for k, v in attributes["Attributes"].items()}

    def depth(self, url: str) -> tuple[int, int]:
        """(visible, in flight)."""
        attrs = self._attributes(url)
        return (
            int(attrs.get("ApproximateNumberOfMessages", 0)),
            int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    @calls("sqs")
    def peek(self, url: str, count: int = PEEK) -> tuple[list[str], datetime | None]:
        """Up to `count` bodies and the oldest sent time, made visible again at once: a look that
        loses nothing from a dead-letter queue (never peek a live queue: a receive counts)."""
        messages: list[Any] = []
        while len(messages) < count:
            batch = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, count - len(messages)),
                VisibilityTimeout=20,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        for i in range(0, len(messages), 10):
            self.client.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for j, m in enumerate(messages[i : i + 10])
                ],
            )
        sent = [
            datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) / 1000, UTC)
            for m in messages
            if "SentTimestamp" in m.get("Attributes", {})
        ]
        return [strip_marks(m.get("Body", "")) for m in messages], (min(sent) if sent else None)

    @calls("sqs")
    def dead_letter_sources(self, url: str) -> list[str]:
        """The names of the queues whose redrive policy sends their dead letters here."""
        names: list[str] = []
        paginator = self.client.get_paginator("list_dead_letter_source_queues")
        for page in paginator.paginate(QueueUrl=url):
            names.extend(u.rsplit("/", 1)[-1] for u in page.get("queueUrls", []))
        return names

    @calls("sqs")
    def receive(self, url: str, count: int, visibility: int, wait: int) -> list[Message]:
        response = self.client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=count,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=wait,
        )
        return [
            Message(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""))
            for m in response.get("Messages", [])
        ]

    @calls("sqs")
    def delete(self, url: str, receipt: str) -> None:
        self.client.delete_message(QueueUrl=url, ReceiptHandle=receipt)

    @calls("sqs")
    def delete_many(self, url: str, messages: list[Message]) -> list[str]:
        """Delete up to 10 messages in one call; the ids SQS did not delete."""
        if not messages:
            return []
        response = self.client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(messages)],
        )
        return [messages[int(f["Id"])].id for f in response.get("Failed", [])]

    # --- message-move tasks: a DLQ back to its source queues ----------------------------

    @calls("sqs")
    def start_move(self, dlq_arn: str, rate: int) -> str:
        response = self.client.start_message_move_task(
            SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=rate
        )
        return str(response["TaskHandle"])

    @calls("sqs")
    def latest_move(self, dlq_arn: str) -> MoveTask | None:
        """The most recent move task of this DLQ."""
        tasks: list[Any] = self.client.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get(
            "Results", []
        )
        if not tasks:
            return None
        task = tasks[0]
        return MoveTask(
            status=task.get("Status"),
            moved=int(task.get("ApproximateNumberOfMessagesMoved", 0)),
            to_move=task.get("ApproximateNumberOfMessagesToMove"),
            rate=task.get("MaxNumberOfMessagesPerSecond"),
            handle=task.get("TaskHandle"),
            failure=task.get("FailureReason"),
            started=int(task.get("StartedTimestamp", 0)) / 1000,
        )

    @calls("sqs")
    def cancel_move(self, handle: str) -> int:
        """Stop a move task; how many messages it had moved."""
        response = self.client.cancel_message_move_task(TaskHandle=handle)
        return int(response.get("ApproximateNumberOfMessagesMoved", 0))


def _dead_letter_target(policy: str | None) -> str | None:
    if not policy:
        return None
    try:
        target = json.loads(policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        return None
    return str(target) if target else None
