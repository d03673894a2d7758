"""One scenario per diagnosis kind: the state that makes it true, and the event AWS would deliver."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3

from devtools.fleet.catalogue import CATALOGUE
from devtools.fleet.catalogue import COMPOUND as COMPOUND_ORDER
from devtools.fleet.events import (
    ACCOUNT,
    REGION,
    alarm_message,
    destination_record,
    error_rate_alarm,
    eventbridge_alarm,
    sns_event,
    sqs_event,
)
from devtools.fleet.seeder import LAMBDA_TRUST, Seeder, report_line

SES_THROTTLED = "An error occurred (Throttling) when calling the SendEmail operation: Maximum sending rate exceeded."


@dataclass
class Scenario:
    kind: str
    function: str
    event: dict[str, Any]
    handler: str  # which Shepherd handler receives the event: on_alarm, on_alarm_event, on_failure


def alarm(s: Seeder, name: str, metric: str, dims: dict[str, str], **kw: Any) -> dict[str, Any]:
    """An alarm notification at the scenario's alarm time (and the alarm, in CloudWatch)."""
    s.metric_alarm(name, metric, dims, kw.get("region", REGION))
    return alarm_message(name, metric, dims, s.alarm_time, **kw)


# --- one scenario per diagnosis kind ---------------------------------------------------------------


def timeout(s: Seeder) -> Scenario:
    name = "orders-processor"
    s.function(name, timeout=15, memory=1024)
    s.healthy(name, recent=False)
    s.metrics(name, "Invocations", [(t, 40) for t in s.window()])
    s.metrics(name, "Errors", [(t, 9) for t in s.window()])
    s.metrics(name, "Duration", [(t, 15003) for t in s.window()], dims={"FunctionName": name})
    s.logs(
        name,
        [
            "START RequestId: 1 Version: $LATEST",
            "2026-11-22T09:55:01.000Z 1 Task timed out after 15.00 seconds",
            report_line(15003, 1024, 300),
            "2026-11-22T09:55:31.000Z 2 Task timed out after 15.00 seconds",
            report_line(15001, 1024, 310),
        ],
    )
    s.metric_alarm(f"{name}-duration", "Duration", {"FunctionName": name})
    event = eventbridge_alarm(
        f"{name}-duration",
        "Duration",
        "Maximum",
        {"FunctionName": name},
        s.alarm_time,
        reason="Threshold Crossed: 1 datapoint [15003.0] > 12000.0",
        description="Duration near the 15 s timeout",
    )
    return Scenario("timeout", name, event, "on_alarm_event")


def out_of_memory(s: Seeder) -> Scenario:
    name = "image-resizer"
    s.function(name, timeout=60, memory=512)
    s.healthy(name, recent=False)
    s.metrics(name, "Invocations", [(t, 30) for t in s.window()])
    s.metrics(name, "Errors", [(t, 6) for t in s.window()])
    s.logs(
        name,
        [
            "START RequestId: 3 Version: $LATEST",
            report_line(4210, 512, 512),
            "RequestId: 3 Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
            report_line(3990, 512, 512),
        ],
    )
    msg = alarm(s, f"{name}-errors", "Errors", {"FunctionName": name}, value=6)
    return Scenario("out_of_memory", name, sns_event(msg), "on_alarm")


def throttling(s: Seeder) -> Scenario:
    name = "payments-capture"
    s.function(name, reserved=5)
    s.healthy(name, per_minute=4, recent=False)
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()])
    s.metrics(name, "Errors", [(t, 0) for t in s.window()])
    s.metrics(name, "Throttles", [(t, 40) for t in s.window()])
    s.metrics(name, "ConcurrentExecutions", [(t, 5) for t in s.window()])
    msg = alarm(s, f"{name}-throttles", "Throttles", {"FunctionName": name}, value=40)
    return Scenario("throttling", name, sns_event(msg), "on_alarm")


def recent_deploy(s: Seeder) -> Scenario:
    name, region, alias = "checkout-api", "eu-west-1", "live"
    s.function(name, region=region, publish=True)
    s.publish(name, (2, 3), region=region)
    s.client("lambda", region).create_alias(FunctionName=name, Name=alias, FunctionVersion="3")
    resource = {"FunctionName": name, "Resource": f"{name}:{alias}"}
    s.healthy(name, region=region, dims=resource, recent=False)
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()], region=region, dims=resource)
    s.metrics(name, "Errors", [(t, 9) for t in s.window()], region=region, dims=resource)
    # Lambda publishes each series by function too (what `/ops status` reads), not only by alias.
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()], region=region)
    s.metrics(name, "Errors", [(t, 9) for t in s.window()], region=region)
    s.metric_alarm(f"{name}-error-rate", "Errors", resource, region)  # what Snooze mutes
    old = {**resource, "ExecutedVersion": "2"}
    new = {**resource, "ExecutedVersion": "3"}
    lookback = [timedelta(minutes=m) for m in range(12, 180, 5)]
    s.metrics(name, "Invocations", [(t, 20) for t in lookback], region=region, dims=old)
    s.metrics(name, "Errors", [(t, 0) for t in lookback], region=region, dims=old)
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()], region=region, dims=new)
    s.metrics(name, "Errors", [(t, 9) for t in s.window()], region=region, dims=new)
    s.logs(
        name,
        ["[ERROR] TypeError: unsupported operand type(s) for +: 'int' and 'str'"] * 3,
        region=region,
    )
    msg = error_rate_alarm(f"{name}-error-rate", name, alias, s.alarm_time, region=region)
    return Scenario("recent_deploy", name, sns_event(msg), "on_alarm")


def permission_denied(s: Seeder) -> Scenario:
    name = "report-builder"
    s.function(name)
    s.healthy(name, per_minute=5, recent=False)
    s.metrics(name, "Invocations", [(t, 5) for t in s.window()])
    s.metrics(name, "Errors", [(t, 5) for t in s.window()])
    s.logs(
        name,
        [
            f"[ERROR] ClientError: An error occurred (AccessDenied) when calling the PutObject operation: User: "
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{name} is not authorized to perform: s3:PutObject on "
            f'resource: "arn:aws:s3:::reports-bucket/daily.csv" because no identity-based policy allows it',
        ]
        * 4,
    )
    msg = alarm(s, f"{name}-errors", "Errors", {"FunctionName": name}, value=5)
    return Scenario("permission_denied", name, sns_event(msg), "on_alarm")


def downstream_throttling(s: Seeder) -> Scenario:
    name = "invoice-mailer"
    s.function(name)
    s.healthy(name, per_minute=10, recent=False)
    s.metrics(name, "Invocations", [(t, 10) for t in s.window()])
    s.metrics(name, "Errors", [(t, 3) for t in s.window()])
    s.logs(
        name,
        [
            "[ERROR] ClientError: An error occurred (Throttling) when calling the SendEmail operation: "
            "Maximum sending rate exceeded."
        ]
        * 3,
    )
    record = destination_record(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:$LATEST",
        {"invoiceId": "INV-20931", "customer": "c-7741"},
        s.alarm_time,
        error=SES_THROTTLED,
    )
    event = sqs_event(record, s.alarm_time)
    return Scenario("downstream_throttling", name, event, "on_failure")


def code_error(s: Seeder) -> Scenario:
    name = "cart-service"
    s.function(name)
    s.healthy(name, per_minute=200, recent=False)
    s.metrics(name, "Invocations", [(t, 200) for t in s.window()])
    s.metrics(name, "Errors", [(t, 15) for t in s.window()])
    trace = (
        "[ERROR] KeyError: 'sku'\nTraceback (most recent call last):\n"
        '  File "/var/task/app.py", line 41, in handler\n    return price(event)\n'
        '  File "/var/task/pricing.py", line 12, in price\n    sku = item["sku"]\n'
    )
    s.logs(name, [trace] * 5 + ["[ERROR] ValueError: quantity must be positive"])
    msg = alarm(s, f"{name}-errors", "Errors", {"FunctionName": name}, value=15)
    return Scenario("code_error", name, sns_event(msg), "on_alarm")


def dlq_backlog(s: Seeder) -> Scenario:
    sqs = s.client("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.create_queue(
        QueueName="orders-queue",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
        },
    )
    for i in range(23):
        sqs.send_message(
            QueueUrl=dlq, MessageBody=json.dumps({"orderId": f"O-{1000 + i}", "total": 42.5})
        )
    msg = alarm(
        s,
        "orders-dlq-not-empty",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": "orders-dlq"},
        namespace="AWS/SQS",
        stat="MAXIMUM",
        value=23,
        period=300,
    )
    return Scenario("dlq_backlog", "orders-dlq", sns_event(msg), "on_alarm")


def dlq_delivery_failure(s: Seeder) -> Scenario:
    name = "notifier"
    s.function(name)
    s.healthy(name, per_minute=10, recent=False)
    s.metrics(name, "Invocations", [(t, 10) for t in s.window()])
    s.metrics(name, "DeadLetterErrors", [(t, 2) for t in s.window()])
    msg = alarm(
        s,
        f"{name}-dead-letter-errors",
        "DeadLetterErrors",
        {"FunctionName": name},
        value=2,
        comparison="GreaterThanThreshold",
        threshold=0,
    )
    return Scenario("dlq_delivery_failure", name, sns_event(msg), "on_alarm")


def iterator_age(s: Seeder) -> Scenario:
    name = "stream-indexer"
    s.function(name, reserved=10)
    s.healthy(name, per_minute=100, recent=False)
    s.metrics(name, "Invocations", [(t, 100) for t in s.window()])
    s.metrics(
        name, "IteratorAge", [(timedelta(minutes=m), 1_200_000 - m * 150_000) for m in range(6)]
    )
    msg = alarm(
        s,
        f"{name}-iterator-age",
        "IteratorAge",
        {"FunctionName": name},
        stat="MAXIMUM",
        threshold=300_000,
        comparison="GreaterThanThreshold",
        value=1_200_000,
    )
    return Scenario("iterator_age", name, sns_event(msg), "on_alarm")


def no_invocations(s: Seeder) -> Scenario:
    name = "nightly-export"
    s.function(name)
    s.healthy(name, per_minute=3, recent=False)
    s.metrics(name, "Invocations", [(t, 0) for t in s.window()])
    msg = alarm(
        s,
        f"{name}-no-invocations",
        "Invocations",
        {"FunctionName": name},
        threshold=1,
        comparison="LessThanThreshold",
        value=0,
    )
    return Scenario("no_invocations", name, sns_event(msg), "on_alarm")


def over_provisioned_memory(s: Seeder) -> Scenario:
    name = "thumbnailer"
    s.function(name, memory=3008, timeout=60)
    s.healthy(name, per_minute=50, duration_ms=2100, recent=False)
    s.metrics(name, "Invocations", [(t, 50) for t in s.window()])
    s.metrics(name, "Duration", [(t, 2600) for t in s.window()])
    s.logs(name, [report_line(2600 + i, 3008, 180) for i in range(6)])
    msg = alarm(
        s,
        f"{name}-duration",
        "Duration",
        {"FunctionName": name},
        stat="AVERAGE",
        threshold=2500,
        comparison="GreaterThanThreshold",
        value=2600,
    )
    return Scenario("over_provisioned_memory", name, sns_event(msg), "on_alarm")


def unknown(s: Seeder) -> Scenario:
    name = "quiet-worker"
    s.function(name)
    s.healthy(name, per_minute=10)
    msg = alarm(
        s,
        f"{name}-duration",
        "Duration",
        {"FunctionName": name},
        stat="AVERAGE",
        threshold=500,
        comparison="GreaterThanThreshold",
        value=800,
    )
    return Scenario("unknown", name, sns_event(msg), "on_alarm")


SCENARIOS: dict[str, Callable[[Seeder], Scenario]] = {
    f.__name__: f
    for f in (
        timeout,
        out_of_memory,
        throttling,
        recent_deploy,
        permission_denied,
        downstream_throttling,
        code_error,
        dlq_backlog,
        dlq_delivery_failure,
        iterator_age,
        no_invocations,
        over_provisioned_memory,
        unknown,
        *CATALOGUE,
    )
}
# Two causes present: (the cause, its symptom), in the order a diagnosis must rank them.
COMPOUND: dict[str, tuple[Callable[[Seeder], Scenario], tuple[str, str]]] = {
    f.__name__: (f, order) for f, order in COMPOUND_ORDER.items()
}
DEMO = ("timeout", "throttling", "recent_deploy", "dlq_backlog", "downstream_throttling")


def seed(
    names: tuple[str, ...] | list[str],
    session: boto3.Session | None = None,
    now: datetime | None = None,
) -> list[Scenario]:
    seeder = Seeder(session, now)
    return [SCENARIOS[n](seeder) for n in names]


def seed_compound(names: list[str], session: boto3.Session | None = None) -> list[Scenario]:
    seeder = Seeder(session)
    return [COMPOUND[n][0](seeder) for n in names]


def failed_deliveries(
    session: boto3.Session | None = None,
    function: str = "invoice-mailer",
    queue: str = "invoice-mailer-failed",
    count: int = 12,
) -> list[dict[str, Any]]:
    """A function whose on-failure destination queue holds `count` records; returns the payloads."""
    s = Seeder(session)
    lam, sqs = s.client("lambda"), s.client("sqs")
    try:
        arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    except lam.exceptions.ResourceNotFoundException:
        arn = s.function(function)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.put_function_event_invoke_config(
        FunctionName=function,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    payloads = [
        {"invoiceId": f"INV-{20900 + i}", "customer": f"c-{7700 + i}"} for i in range(count)
    ]
    for payload in payloads:
        record = destination_record(
            f"{arn}:$LATEST", payload, s.alarm_time, error="Maximum sending rate exceeded."
        )
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    return payloads


def releases(session: boto3.Session | None = None, function: str = "invoice-mailer") -> None:
    """Three published versions of a demo function and a `live` alias on the newest."""
    s = Seeder(session)
    lam = s.client("lambda")
    lam.publish_version(FunctionName=function, Description="release r1")
    s.publish(function, (2, 3))
    lam.create_alias(FunctionName=function, Name="live", FunctionVersion="3")


def iam_drift(session: boto3.Session | None = None) -> None:
    """Two roles that drifted toward `*`, for the audit to find."""
    iam = Seeder(session).client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    grants = {
        "legacy-deployer": {
            "Effect": "Allow",
            "Action": ["IAM:passrole", "lambda:*"],
            "Resource": "*",
        },
        "reporting-etl": {"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"},
    }
    for name, statement in grants.items():
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust
            if name == "legacy-deployer"
            else json.dumps(LAMBDA_TRUST),
        )
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"{name}-inline",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
