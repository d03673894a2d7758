"""CloudWatch: many metrics in one GetMetricData request; the metrics behind a set of alarms;
metric widget images; alarm mute rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import calls
from chalicelib.aws.times import utc

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

Point = tuple[datetime, float]


@dataclass(frozen=True)
class MetricQuery:
    key: str  # what the caller calls this series
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str


@dataclass(frozen=True)
class MetricSpec:
    """A metric an alarm watches."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str
    period: int


class CloudWatchApi:
    def __init__(self, client: CloudWatchClient) -> None:
        self.client = client

    @calls("cloudwatch")
    def series(
        self, queries: list[MetricQuery], start: datetime, end: datetime, period: int = 60
    ) -> dict[str, list[Point]]:
        """Every query (up to 500) in one paged request; each series sorted by time."""
        request = [
            {
                "Id": f"m{i}",
                "Label": q.key,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions.items()],
                    },
                    "Period": period,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for i, q in enumerate(queries)
        ]
        keys = {f"m{i}": q.key for i, q in enumerate(queries)}
        out: dict[str, list[Point]] = {}
        pages: Any = self.client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=request,  # type: ignore[arg-type]
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                out.setdefault(keys[result["Id"]], []).extend((utc(t), float(v)) for t, v in pairs)
        for points in out.values():
            points.sort()
        return out

    @calls("cloudwatch")
    def widget_image(self, widget: str) -> bytes:
        """A metric widget as a PNG (GetMetricWidgetImage: moto lacks it; tested with Stubber,
        drawn locally by devtools/aws_gaps.py)."""
        answer: Any = self.client.get_metric_widget_image(MetricWidget=widget, OutputFormat="png")
        return bytes(answer["MetricWidgetImage"])

    @calls("cloudwatch")
    def alarm_tags(self, arn: str) -> dict[str, str]:
        """An alarm's tags, by its ARN."""
        answer: Any = self.client.list_tags_for_resource(ResourceARN=arn)
        return {str(t["Key"]): str(t["Value"]) for t in answer.get("Tags") or []}

    @calls("cloudwatch")
    def alarm_metrics(self, names: list[str]) -> list[MetricSpec]:
        """The metrics the named metric alarms watch (single metric or metric math)."""
        response: Any = self.client.describe_alarms(AlarmNames=names[:100])
        found: list[MetricSpec] = []
        for alarm in response.get("MetricAlarms", []):
            if alarm.get("MetricName"):
                found.append(
                    MetricSpec(
                        alarm.get("Namespace", ""),
                        alarm["MetricName"],
                        {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                        alarm.get("Statistic", "Sum"),
                        alarm.get("Period", 60),
                    )
                )
            for q in alarm.get("Metrics", []):
                stat = q.get("MetricStat")
                if stat:
                    m = stat["Metric"]
                    dims = {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}
                    found.append(
                        MetricSpec(
                            m["Namespace"], m["MetricName"], dims, stat["Stat"], stat["Period"]
                        )
                    )
        return found


@dataclass(frozen=True)
class MuteRule:
    """A one-time alarm mute rule: the alarms it mutes from `start` until `expires`."""

    name: str
    alarms: tuple[str, ...]
    start: datetime | None
    expires: datetime | None
    status: str | None  # SCHEDULED, ACTIVE or EXPIRED


class MuteRules:
    """CloudWatch alarm mute rules (moto lacks them: tested with Stubber, answered locally by
    devtools/aws_gaps.py). The alarm keeps evaluating; its actions (SNS…) are muted."""

    def __init__(self, client: CloudWatchClient) -> None:
        self.client: Any = client

    def _supported(self) -> None:
        if not hasattr(self.client, "put_alarm_mute_rule"):
            from chalicelib.errors import Refused

            raise Refused(
                "this runtime's boto3 has no alarm mute rules (botocore 1.40 or newer does)"
            )

    @calls("cloudwatch")
    def alarm_arn(self, alarm: str) -> str | None:
        """The ARN of a metric or composite alarm by name; None when there is none."""
        found: Any = self.client.describe_alarms(
            AlarmNames=[alarm], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm_doc in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]:
            return str(alarm_doc["AlarmArn"])
        return None

    @calls("cloudwatch")
    def put(
        self, name: str, alarm: str, start: datetime, end: datetime, tags: dict[str, str]
    ) -> None:
        """Mute `alarm` from `start` (to the minute, UTC) until `end`; replaces a rule so named."""
        self._supported()
        minutes = max(1, -(-int((end - start).total_seconds()) // 60))
        self.client.put_alarm_mute_rule(
            Name=name,
            Description=f"Shepherd snooze of {alarm}"[:1024],
            Rule={
                "Schedule": {
                    "Expression": f"at({start:%Y-%m-%dT%H:%M})",
                    "Duration": iso_duration(minutes),
                    "Timezone": "UTC",
                }
            },
            MuteTargets={"AlarmNames": [alarm]},
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            ExpireDate=end,
        )

    @calls("cloudwatch")
    def get(self, name: str) -> MuteRule | None:
        self._supported()
        try:
            r: Any = self.client.get_alarm_mute_rule(AlarmMuteRuleName=name)
        except self.client.exceptions.ResourceNotFoundException:
            return None
        return MuteRule(
            r.get("Name", name),
            tuple((r.get("MuteTargets") or {}).get("AlarmNames", [])),
            utc(r["StartDate"]) if r.get("StartDate") else None,
            utc(r["ExpireDate"]) if r.get("ExpireDate") else None,
            r.get("Status"),
        )

    @calls("cloudwatch")
    def delete(self, name: str) -> None:
        """Unmute at once (idempotent: a rule that is gone is fine)."""
        self._supported()
        self.client.delete_alarm_mute_rule(AlarmMuteRuleName=name)


def iso_duration(minutes: int) -> str:
    """ISO 8601 duration of whole minutes: `PT45M`, `PT4H`, `P1DT2H30M`."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    time_part = (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return ("P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")) or "PT0M"
