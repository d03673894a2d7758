"""The picture of a diagnosis: a CloudWatch metric widget (GetMetricWidgetImage) chosen by its
top cause. Pure: the widget is data; chalicelib/aws/cloudwatch.py renders it.

- a deploy: errors and invocations by version, around the deploy;
- a timeout: duration (maximum) against the timeout line;
- memory: memory used (Lambda Insights) against the limit;
- throttling: throttles and concurrency against the reservation;
- a queue: its depth; otherwise errors against invocations.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.diagnosis.causes import Diagnosis

LAMBDA = "AWS/Lambda"
WIDTH, HEIGHT = 800, 360


def widget(d: Diagnosis) -> str | None:
    """The widget's JSON for the top cause's evidence; None when there is nothing to draw."""
    ev, kind = d.evidence, d.top.kind
    r = ev.resource
    start = ev.window.lookback_start
    span = ev.window.end - start
    doc: dict[str, Any] = {
        "view": "timeSeries",
        "stacked": False,
        "region": r.region,
        "start": f"-PT{max(1, int(span / timedelta(minutes=1)))}M",
        "end": "P0D",
        "period": 60,
        "width": WIDTH,
        "height": HEIGHT,
        "legend": {"position": "bottom"},
    }
    if r.type == "queue":
        dims = ["QueueName", r.name]
        doc["title"] = f"{r.name}: messages waiting"
        doc["metrics"] = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", *dims, {"stat": "Maximum"}]
        ]
        return json.dumps(doc)
    if r.type != "function":
        return None
    fn = ev.function
    base = ["FunctionName", r.name, *(["Resource", r.label] if r.qualifier else [])]
    lines: list[dict[str, Any]] = []
    if kind == "recent_deploy" and ev.by_version:
        doc["title"] = f"{r.label}: errors and invocations by version"
        doc["metrics"] = [
            [
                LAMBDA,
                metric,
                *base,
                "ExecutedVersion",
                version,
                {"stat": "Sum", "label": f"v{version} {metric.lower()}"},
            ]
            for version in sorted(ev.by_version)
            for metric in ("Errors", "Invocations")
        ]
    elif kind == "account_concurrency":
        doc["title"] = f"{r.region}: concurrency claimed in the account"
        doc["metrics"] = [[LAMBDA, "ClaimedAccountConcurrency", {"stat": "Maximum"}]]
        if fn and fn.account_concurrency_limit:
            lines.append(
                {
                    "label": f"limit {fn.account_concurrency_limit}",
                    "value": fn.account_concurrency_limit,
                }
            )
    elif kind in ("async_backlog", "recursive_loop"):
        metric = "AsyncEventAge" if kind == "async_backlog" else "RecursiveInvocationsDropped"
        doc["title"] = f"{r.name}: {metric}"
        doc["metrics"] = [
            [LAMBDA, metric, "FunctionName", r.name, {"stat": "Maximum"}],
            [LAMBDA, "AsyncEventsDropped", "FunctionName", r.name, {"stat": "Sum"}],
        ]
    elif kind in ("timeout", "duration_anomaly", "cold_starts"):
        doc["title"] = f"{r.label}: duration against its timeout"
        doc["metrics"] = [
            [LAMBDA, "Duration", *base, {"stat": "Maximum", "label": "max duration (ms)"}]
        ]
        if fn and fn.timeout_s:
            lines.append({"label": f"timeout {fn.timeout_s} s", "value": fn.timeout_s * 1000})
    elif kind in ("out_of_memory", "memory_pressure", "over_provisioned_memory"):
        doc["title"] = f"{r.name}: memory used against its limit (Lambda Insights)"
        doc["metrics"] = [
            [
                "LambdaInsights",
                "used_memory_max",
                "function_name",
                r.name,
                {"stat": "Maximum", "label": "used (MB)"},
            ]
        ]
        if fn and fn.memory_mb:
            lines.append({"label": f"limit {fn.memory_mb} MB", "value": fn.memory_mb})
    elif kind == "throttling":
        doc["title"] = f"{r.label}: throttles and concurrency"
        doc["metrics"] = [
            [LAMBDA, "Throttles", *base, {"stat": "Sum"}],
            [LAMBDA, "ConcurrentExecutions", *base, {"stat": "Maximum"}],
        ]
        if fn and fn.reserved_concurrency is not None:
            lines.append(
                {"label": f"reserved {fn.reserved_concurrency}", "value": fn.reserved_concurrency}
            )
    else:
        doc["title"] = f"{r.label}: errors against invocations"
        doc["metrics"] = [
            [LAMBDA, "Errors", *base, {"stat": "Sum"}],
            [LAMBDA, "Invocations", *base, {"stat": "Sum"}],
        ]
    if lines:
        doc["annotations"] = {"horizontal": lines}
    return json.dumps(doc)


def filename(d: Diagnosis) -> str:
    r = d.evidence.resource
    when = d.evidence.signal.time.strftime("%Y%m%dT%H%M")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in r.label)
    return f"{safe}-{d.top.kind}-{when}.png"
