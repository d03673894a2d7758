"""A demo fleet: functions, queues, metrics and logs seeded into an AWS emulator, one failure each.

Each scenario seeds the state that makes one diagnosis kind true and returns the event that the
alarm (or destination) would deliver, in the shapes of AWS's own payloads.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)"}
ROLE = "shepherd-demo-fleet"


@dataclass
class Scenario:
    kind: str
    function: str
    event: dict[str, Any]
    handler: str  # which Shepherd handler receives the event: on_alarm, on_alarm_event, on_failure


class Seeder:
    def __init__(self, session: boto3.Session | None = None, now: datetime | None = None) -> None:
        self.session = session or boto3.Session()
        self.now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.alarm_time = self.now - timedelta(seconds=30)
        self._roles: dict[str, str] = {}

    def client(self, service: str, region: str = REGION) -> Any:
        return self.session.client(service, region_name=region)

    # --- building blocks ------------------------------------------------------------------

    def role(self, region: str = REGION) -> str:
        if "arn" not in self._roles:
            iam = self.client("iam", region)
            try:
                self._roles["arn"] = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
            except iam.exceptions.NoSuchEntityException:
                trust = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
                self._roles["arn"] = iam.create_role(
                    RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust)
                )["Role"]["Arn"]
        return self._roles["arn"]

    def function(
        self,
        name: str,
        *,
        timeout: int = 30,
        memory: int = 512,
        region: str = REGION,
        reserved: int | None = None,
        description: str = "",
        publish: bool = False,
    ) -> str:
        lam = self.client("lambda", region)
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role(region),
            Handler="app.handler",
            Code={"ZipFile": _code(name, 1)},
            Timeout=timeout,
            MemorySize=memory,
            Description=description,
            Publish=publish,
        )["FunctionArn"]
        if reserved is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        self.client("logs", region).create_log_group(logGroupName=f"/aws/lambda/{name}")
        return arn

    def metrics(
        self,
        name: str,
        metric: str,
        values: list[tuple[timedelta, float]],
        *,
        namespace: str = "AWS/Lambda",
        region: str = REGION,
        dims: dict[str, str] | None = None,
    ) -> None:
        """`values`: (how long before the alarm, value) pairs."""
        dimensions = [{"Name": k, "Value": v} for k, v in (dims or {"FunctionName": name}).items()]
        data = [
            {
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": self.alarm_time - ago,
                "Value": v,
            }
            for ago, v in values
        ]
        cw = self.client("cloudwatch", region)
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])

    def healthy(
        self,
        name: str,
        *,
        per_minute: float = 20,
        duration_ms: float = 800,
        region: str = REGION,
        dims: dict[str, str] | None = None,
        recent: bool = True,
    ) -> None:
        """Three quiet hours before the alarm (and, if `recent`, the alarm window too)."""
        start = 8 if recent else 12
        span = [timedelta(minutes=m) for m in range(start if not recent else 1, 180, 5)]
        self.metrics(name, "Invocations", [(t, per_minute) for t in span], region=region, dims=dims)
        self.metrics(name, "Errors", [(t, 0.0) for t in span], region=region, dims=dims)
        self.metrics(name, "Duration", [(t, duration_ms) for t in span], region=region, dims=dims)

    def window(self, minutes: int = 6) -> list[timedelta]:
        return [timedelta(minutes=m) for m in range(minutes)]

    def logs(
        self, name: str, lines: list[str], *, region: str = REGION, spread_minutes: int = 5
    ) -> None:
        logs = self.client("logs", region)
        stream = f"{self.alarm_time:%Y/%m/%d}/[$LATEST]{abs(hash(name)) % 10**12:012d}"
        logs.create_log_stream(logGroupName=f"/aws/lambda/{name}", logStreamName=stream)
        start = self.alarm_time - timedelta(minutes=spread_minutes)
        step = timedelta(minutes=spread_minutes) / max(len(lines), 1)
        events = [
            {"timestamp": int((start + step * i).timestamp() * 1000), "message": line}
            for i, line in enumerate(lines)
        ]
        logs.put_log_events(
            logGroupName=f"/aws/lambda/{name}", logStreamName=stream, logEvents=events
        )

    # --- the events AWS would deliver -----------------------------------------------------

    def alarm_message(
        self,
        alarm: str,
        metric: str,
        dims: dict[str, str],
        *,
        namespace: str = "AWS/Lambda",
        stat: str = "SUM",
        threshold: float = 1.0,
        comparison: str = "GreaterThanOrEqualToThreshold",
        value: float = 1.0,
        region: str = REGION,
        description: str = "",
        period: int = 60,
        state: str = "ALARM",
    ) -> dict[str, Any]:
        t = self.alarm_time
        return {
            "AlarmName": alarm,
            "AlarmDescription": description,
            "AWSAccountId": ACCOUNT,
            "NewStateValue": state,
            "NewStateReason": (
                f"Threshold Crossed: 1 out of the last 1 datapoints [{value} "
                f"({t:%d/%m/%y %H:%M:%S})] crossed the threshold ({threshold})."
            ),
            "StateChangeTime": t.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "Region": REGION_NAMES.get(region, region),
            "AlarmArn": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}",
            "OldStateValue": "OK" if state == "ALARM" else "ALARM",
            "Trigger": {
                "MetricName": metric,
                "Namespace": namespace,
                "StatisticType": "Statistic",
                "Statistic": stat,
                "Unit": None,
                "Dimensions": [{"value": v, "name": k} for k, v in dims.items()],
                "Period": period,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "ComparisonOperator": comparison,
                "Threshold": threshold,
                "TreatMissingData": "missing",
            },
        }


def sns_event(message: dict[str, Any], topic: str = "shepherd-alarms") -> dict[str, Any]:
    """A Lambda event from SNS, as `sns-lambda-errors-alarm.json` is shaped."""
    region = message.get("AlarmArn", f"arn:aws:cloudwatch:{REGION}").split(":")[3]
    subject = f'{message.get("NewStateValue", "ALARM")}: "{message.get("AlarmName", "")}" in {message.get("Region", "")}'
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"arn:aws:sns:{region}:{ACCOUNT}:{topic}:sub",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": f"msg-{abs(hash(json.dumps(message, sort_keys=True)))}",
                    "TopicArn": f"arn:aws:sns:{region}:{ACCOUNT}:{topic}",
                    "Subject": subject[:100],
                    "Message": json.dumps(message),
                    "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def _code(name: str, revision: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "app.py", f"# {name} r{revision}\ndef handler(event, context):\n    return event\n"
        )
    return buffer.getvalue()


def _report(duration: float, memory: int, used: int) -> str:
    billed = int(-(-duration // 1))
    return (
        f"REPORT RequestId: 8f5c2d1e-0000-4000-8000-{int(duration):012d}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t"
    )


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
            _report(15003, 1024, 300),
            "2026-11-22T09:55:31.000Z 2 Task timed out after 15.00 seconds",
            _report(15001, 1024, 310),
        ],
    )
    t = s.alarm_time
    event = {
        "version": "0",
        "id": f"eb-{name}-{int(t.timestamp())}",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}-duration"],
        "detail": {
            "alarmName": f"{name}-duration",
            "state": {
                "value": "ALARM",
                "reason": "Threshold Crossed: 1 datapoint [15003.0] > 12000.0",
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            },
            "previousState": {
                "value": "OK",
                "reason": "",
                "timestamp": "2026-11-21T22:10:03.002+0000",
            },
            "configuration": {
                "description": "Duration near the 15 s timeout",
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": "AWS/Lambda",
                                "name": "Duration",
                                "dimensions": {"FunctionName": name},
                            },
                            "period": 60,
                            "stat": "Maximum",
                        },
                        "returnData": True,
                    }
                ],
            },
        },
    }
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
            _report(4210, 512, 512),
            "RequestId: 3 Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
            _report(3990, 512, 512),
        ],
    )
    msg = s.alarm_message(f"{name}-errors", "Errors", {"FunctionName": name}, value=6)
    return Scenario("out_of_memory", name, sns_event(msg), "on_alarm")


def throttling(s: Seeder) -> Scenario:
    name = "payments-capture"
    s.function(name, reserved=5)
    s.healthy(name, per_minute=4, recent=False)
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()])
    s.metrics(name, "Errors", [(t, 0) for t in s.window()])
    s.metrics(name, "Throttles", [(t, 40) for t in s.window()])
    s.metrics(name, "ConcurrentExecutions", [(t, 5) for t in s.window()])
    msg = s.alarm_message(f"{name}-throttles", "Throttles", {"FunctionName": name}, value=40)
    return Scenario("throttling", name, sns_event(msg), "on_alarm")


def recent_deploy(s: Seeder) -> Scenario:
    name, region, alias = "checkout-api", "eu-west-1", "live"
    lam = s.client("lambda", region)
    s.function(name, region=region, publish=True)
    for revision in (2, 3):
        lam.update_function_code(FunctionName=name, ZipFile=_code(name, revision))
        lam.publish_version(FunctionName=name, Description=f"release r{revision}")
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion="3")
    resource = {"FunctionName": name, "Resource": f"{name}:{alias}"}
    s.healthy(name, region=region, dims=resource, recent=False)
    s.metrics(name, "Invocations", [(t, 60) for t in s.window()], region=region, dims=resource)
    s.metrics(name, "Errors", [(t, 9) for t in s.window()], region=region, dims=resource)
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
    t = s.alarm_time
    metric = {
        "Dimensions": [
            {"value": name, "name": "FunctionName"},
            {"value": alias, "name": "Resource"},
        ],
        "Namespace": "AWS/Lambda",
    }
    msg = {
        "AlarmName": f"{name}-error-rate",
        "AlarmDescription": f"Error rate above 5% on {name}",
        "AWSAccountId": ACCOUNT,
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "Threshold Crossed: 1 datapoint [15.0] was greater than the threshold (5.0).",
        "StateChangeTime": t.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": REGION_NAMES[region],
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}-error-rate",
        "Trigger": {
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 5.0,
            "Metrics": [
                {
                    "Expression": "100*errors/invocations",
                    "Id": "rate",
                    "Label": "error rate %",
                    "ReturnData": True,
                },
                {
                    "Id": "errors",
                    "MetricStat": {
                        "Metric": {**metric, "MetricName": "Errors"},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
                {
                    "Id": "invocations",
                    "MetricStat": {
                        "Metric": {**metric, "MetricName": "Invocations"},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
            ],
        },
    }
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
    msg = s.alarm_message(f"{name}-errors", "Errors", {"FunctionName": name}, value=5)
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
    t = s.alarm_time
    record = {
        "version": "1.0",
        "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "requestContext": {
            "requestId": f"e4b46cbf-{int(t.timestamp())}",
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"invoiceId": "INV-20931", "customer": "c-7741"},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": "An error occurred (Throttling) when calling the SendEmail "
            "operation: Maximum sending rate exceeded.",
            "errorType": "ClientError",
        },
    }
    event = {
        "Records": [
            {
                "messageId": f"m-{int(t.timestamp())}",
                "receiptHandle": "AQEB...",
                "body": json.dumps(record),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(t.timestamp() * 1000)),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:shepherd-failures",
                "awsRegion": REGION,
            }
        ]
    }
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
    msg = s.alarm_message(f"{name}-errors", "Errors", {"FunctionName": name}, value=15)
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
    msg = s.alarm_message(
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
    msg = s.alarm_message(
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
    msg = s.alarm_message(
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
    msg = s.alarm_message(
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
    s.logs(name, [_report(2600 + i, 3008, 180) for i in range(6)])
    msg = s.alarm_message(
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
    msg = s.alarm_message(
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
    )
}
DEMO = ("timeout", "throttling", "recent_deploy", "dlq_backlog", "downstream_throttling")


def seed(
    names: tuple[str, ...] | list[str],
    session: boto3.Session | None = None,
    now: datetime | None = None,
) -> list[Scenario]:
    seeder = Seeder(session, now)
    return [SCENARIOS[n](seeder) for n in names]


def destination_record(function_arn: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An on-failure destination record, as Lambda writes it after the retries ran out."""
    return {
        "version": "1.0",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "requestContext": {
            "requestId": f"req-{abs(hash(json.dumps(payload, sort_keys=True))) % 10**8:08d}",
            "functionArn": function_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorMessage": "Maximum sending rate exceeded.",
            "errorType": "ClientError",
        },
    }


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
        record = destination_record(f"{arn}:$LATEST", payload, s.alarm_time)
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    return payloads


def releases(session: boto3.Session | None = None, function: str = "invoice-mailer") -> None:
    """Three published versions of a demo function and a `live` alias on the newest."""
    s = Seeder(session)
    lam = s.client("lambda")
    lam.publish_version(FunctionName=function, Description="release r1")
    for revision in (2, 3):
        lam.update_function_code(FunctionName=function, ZipFile=_code(function, revision))
        lam.publish_version(FunctionName=function, Description=f"release r{revision}")
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
            AssumeRolePolicyDocument=trust if name == "legacy-deployer" else _lambda_trust(),
        )
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"{name}-inline",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )


def _lambda_trust() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
