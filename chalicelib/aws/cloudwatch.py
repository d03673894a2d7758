"""CloudWatch: many metrics in one GetMetricData request; the metrics behind a set of alarms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import calls
from chalicelib.aws.lambda_ import utc

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
