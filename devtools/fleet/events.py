"""The events AWS would deliver for the demo fleet, built from the captured payloads in tests/events/.

Each builder starts from a real captured shape and changes only what the scenario needs, so the
demo and the tests cannot drift from what AWS sends.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)"}
CAPTURED = Path(__file__).resolve().parents[2] / "tests" / "events"


@cache
def _captured(name: str) -> Any:
    return json.loads((CAPTURED / name).read_text())


def captured(name: str) -> Any:
    """A fresh copy of a captured payload."""
    return copy.deepcopy(_captured(name))


def stable_id(*parts: object, digits: int = 12) -> str:
    """An id derived from its parts, the same in every process (unlike `hash()`)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:digits]


def _aws_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def alarm_message(
    alarm: str,
    metric: str,
    dims: dict[str, str],
    at: datetime,
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
    """A single-metric alarm notification, as SNS carries it (`alarm-lambda-errors-ok.json`)."""
    m = captured("alarm-lambda-errors-ok.json")
    m.update(
        AlarmName=alarm,
        AlarmDescription=description,
        NewStateValue=state,
        OldStateValue="OK" if state == "ALARM" else "ALARM",
        NewStateReason=(
            f"Threshold Crossed: 1 out of the last 1 datapoints [{value} "
            f"({at:%d/%m/%y %H:%M:%S})] crossed the threshold ({threshold})."
        ),
        StateChangeTime=_aws_time(at),
        Region=REGION_NAMES.get(region, region),
        AlarmArn=f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}",
    )
    m["Trigger"].update(
        MetricName=metric,
        Namespace=namespace,
        Statistic=stat,
        Dimensions=[{"value": v, "name": k} for k, v in dims.items()],
        Period=period,
        ComparisonOperator=comparison,
        Threshold=threshold,
    )
    return m  # type: ignore[no-any-return]


def error_rate_alarm(
    alarm: str, function: str, alias: str, at: datetime, *, region: str
) -> dict[str, Any]:
    """A metric-math error-rate alarm on an alias (`alarm-metric-math-error-rate.json`)."""
    m = captured("alarm-metric-math-error-rate.json")
    m.update(
        AlarmName=alarm,
        AlarmDescription=f"Error rate above 5% on {function}",
        NewStateReason=(
            f"Threshold Crossed: 1 datapoint [15.0 ({at:%d/%m/%y %H:%M:%S})] "
            "was greater than the threshold (5.0)."
        ),
        StateChangeTime=_aws_time(at),
        Region=REGION_NAMES[region],
        AlarmArn=f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{alarm}",
    )
    for query in m["Trigger"]["Metrics"]:
        if "MetricStat" in query:
            query["MetricStat"]["Metric"]["Dimensions"] = [
                {"value": function, "name": "FunctionName"},
                {"value": alias, "name": "Resource"},
            ]
    return m  # type: ignore[no-any-return]


def sns_event(message: dict[str, Any], topic: str = "shepherd-alarms") -> dict[str, Any]:
    """A Lambda event from SNS carrying `message` (`sns-lambda-errors-alarm.json`)."""
    event = captured("sns-lambda-errors-alarm.json")
    region = message.get("AlarmArn", f"arn:aws:cloudwatch:{REGION}").split(":")[3]
    record = event["Records"][0]
    record["EventSubscriptionArn"] = f"arn:aws:sns:{region}:{ACCOUNT}:{topic}:sub"
    state, name = message.get("NewStateValue", "ALARM"), message.get("AlarmName", "")
    record["Sns"].update(
        MessageId=f"msg-{stable_id(message)}",
        TopicArn=f"arn:aws:sns:{region}:{ACCOUNT}:{topic}",
        Subject=f'{state}: "{name}" in {message.get("Region", "")}'[:100],
        Message=json.dumps(message),
    )
    return event  # type: ignore[no-any-return]


def eventbridge_alarm(
    alarm: str,
    metric: str,
    stat: str,
    dims: dict[str, str],
    at: datetime,
    *,
    reason: str,
    description: str,
) -> dict[str, Any]:
    """A `CloudWatch Alarm State Change` from EventBridge (`eventbridge-alarm-state-change.json`)."""
    event = captured("eventbridge-alarm-state-change.json")
    event.update(
        id=f"eb-{stable_id(alarm, at)}",
        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        resources=[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"],
    )
    detail = event["detail"]
    detail["alarmName"] = alarm
    detail["state"] = {"value": "ALARM", "reason": reason, "timestamp": _aws_time(at)}
    detail["configuration"]["description"] = description
    [query] = detail["configuration"]["metrics"]
    query["metricStat"]["metric"].update(name=metric, dimensions=dims)
    query["metricStat"]["stat"] = stat
    return event  # type: ignore[no-any-return]


def destination_record(
    function_arn: str, payload: dict[str, Any], at: datetime, *, error: str
) -> dict[str, Any]:
    """An on-failure destination record after the retries ran out (`lambda-destination-on-failure.json`)."""
    record = captured("lambda-destination-on-failure.json")
    request_id = stable_id(function_arn, payload, at)
    record["timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    record["requestContext"].update(requestId=f"req-{request_id}", functionArn=function_arn)
    record["requestPayload"] = payload
    record["responsePayload"] = {"errorMessage": error, "errorType": "ClientError"}
    return record  # type: ignore[no-any-return]


def sqs_event(
    body: dict[str, Any], at: datetime, queue: str = "shepherd-failures"
) -> dict[str, Any]:
    """A Lambda event from SQS carrying `body` (`sqs-wrapped-destination-record.json`)."""
    event = captured("sqs-wrapped-destination-record.json")
    record = event["Records"][0]
    record.update(
        messageId=f"m-{stable_id(body)}",
        body=json.dumps(body),
        eventSourceARN=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
    )
    record["attributes"]["SentTimestamp"] = str(int(at.timestamp() * 1000))
    return event  # type: ignore[no-any-return]
