"""Any single evidence source failing becomes 'could not check X', never a crash."""

from __future__ import annotations

import boto3

from chalicelib.aws.session import Aws
from chalicelib.diagnosis.gather import gather
from chalicelib.diagnosis.rules import diagnose
from devtools import fleet
from tests.unit.evidence_builder import alarm


def test_missing_function_is_reported_not_raised(aws: boto3.Session) -> None:
    ev = gather(alarm(FunctionName="ghost"), Aws(aws))
    assert "could not check function configuration: ResourceNotFoundException" in ev.unchecked
    assert diagnose(ev).top.kind == "unknown"


def test_dlq_peek_leaves_every_message_in_the_queue(aws: boto3.Session) -> None:
    scenario = fleet.seed(["dlq_backlog"], aws)[0]
    from chalicelib.events.ingest import parse_event

    signal = parse_event(scenario.event).signals[0]
    ev = gather(signal, Aws(aws))
    assert ev.queue is not None and len(ev.queue.samples) == 3
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "23"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_alias_errors_are_split_by_executed_version(aws: boto3.Session) -> None:
    scenario = fleet.seed(["recent_deploy"], aws)[0]
    from chalicelib.events.ingest import parse_event

    ev = gather(parse_event(scenario.event).signals[0], Aws(aws))
    assert set(ev.by_version) == {"3", "2"}
    assert ev.error_rate("3") == 0.15
