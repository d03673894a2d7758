"""Scenarios across the fleet's wiring: the alarm is on a DLQ, the cause is upstream of it.

`orders-dlq` ← `orders-queue` (its redrive policy) ← `orders-processor` (its event source mapping).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from devtools.fleet.events import alarm_message, sns_event
from devtools.fleet.seeder import Seeder

ERRORS_FOR = 5  # minutes before the alarm the function's errors began


def _dlq_behind(s: Seeder, prefix: str, *, visibility: int, timeout: int) -> dict[str, Any]:
    sqs = s.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{prefix}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    source = sqs.create_queue(
        QueueName=f"{prefix}-queue",
        Attributes={"VisibilityTimeout": str(visibility), "RedrivePolicy": redrive},
    )["QueueUrl"]
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for i in range(7):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"order": f"O-{i}"}))
    function = f"{prefix}-processor"
    s.function(function, timeout=timeout)
    s.client("lambda").create_event_source_mapping(
        EventSourceArn=source_arn, FunctionName=function, BatchSize=10
    )
    s.metrics(function, "Invocations", [(timedelta(minutes=m), 40) for m in range(60)])
    s.metrics(
        function,
        "Errors",
        [(timedelta(minutes=m), 12 if m <= ERRORS_FOR else 0) for m in range(60)],
    )
    s.logs(function, ["[ERROR] KeyError: 'currency'"] * 6)
    s.metric_alarm(
        f"{prefix}-dlq-not-empty",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": f"{prefix}-dlq"},
    )
    message = alarm_message(
        f"{prefix}-dlq-not-empty",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": f"{prefix}-dlq"},
        s.alarm_time,
        namespace="AWS/SQS",
        stat="MAXIMUM",
        value=7,
        period=300,
    )
    return sns_event(message)


def deploy_fills_the_dlq(s: Seeder) -> Any:
    """The processor changed minutes before its errors began, and its failures fill the DLQ.

    moto sets a function's LastModified to when it is created and no API changes it, so this
    scenario's clock runs ten minutes ahead: the change lands before errors that begin five
    minutes before the alarm."""
    from devtools.fleet.scenarios import Scenario

    ahead = Seeder(s.session, s.now + timedelta(minutes=10))
    event = _dlq_behind(ahead, "ledger", visibility=600, timeout=60)
    return Scenario("recent_deploy+dlq_backlog", "ledger-dlq", event, "on_alarm")


def redelivery_fills_the_dlq(s: Seeder) -> Any:
    """The source queue's visibility timeout is under its consumer's timeout: messages come back
    while still handled, are received again, and dead-letter."""
    from devtools.fleet.scenarios import Scenario

    event = _dlq_behind(s, "billing", visibility=60, timeout=300)
    return Scenario("misconfiguration+dlq_backlog", "billing-dlq", event, "on_alarm")


WIRING = {
    deploy_fills_the_dlq: ("recent_deploy", "dlq_backlog"),
    redelivery_fills_the_dlq: ("misconfiguration", "dlq_backlog"),
}
