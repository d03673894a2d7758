"""A diagnosis follows what the alarm names, in the shapes real accounts alarm on: Lambda Insights'
dimensions, account-level alarms with no dimensions. Seeded on moto as AWS shows them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3

from chalicelib import markup
from chalicelib.aws.session import Aws
from chalicelib.diagnosis.gather import gather
from chalicelib.diagnosis.rules import diagnose
from chalicelib.events.ingest import parse_event
from devtools import fleet
from devtools.fleet.events import alarm_message, sns_event
from devtools.fleet.seeder import Seeder


def test_a_lambda_insights_memory_alarm_is_memory_pressure_on_its_function(
    aws: boto3.Session,
) -> None:
    s = Seeder(aws)
    s.function("image-resizer", memory=512)
    s.healthy("image-resizer", per_minute=50, recent=False)
    s.metrics("image-resizer", "Invocations", [(t, 50) for t in s.window()])
    s.metrics(
        "image-resizer",
        "memory_utilization",
        [(t, 94.0) for t in s.window()],
        namespace="LambdaInsights",
        dims={"function_name": "image-resizer"},
    )
    message = alarm_message(
        "image-resizer-memory",
        "memory_utilization",
        {"function_name": "image-resizer"},
        s.alarm_time,
        namespace="LambdaInsights",
        stat="MAXIMUM",
        threshold=90,
        value=94,
    )
    [signal] = parse_event(sns_event(message)).signals

    d = diagnose(gather(signal, Aws(aws)))

    assert d.evidence.resource.type == "function" and d.evidence.resource.name == "image-resizer"
    assert d.top.kind == "memory_pressure", [c.kind for c in d.causes]
    assert "94%" in d.top.summary and "512 MB" in d.top.summary
    assert d.top.action is not None and "/ops memory image-resizer" in d.top.action.command


def test_an_account_level_alarm_is_the_account_s_concurrency(aws: boto3.Session) -> None:
    s = Seeder(aws)
    cw = aws.client("cloudwatch")
    cw.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "ClaimedAccountConcurrency",
                "Timestamp": s.alarm_time - timedelta(minutes=m),
                "Value": 1000.0,
            }
            for m in range(4)
        ],
    )
    message = alarm_message(
        "account-concurrency-nearly-claimed",
        "ClaimedAccountConcurrency",
        {},
        s.alarm_time,
        stat="MAXIMUM",
        threshold=900,
        value=1000,
    )
    [signal] = parse_event(sns_event(message)).signals

    d = diagnose(gather(signal, Aws(aws)))

    assert d.evidence.resource.type == "account"
    assert d.top.kind == "account_concurrency", [c.kind for c in d.causes]
    assert "1000 of 1000" in d.top.summary
    assert all(c.action is None or "Lambda in" not in c.action.command for c in d.causes)


def test_a_source_queue_aging_because_its_only_consumer_is_disabled(aws: boto3.Session) -> None:
    s = Seeder(aws)
    s.function("orders-processor", timeout=30)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="orders-in", Attributes={"VisibilityTimeout": "180"})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f'{{"order": {i}}}')
    aws.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="orders-processor", Enabled=False, BatchSize=10
    )
    message = alarm_message(
        "orders-in-age",
        "ApproximateAgeOfOldestMessage",
        {"QueueName": "orders-in"},
        s.alarm_time,
        namespace="AWS/SQS",
        stat="MAXIMUM",
        threshold=300,
        value=1800,
    )
    [signal] = parse_event(sns_event(message)).signals

    d = diagnose(gather(signal, Aws(aws)))

    assert d.evidence.resource.type == "queue"
    assert d.top.kind == "event_source_failure", [c.kind for c in d.causes]
    assert "orders-processor" in " ".join(d.top.evidence) and "Disabled" in " ".join(d.top.evidence)


def diagnosed(aws: boto3.Session, compound: str) -> Any:
    [scenario] = fleet.seed_compound([compound], aws)
    [signal] = parse_event(scenario.event).signals
    return diagnose(gather(signal, Aws(aws)))


def test_a_dlq_is_traced_to_the_function_changed_before_its_errors_began(
    aws: boto3.Session,
) -> None:
    d = diagnosed(aws, "deploy_fills_the_dlq")

    assert d.top.kind == "recent_deploy", [(c.kind, c.confidence) for c in d.causes]
    said = markup.unmarked(d.top.summary)
    assert "`ledger-dlq` ← `ledger-queue` ← `ledger-processor`" in said
    assert "before its errors began" in said
    kinds = [c.kind for c in d.causes]
    assert kinds.index("dlq_backlog") > 0  # the backlog is the symptom, listed after


def test_a_dlq_is_traced_to_a_visibility_timeout_under_its_consumer_s_timeout(
    aws: boto3.Session,
) -> None:
    d = diagnosed(aws, "redelivery_fills_the_dlq")

    assert d.top.kind == "misconfiguration", [(c.kind, c.confidence) for c in d.causes]
    said = markup.unmarked(d.top.summary)
    assert "visibility timeout (60 s) is under `billing-processor`'s timeout (300 s)" in said
    assert "dlq_backlog" in [c.kind for c in d.causes]


def test_an_on_failure_destination_queue_is_traced_to_the_function_its_records_name(
    aws: boto3.Session,
) -> None:
    """No API lists the functions whose on-failure destination a queue is; its records say."""
    fleet.failed_deliveries(aws)  # invoice-mailer's records in invoice-mailer-failed
    s = Seeder(aws)
    message = alarm_message(
        "invoice-mailer-failed-depth",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": "invoice-mailer-failed"},
        s.alarm_time,
        namespace="AWS/SQS",
        stat="MAXIMUM",
        value=12,
    )
    [signal] = parse_event(sns_event(message)).signals

    ev = gather(signal, Aws(aws))

    assert [u.path for u in ev.upstream] == [["invoice-mailer-failed", "invoice-mailer"]]
    assert ev.upstream[0].function.timeout_s is not None  # read, to be judged
