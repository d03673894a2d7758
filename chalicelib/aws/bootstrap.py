"""Shepherd's own resources, created where boto3 points (`shepherd local-setup`); safe to run twice."""

from __future__ import annotations

import json

from chalicelib.aws.dynamodb import create_table
from chalicelib.aws.errors import calls
from chalicelib.aws.session import Aws

MAX_RECEIVES = "5"  # the destination-record queue redrives to Shepherd's DLQ after this many


@calls("bootstrap")
def create_own_resources(
    aws: Aws, *, table: str, dead_letter_queue: str, failure_queue: str, alarm_topic: str
) -> list[str]:
    """The state table, Shepherd's DLQ, the destination-record queue and the alarm topic."""
    done = [
        f"state table {table}: {'created' if create_table(aws.client('dynamodb'), table) else 'exists'}"
    ]
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    done.append(f"queue {dead_letter_queue}: ready (Shepherd's own dead-letter queue)")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    sqs.create_queue(QueueName=failure_queue, Attributes={"RedrivePolicy": redrive})
    done.append(f"queue {failure_queue}: ready (on-failure destination records)")
    topic = aws.client("sns").create_topic(Name=alarm_topic)["TopicArn"]
    done.append(f"topic {alarm_topic}: ready ({topic})")
    return done
