"""Turn any delivery (SNS, SQS, EventBridge, a raw message) into signals; skip what is malformed."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.aws.arns import split_arn
from chalicelib.aws.times import aws_time
from chalicelib.events.models import (
    AlarmNotification,
    DestinationRecord,
    EventBridgeAlarmEvent,
    LambdaAlarmAction,
    SnsRecord,
    SqsRecord,
)
from chalicelib.events.signals import Alarm, AlarmShape, FailureRecord, MetricRef, Signal
from chalicelib.markup import strip_all

log = logging.getLogger(__name__)

_ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
_FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure"
_SUCCESS_DETAIL_TYPE = "Lambda Function Invocation Result - Success"


@dataclass(frozen=True)
class Skipped:
    where: str
    reason: str


@dataclass(frozen=True)
class Envelope:
    """What the SNS notification around a message says: its topic (whose ARN names the region
    when the message's own region name is one AWS no longer uses) and when SNS sent it."""

    topic_arn: str | None = None
    sent_at: str | None = None


class NotAFailure(ValueError):
    """An on-success destination record: the invocation worked; nothing to diagnose."""


@dataclass
class Batch:
    signals: list[Signal]
    skipped: list[Skipped]


def parse_event(event: Any) -> Batch:
    """Every signal in a Lambda event; malformed parts are logged and skipped, never raised."""
    batch = Batch([], [])
    event = strip_all(event)  # outside text never carries Shepherd's marks (chalicelib/markup.py)
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        for i, record in enumerate(event["Records"]):
            _parse_record(record, f"Records[{i}]", batch)
    else:
        _parse_message(event, "event", batch)
    for skip in batch.skipped:
        log.warning("skipped %s: %s", skip.where, skip.reason)
    return batch


def _parse_record(record: Any, where: str, batch: Batch) -> None:
    if not isinstance(record, dict):
        batch.skipped.append(Skipped(where, "record is not an object"))
        return
    envelope = None
    try:
        if "Sns" in record:
            sns = SnsRecord.model_validate(record).Sns
            body: Any = sns.Message
            envelope = Envelope(sns.TopicArn, sns.Timestamp)
        elif "body" in record:
            body = SqsRecord.model_validate(record).body
        else:
            batch.skipped.append(Skipped(where, "neither an SNS nor an SQS record"))
            return
    except ValidationError as exc:
        batch.skipped.append(Skipped(where, _first_error(exc)))
        return
    try:
        message = strip_all(json.loads(body))  # its own escapes may spell the marks
    except json.JSONDecodeError as exc:
        batch.skipped.append(Skipped(where, f"message body is not JSON ({exc.msg})"))
        return
    _parse_message(message, where, batch, envelope)


def _parse_message(
    message: Any, where: str, batch: Batch, envelope: Envelope | None = None
) -> None:
    if not isinstance(message, dict):
        batch.skipped.append(Skipped(where, "message is not a JSON object"))
        return
    try:
        if message.get("Type") == "Notification" and isinstance(message.get("Message"), str):
            # An SNS notification as an HTTP/S subscriber gets it, or as SNS writes it into an
            # SQS message body (fan-out: topic -> queue -> Shepherd): the message is inside.
            try:
                inner = strip_all(json.loads(message["Message"]))
            except json.JSONDecodeError as exc:
                batch.skipped.append(Skipped(where, f"SNS message is not JSON ({exc.msg})"))
                return
            around = Envelope(message.get("TopicArn"), message.get("Timestamp"))
            _parse_message(inner, f"{where}.Message", batch, around)
        elif "AlarmName" in message and "NewStateValue" in message:
            notification = AlarmNotification.model_validate(message)
            batch.signals.append(alarm_from_notification(notification, envelope))
        elif message.get("source") == "aws.cloudwatch" and "alarmData" in message:
            action = LambdaAlarmAction.model_validate(message)
            batch.signals.append(alarm_from_eventbridge(_as_eventbridge(action)))
        elif message.get("detail-type") == _ALARM_DETAIL_TYPE:
            event = EventBridgeAlarmEvent.model_validate(message)
            batch.signals.append(alarm_from_eventbridge(event))
        elif message.get("detail-type") == _FAILURE_DETAIL_TYPE:
            record = DestinationRecord.model_validate(message.get("detail"))
            batch.signals.append(failure_from_record(record))
        elif message.get("detail-type") == _SUCCESS_DETAIL_TYPE:
            batch.skipped.append(Skipped(where, _success(message.get("detail"))))
        elif "requestContext" in message and "responseContext" in message:
            batch.signals.append(failure_from_record(DestinationRecord.model_validate(message)))
        elif isinstance(message.get("Records"), list):
            for i, record in enumerate(message["Records"]):
                _parse_record(record, f"{where}.Records[{i}]", batch)
        else:
            batch.skipped.append(Skipped(where, _not_an_alarm(message)))
    except ValidationError as exc:
        batch.skipped.append(Skipped(where, _first_error(exc)))
    except ValueError as exc:
        batch.skipped.append(Skipped(where, str(exc)))


def _success(detail: Any) -> str:
    arn = (
        (detail or {}).get("requestContext", {}).get("functionArn", "?")
        if isinstance(detail, dict)
        else "?"
    )
    return f"an on-success destination record of {arn}: the invocation succeeded, not a failure"


def _not_an_alarm(message: dict[str, Any]) -> str:
    reason = "not an alarm, alarm event or destination record"
    if isinstance(message.get("detail-type"), str):
        return f"{reason} (an EventBridge {message['detail-type']!r} event from {message.get('source')})"
    return reason


def _as_eventbridge(action: LambdaAlarmAction) -> EventBridgeAlarmEvent:
    """A Lambda alarm action carries what an EventBridge alarm event does, shaped differently."""
    return EventBridgeAlarmEvent.model_validate(
        {
            "id": f"{action.alarmArn}@{action.time}",
            "detail-type": _ALARM_DETAIL_TYPE,
            "source": action.source,
            "account": action.accountId,
            "time": action.time,
            "region": action.region,
            "resources": [action.alarmArn],
            "detail": action.alarmData.model_dump(),
        }
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(root)"
    return f"{loc}: {err['msg']} ({exc.error_count()} problem(s))"


# --- translation into signals -------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """An AWS timestamp in any shape AWS uses (chalicelib/aws/times.py); ValueError if none."""
    parsed = aws_time(value)
    if parsed is None:
        raise ValueError(f"unreadable timestamp {value!r}")
    return parsed


_STATS = {
    "SUM": "Sum",
    "MAXIMUM": "Maximum",
    "MINIMUM": "Minimum",
    "AVERAGE": "Average",
    "SAMPLE_COUNT": "SampleCount",
}


def _stat(statistic: str | None, extended: str | None) -> str:
    """SNS spells statistics 'SUM', 'SAMPLE_COUNT'; the metrics API wants 'Sum', 'SampleCount'."""
    if statistic:
        return _STATS.get(statistic.upper(), statistic)
    return extended or "Sum"


def _shape(expression: str | None, threshold_id: str | None, composite: bool) -> AlarmShape:
    if composite:
        return "composite"
    if threshold_id or (expression and "ANOMALY_DETECTION_BAND" in expression.upper()):
        return "anomaly"
    if expression:
        return "math"
    return "metric"


def alarm_from_notification(n: AlarmNotification, envelope: Envelope | None = None) -> Alarm:
    if n.AlarmArn:
        alarm_arn = n.AlarmArn  # its region is a code; the long-name Region is not
    else:
        region = _region(n.Region, envelope)
        alarm_arn = f"arn:aws:cloudwatch:{region}:{n.AWSAccountId}:alarm:{n.AlarmName}"
    arn = split_arn(alarm_arn)
    trigger = n.Trigger
    metrics: list[MetricRef] = []
    expression = None
    period = 60
    if trigger is not None:
        period = trigger.Period or 60
        if trigger.MetricName and trigger.Namespace:
            metrics.append(
                MetricRef(
                    namespace=trigger.Namespace,
                    name=trigger.MetricName,
                    dimensions={d.name: d.value for d in trigger.Dimensions},
                    stat=_stat(trigger.Statistic, trigger.ExtendedStatistic),
                    period=period,
                )
            )
        for q in trigger.Metrics:
            if q.Expression and (q.ReturnData or expression is None):
                expression = q.Expression
            if q.MetricStat is not None:
                m = q.MetricStat
                period = m.Period or period
                metrics.append(
                    MetricRef(
                        namespace=m.Metric.Namespace,
                        name=m.Metric.MetricName,
                        dimensions={d.name: d.value for d in m.Metric.Dimensions},
                        stat=m.Stat,
                        period=m.Period,
                    )
                )
    composite = n.AlarmRule is not None and trigger is None
    return Alarm(
        name=n.AlarmName,
        arn=alarm_arn,
        state=n.NewStateValue,
        previous_state=n.OldStateValue,
        reason=n.NewStateReason,
        time=_readable_time(n.StateChangeTime, envelope.sent_at if envelope else None, n.AlarmName),
        region=arn["region"],
        account=n.AWSAccountId or arn["account"],
        shape=_shape(expression, trigger.ThresholdMetricId if trigger else None, composite),
        description=n.AlarmDescription,
        metrics=tuple(metrics),
        expression=expression,
        threshold=trigger.Threshold if trigger else None,
        comparison=trigger.ComparisonOperator if trigger else None,
        period=period,
        evaluation_periods=(trigger.EvaluationPeriods or 1) if trigger else 1,
        children=tuple(c.Arn for c in n.TriggeringChildren),
        rule=n.AlarmRule,
    )


def alarm_from_eventbridge(e: EventBridgeAlarmEvent) -> Alarm:
    d = e.detail
    metrics: list[MetricRef] = []
    expression = None
    period = 60
    for q in d.configuration.metrics:
        if q.expression and (q.returnData or expression is None):
            expression = q.expression
        if q.metricStat is not None:
            s = q.metricStat
            period = s.period
            metrics.append(
                MetricRef(
                    s.metric.namespace, s.metric.name, dict(s.metric.dimensions), s.stat, s.period
                )
            )
    threshold = None
    evaluation_periods = 1
    if d.state.reasonData:
        try:
            reason_data = json.loads(d.state.reasonData)
            threshold = reason_data.get("threshold")
            evaluation_periods = max(1, len(reason_data.get("evaluatedDatapoints") or [1]))
        except (json.JSONDecodeError, AttributeError):
            pass  # reasonData is informative only
    arn = (
        e.resources[0]
        if e.resources
        else (f"arn:aws:cloudwatch:{e.region}:{e.account}:alarm:{d.alarmName}")
    )
    composite = d.configuration.alarmRule is not None
    children = tuple(
        f"arn:aws:cloudwatch:{e.region}:{e.account}:alarm:{name}"
        for name in re.findall(r'ALARM\("?([^")]+)"?\)', d.configuration.alarmRule or "")
    )
    return Alarm(
        name=d.alarmName,
        arn=arn,
        state=d.state.value,
        previous_state=d.previousState.value if d.previousState else None,
        reason=d.state.reason,
        time=_readable_time(d.state.timestamp, e.time, d.alarmName),
        region=e.region,
        account=e.account,
        shape=_shape(expression, None, composite),
        description=d.configuration.description,
        metrics=tuple(metrics),
        expression=expression,
        threshold=threshold,
        period=period,
        evaluation_periods=evaluation_periods,
        children=children,
        rule=d.configuration.alarmRule,
    )


def _region(long_name: str, envelope: Envelope | None) -> str:
    """The region code of a notification without an AlarmArn: from its long name (botocore's
    names, and the older "US West - Oregon" shape), else from the topic ARN around it."""
    from chalicelib.aws.regions import region_code

    try:
        return region_code(long_name)
    except ValueError:
        topic = envelope.topic_arn if envelope else None
        if topic and topic.count(":") >= 5:
            return split_arn(topic)["region"]
        raise


def _readable_time(value: Any, fallback: Any, name: str) -> datetime:
    """The state change time; if it is garbled, the time its envelope was sent (else now), so
    that an alarm whose name, state and region are readable is not lost for one field."""
    parsed = aws_time(value)
    if parsed is not None:
        return parsed
    instead = aws_time(fallback) or datetime.now(UTC)
    log.warning("unreadable timestamp %r in %s: using %s", value, name, instead.isoformat())
    return instead


def failure_from_record(r: DestinationRecord) -> FailureRecord:
    if r.requestContext.condition == "Success":
        raise NotAFailure(_success(r.model_dump()))
    arn = split_arn(r.requestContext.functionArn)
    parts = arn["rest"].split(":")  # function:NAME[:QUALIFIER]
    if len(parts) < 2 or parts[0] != "function":
        raise ValueError(f"not a function ARN: {r.requestContext.functionArn!r}")
    qualifier = parts[2] if len(parts) > 2 else None
    payload = r.responsePayload if isinstance(r.responsePayload, dict) else {}
    stack = payload.get("stackTrace") or []
    return FailureRecord(
        function_name=parts[1],
        qualifier=qualifier,
        function_arn=r.requestContext.functionArn,
        request_id=r.requestContext.requestId,
        condition=r.requestContext.condition,
        time=parse_time(r.timestamp),
        region=arn["region"],
        account=arn["account"],
        attempts=r.requestContext.approximateInvokeCount,
        error_type=payload.get("errorType") or r.responseContext.functionError,
        error_message=payload.get("errorMessage"),
        stack=tuple(str(s) for s in stack) if isinstance(stack, list) else (),
        payload=r.requestPayload,
    )
