"""The narrowed GetMetricData answers exactly as moto's own does (devtools/moto_metrics.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from devtools import moto_metrics

END = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def stat(i: int, name: str, dims: dict[str, str], namespace: str = "AWS/Lambda") -> dict[str, Any]:
    return {
        "Id": f"q{i}",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": 300,
            "Stat": random.choice(["Sum", "Average", "Maximum", "SampleCount"]),
        },
    }


def test_every_query_shape_gets_moto_s_own_answer() -> None:
    moto_metrics.install()
    random.seed(7)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        functions = [f"fn-{i}" for i in range(6)]
        for minute in range(0, 120, 3):
            data = []
            for fn in functions:
                for metric in ("Errors", "Invocations", "Duration"):
                    dims = [{"Name": "FunctionName", "Value": fn}]
                    if metric == "Duration" and minute % 2:  # a second dimension, as aliases add
                        dims.append({"Name": "Resource", "Value": f"{fn}:live"})
                    data.append(
                        {
                            "MetricName": metric,
                            "Dimensions": dims,
                            "Timestamp": END - timedelta(minutes=minute),
                            "Value": random.randint(0, 50),
                        }
                    )
            cw.put_metric_data(Namespace="AWS/Lambda", MetricData=data)
            cw.put_metric_data(  # the same name in another namespace, without dimensions
                Namespace="Custom/App",
                MetricData=[
                    {
                        "MetricName": "Errors",
                        "Timestamp": END - timedelta(minutes=minute),
                        "Value": 1,
                    }
                ],
            )
        backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        original = CloudWatchBackend.get_metric_data.__wrapped__  # type: ignore[attr-defined]
        requests = [
            [stat(0, "Errors", {"FunctionName": "fn-1"})],
            [
                stat(0, "Errors", {"FunctionName": "fn-1"}),
                stat(1, "Invocations", {"FunctionName": "fn-1"}),
            ],
            [stat(0, "Duration", {"FunctionName": "fn-2", "Resource": "fn-2:live"})],
            [stat(0, "Duration", {"Resource": "fn-2:live", "FunctionName": "fn-2"})],
            [stat(0, "Errors", {}, "Custom/App")],
            [stat(0, "Errors", {}, "AWS/Lambda")],
            [stat(0, "Errors", {"FunctionName": "nobody"})],
            [
                stat(0, "Errors", {"FunctionName": "fn-3"}),
                stat(1, "Invocations", {"FunctionName": "fn-3"}),
                {"Id": "rate", "Expression": "100 * q0 / q1"},
            ],
            [{"Id": "s", "Expression": 'SELECT SUM(Errors) FROM "AWS/Lambda"', "Period": 300}],
        ]
        end = END.replace(tzinfo=None)  # as moto's responses hand times to its backend
        for queries in requests:
            for scan_by in ("TimestampAscending", "TimestampDescending"):
                args = (queries, end - timedelta(hours=2), end, scan_by)
                narrowed = backend.get_metric_data(*args)
                assert narrowed == original(backend, *args), queries
        assert any(
            r["values"] for r in backend.get_metric_data(requests[1], end - timedelta(hours=2), end)
        )
