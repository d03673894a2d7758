"""Pydantic models that mirror the AWS payloads field by field (extra fields are kept, not lost)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Aws(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- CloudWatch alarm notification, the SNS message body ---------------------------------


class SnsDimension(_Aws):
    name: str
    value: str


class TriggerMetricDimension(_Aws):
    name: str
    value: str


class TriggerMetric(_Aws):
    Dimensions: list[TriggerMetricDimension] = []
    MetricName: str
    Namespace: str


class TriggerMetricStat(_Aws):
    Metric: TriggerMetric
    Period: int
    Stat: str


class TriggerMetricQuery(_Aws):
    Id: str
    Expression: str | None = None
    Label: str | None = None
    MetricStat: TriggerMetricStat | None = None
    ReturnData: bool | None = None


class AlarmTrigger(_Aws):
    MetricName: str | None = None
    Namespace: str | None = None
    Statistic: str | None = None
    ExtendedStatistic: str | None = None
    Dimensions: list[SnsDimension] = []
    Metrics: list[TriggerMetricQuery] = []
    Period: int | None = None
    EvaluationPeriods: int | None = None
    DatapointsToAlarm: int | None = None
    ComparisonOperator: str | None = None
    Threshold: float | None = None
    ThresholdMetricId: str | None = None
    TreatMissingData: str | None = None


class ChildState(_Aws):
    Value: str
    Timestamp: str | None = None


class TriggeringChild(_Aws):
    Arn: str
    State: ChildState | None = None


class AlarmNotification(_Aws):
    AlarmName: str
    AlarmDescription: str | None = None
    AWSAccountId: str
    NewStateValue: str
    OldStateValue: str | None = None
    NewStateReason: str = ""
    StateChangeTime: str
    Region: str = ""
    AlarmArn: str | None = None  # absent from older (and some current) notifications
    Trigger: AlarmTrigger | None = None
    AlarmRule: str | None = None
    TriggeringChildren: list[TriggeringChild] = []


# --- EventBridge "CloudWatch Alarm State Change" ------------------------------------------


class EbMetric(_Aws):
    namespace: str
    name: str
    dimensions: dict[str, str] = {}


class EbMetricStat(_Aws):
    metric: EbMetric
    period: int
    stat: str


class EbMetricQuery(_Aws):
    id: str
    expression: str | None = None
    label: str | None = None
    metricStat: EbMetricStat | None = None
    returnData: bool | None = None


class EbConfiguration(_Aws):
    description: str | None = None
    metrics: list[EbMetricQuery] = []
    alarmRule: str | None = None


class EbState(_Aws):
    value: str
    reason: str = ""
    reasonData: str | None = None
    timestamp: str


class EbAlarmDetail(_Aws):
    alarmName: str
    state: EbState
    previousState: EbState | None = None
    configuration: EbConfiguration = EbConfiguration()


class EventBridgeAlarmEvent(_Aws):
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: str
    region: str
    resources: list[str] = []
    detail: EbAlarmDetail


class LambdaAlarmAction(_Aws):
    """What CloudWatch sends when an alarm's action invokes a Lambda function directly."""

    source: str
    alarmArn: str
    accountId: str
    time: str
    region: str
    alarmData: EbAlarmDetail


# --- Lambda asynchronous invocation on-failure destination record -------------------------


class DestinationRequestContext(_Aws):
    requestId: str
    functionArn: str
    condition: str
    approximateInvokeCount: int = 1


class DestinationResponseContext(_Aws):
    statusCode: int | None = None
    executedVersion: str | None = None
    functionError: str | None = None


class DestinationRecord(_Aws):
    version: str
    timestamp: str
    requestContext: DestinationRequestContext
    requestPayload: Any = None
    responseContext: DestinationResponseContext = DestinationResponseContext()
    responsePayload: Any = None


# --- Envelopes ---------------------------------------------------------------------------


class SnsMessage(_Aws):
    MessageId: str
    TopicArn: str | None = None
    Subject: str | None = None
    Message: str
    Timestamp: str | None = None


class SnsRecord(_Aws):
    EventSource: str = "aws:sns"
    Sns: SnsMessage


class SqsRecord(_Aws):
    messageId: str
    receiptHandle: str | None = None
    body: str
    attributes: dict[str, str] = {}
    eventSource: str = "aws:sqs"
    eventSourceARN: str | None = None
