"""Scenarios for the wider catalogue of causes (PRODUCT.md §3), and compound ones where a cause and
its symptom are both present and the cause must rank first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from devtools.fleet.events import REGION, sns_event
from devtools.fleet.seeder import Seeder, report_line
from devtools.fleet.wiring import WIRING

# Scenario is defined in scenarios.py, which imports this module's functions.


def _alarm(s: Seeder, name: str, metric: str, fn: str, **kw: Any) -> dict[str, Any]:
    from devtools.fleet.scenarios import alarm

    return sns_event(alarm(s, name, metric, {"FunctionName": fn}, **kw))


def _scenario(kind: str, function: str, event: dict[str, Any]) -> Any:
    from devtools.fleet.scenarios import Scenario

    return Scenario(kind, function, event, "on_alarm")


def _fed_by(s: Seeder, function: str, queue: str, *, visibility: int, enabled: bool = True) -> None:
    """An SQS queue with this visibility timeout, mapped to the function as its event source."""
    sqs = s.client("sqs")
    url = sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": str(visibility)})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=function, Enabled=enabled
    )


def cold_starts(s: Seeder) -> Any:
    name = "search-api"
    s.function(name, timeout=30, memory=512)
    s.healthy(name, per_minute=30, duration_ms=300, recent=False)
    s.metrics(name, "Invocations", [(t, 30) for t in s.window()])
    s.metrics(name, "Duration", [(t, 2600) for t in s.window()])
    lines = [report_line(2500 + i, 512, 300, init=2400 + 10 * i) for i in range(4)]
    lines += [report_line(280 + i, 512, 300) for i in range(6)]
    event = _alarm(
        s,
        f"{name}-p90-latency",
        "Duration",
        name,
        stat="AVERAGE",
        threshold=1000,
        comparison="GreaterThanThreshold",
        value=2600,
    )
    s.logs(name, lines)
    return _scenario("cold_starts", name, event)


def memory_pressure(s: Seeder) -> Any:
    name = "pdf-render"
    s.function(name, timeout=60, memory=1024)
    s.healthy(name, per_minute=10, duration_ms=4000, recent=False)
    s.metrics(name, "Invocations", [(t, 10) for t in s.window()])
    s.metrics(name, "Errors", [(t, 1) for t in s.window()])
    s.logs(name, [report_line(4100 + i, 1024, 930 + 10 * i) for i in range(5)])
    event = _alarm(s, f"{name}-errors", "Errors", name, value=1)
    return _scenario("memory_pressure", name, event)


def new_error(s: Seeder) -> Any:
    name = "basket-pricing"
    s.function(name)
    s.healthy(name, per_minute=40, recent=False)
    s.metrics(name, "Invocations", [(t, 40) for t in s.window()])
    s.metrics(name, "Errors", [(t, 6) for t in s.window()])
    # Yesterday's errors, of another kind: known, and not what fails now.
    s.logs(name, ["[ERROR] KeyError: 'sku'"] * 4, ago=timedelta(hours=20))
    s.logs(
        name,
        ["[ERROR] ValueError: invalid literal for int() with base 10: 'N/A'"] * 5,
    )
    event = _alarm(s, f"{name}-errors", "Errors", name, value=6)
    return _scenario("new_error", name, event)


def duration_anomaly(s: Seeder) -> Any:
    name = "quote-engine"
    s.function(name, timeout=60, memory=1024)
    s.healthy(name, per_minute=20, duration_ms=800, recent=False)
    s.metrics(name, "Invocations", [(t, 20) for t in s.window()])
    s.metrics(name, "Duration", [(t, 2500) for t in s.window()])
    s.logs(name, [report_line(2400 + 20 * i, 1024, 600) for i in range(6)])
    event = _alarm(
        s,
        f"{name}-duration",
        "Duration",
        name,
        stat="AVERAGE",
        threshold=1500,
        comparison="GreaterThanThreshold",
        value=2500,
    )
    return _scenario("duration_anomaly", name, event)


def invocation_spike(s: Seeder) -> Any:
    name = "webhook-receiver"
    s.function(name)
    s.healthy(name, per_minute=20, recent=False)
    s.metrics(name, "Invocations", [(t, 240) for t in s.window()])
    event = _alarm(
        s,
        f"{name}-invocations",
        "Invocations",
        name,
        threshold=100,
        comparison="GreaterThanThreshold",
        value=240,
    )
    return _scenario("invocation_spike", name, event)


def async_backlog(s: Seeder) -> Any:
    name = "email-sender"
    s.function(name)
    s.healthy(name, per_minute=10, recent=False)
    s.metrics(name, "Invocations", [(t, 10) for t in s.window()])
    before = [timedelta(minutes=m) for m in range(12, 180, 5)]
    s.metrics(name, "AsyncEventAge", [(t, 2000) for t in before])
    s.metrics(name, "AsyncEventAge", [(t, 120_000 * (6 - t.seconds // 60)) for t in s.window()])
    s.metrics(name, "AsyncEventsDropped", [(t, 3) for t in s.window()])
    s.metrics(name, "AsyncEventsReceived", [(t, 10) for t in s.window()])
    event = _alarm(
        s,
        f"{name}-async-age",
        "AsyncEventAge",
        name,
        stat="MAXIMUM",
        threshold=60_000,
        comparison="GreaterThanThreshold",
        value=720_000,
    )
    return _scenario("async_backlog", name, event)


def recursive_loop(s: Seeder) -> Any:
    name = "order-fanout"
    s.function(name)
    s.healthy(name, per_minute=20, recent=False)
    s.metrics(name, "Invocations", [(t, 400) for t in s.window()])
    s.metrics(name, "RecursiveInvocationsDropped", [(t, 25) for t in s.window()])
    event = _alarm(s, f"{name}-recursion", "RecursiveInvocationsDropped", name, value=25)
    return _scenario("recursive_loop", name, event)


def event_source_failure(s: Seeder) -> Any:
    name = "ledger-consumer"
    s.function(name, timeout=10)
    s.healthy(name, per_minute=15, recent=False)
    s.metrics(name, "Invocations", [(t, 0) for t in s.window()])
    _fed_by(s, name, "ledger-entries", visibility=90, enabled=False)
    event = _alarm(
        s,
        f"{name}-no-invocations",
        "Invocations",
        name,
        threshold=1,
        comparison="LessThanThreshold",
        value=0,
    )
    return _scenario("event_source_failure", name, event)


def account_concurrency(s: Seeder) -> Any:
    name = "batch-importer"
    s.function(name)
    s.healthy(name, per_minute=50, recent=False)
    s.metrics(name, "Invocations", [(t, 50) for t in s.window()])
    s.metrics(name, "Throttles", [(t, 30) for t in s.window()])
    s.metrics(name, "ClaimedAccountConcurrency", [(t, 960) for t in s.window()], dims={})
    event = _alarm(s, f"{name}-throttles", "Throttles", name, value=30)
    return _scenario("account_concurrency", name, event)


def misconfiguration(s: Seeder) -> Any:
    name = "legacy-notifier"
    s.function(name, timeout=30, runtime="python3.8")
    s.healthy(name, per_minute=10, duration_ms=900)
    s.metrics(name, "AsyncEventsReceived", [(t, 10) for t in s.window()])
    _fed_by(s, name, "notices", visibility=20)
    event = _alarm(
        s,
        f"{name}-duration",
        "Duration",
        name,
        stat="AVERAGE",
        threshold=800,
        comparison="GreaterThanThreshold",
        value=900,
    )
    return _scenario("misconfiguration", name, event)


CATALOGUE = (
    cold_starts,
    memory_pressure,
    new_error,
    duration_anomaly,
    invocation_spike,
    async_backlog,
    recursive_loop,
    event_source_failure,
    account_concurrency,
    misconfiguration,
)


# --- compound: the cause first, its symptom second --------------------------------------------


def deploy_brings_timeouts(s: Seeder) -> Any:
    name, alias = "pricing-api", "live"
    s.function(name, timeout=6, publish=True)
    s.publish(name, (2, 3))
    s.client("lambda").create_alias(FunctionName=name, Name=alias, FunctionVersion="3")
    resource = {"FunctionName": name, "Resource": f"{name}:{alias}"}
    s.healthy(name, dims=resource, recent=False)
    lookback = [timedelta(minutes=m) for m in range(12, 180, 5)]
    old, new = {**resource, "ExecutedVersion": "2"}, {**resource, "ExecutedVersion": "3"}
    s.metrics(name, "Invocations", [(t, 20) for t in lookback], dims=old)
    s.metrics(name, "Errors", [(t, 0) for t in lookback], dims=old)
    for dims in (resource, new):
        s.metrics(name, "Invocations", [(t, 60) for t in s.window()], dims=dims)
        s.metrics(name, "Errors", [(t, 12) for t in s.window()], dims=dims)
    s.metrics(name, "Duration", [(t, 6000) for t in s.window()], dims=resource)
    s.logs(name, ["2026-11-22T09:55:01.000Z 1 Task timed out after 6.00 seconds"] * 4)
    from devtools.fleet.events import error_rate_alarm

    msg = error_rate_alarm(f"{name}-error-rate", name, alias, s.alarm_time, region=REGION)
    s.metric_alarm(f"{name}-error-rate", "Errors", {"FunctionName": name})
    return _scenario("recent_deploy+timeout", name, sns_event(msg))


def throttling_backs_up_async(s: Seeder) -> Any:
    name = "sms-sender"
    s.function(name, reserved=5)
    s.healthy(name, per_minute=30, recent=False)
    s.metrics(name, "Invocations", [(t, 30) for t in s.window()])
    s.metrics(name, "Throttles", [(t, 45) for t in s.window()])
    s.metrics(name, "ConcurrentExecutions", [(t, 5) for t in s.window()])
    s.metrics(name, "AsyncEventAge", [(t, 300_000) for t in s.window()])
    s.metrics(name, "AsyncEventsDropped", [(t, 4) for t in s.window()])
    event = _alarm(s, f"{name}-async-dropped", "AsyncEventsDropped", name, value=4)
    return _scenario("throttling+async_backlog", name, event)


def pressure_then_oom(s: Seeder) -> Any:
    name = "video-thumbs"
    s.function(name, timeout=60, memory=1024)
    s.healthy(name, per_minute=10, recent=False)
    s.metrics(name, "Invocations", [(t, 10) for t in s.window()])
    s.metrics(name, "Errors", [(t, 2) for t in s.window()])
    s.logs(
        name,
        [
            report_line(5000, 1024, 940),
            report_line(5100, 1024, 975),
            report_line(5150, 1024, 1024),
            "RequestId: 9 Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
        ],
    )
    event = _alarm(s, f"{name}-errors", "Errors", name, value=2)
    return _scenario("memory_pressure+out_of_memory", name, event)


COMPOUND = {
    deploy_brings_timeouts: ("recent_deploy", "timeout"),
    throttling_backs_up_async: ("throttling", "async_backlog"),
    pressure_then_oom: ("memory_pressure", "out_of_memory"),
    **WIRING,  # the cause upstream of the DLQ the alarm is on (devtools/fleet/wiring.py)
}
