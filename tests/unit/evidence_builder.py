"""Evidence literals for rule tests: a function alarm at a fixed time, metrics per minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.diagnosis.evidence import (
    Evidence,
    FunctionFacts,
    LogLine,
    QueueFacts,
    Resource,
    Version,
    window_for,
)
from chalicelib.events.signals import Alarm, MetricRef

T = datetime(2026, 11, 22, 9, 56, tzinfo=UTC)


def alarm(metric: str = "Errors", comparison: str = "GreaterThanThreshold", **dims: str) -> Alarm:
    dimensions = dims or {"FunctionName": "orders"}
    return Alarm(
        name="a",
        arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:a",
        state="ALARM",
        previous_state="OK",
        reason="Threshold Crossed",
        time=T,
        region="us-east-1",
        account="123456789012",
        shape="metric",
        metrics=(MetricRef("AWS/Lambda", metric, dimensions),),
        comparison=comparison,
    )


def evidence(
    *,
    metric: str = "Errors",
    comparison: str = "GreaterThanThreshold",
    window: dict[str, float] | None = None,
    lookback: dict[str, float] | None = None,
    versions: dict[str, dict[str, float]] | None = None,
    logs: list[str] = (),  # type: ignore[assignment]
    function: FunctionFacts | None = None,
    queue: QueueFacts | None = None,
) -> Evidence:
    """`window`/`lookback`: metric → value per minute, in the alarm window / the hours before."""
    fn = function or FunctionFacts(
        name="orders",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        timeout_s=15,
        memory_mb=1024,
    )
    resource = Resource("function", fn.name, fn.arn, "us-east-1", "123456789012", fn.alias)
    ev = Evidence(
        signal=alarm(metric, comparison),
        resource=resource,
        window=window_for(T, 60, 1),
        function=fn,
        queue=queue,
    )
    for key, value in (window or {}).items():
        ev.metrics.setdefault(key, []).extend((T - timedelta(minutes=m), value) for m in range(3))
    for key, value in (lookback or {}).items():
        ev.metrics.setdefault(key, []).extend(
            (T - timedelta(minutes=m), value) for m in range(30, 150, 10)
        )
    for version, values in (versions or {}).items():
        for key, value in values.items():
            ev.by_version.setdefault(version, {}).setdefault(key, []).extend(
                (T - timedelta(minutes=m), value) for m in range(3)
            )
    ev.logs.extend(LogLine(T - timedelta(seconds=30), line) for line in logs)
    ev.checked.extend(["function configuration", "metrics", "logs"])
    return ev


def aliased(version: str = "3", published_minutes_before: float = 10) -> FunctionFacts:
    return FunctionFacts(
        name="orders",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        timeout_s=15,
        memory_mb=1024,
        alias="live",
        alias_version=version,
        versions=[
            Version("1", T - timedelta(days=9)),
            Version("2", T - timedelta(days=2)),
            Version("3", T - timedelta(minutes=published_minutes_before)),
        ],
    )


def report(duration: float, size: int, used: int) -> str:
    return (
        f"REPORT RequestId: 1\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
        f"Memory Size: {size} MB\tMax Memory Used: {used} MB\t"
    )
