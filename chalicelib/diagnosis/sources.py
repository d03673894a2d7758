"""What the evidence tasks share: the fan-out that runs them, the metric and log reads they make."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib.aws.cloudwatch import CloudWatchApi, MetricQuery
from chalicelib.aws.errors import code_of
from chalicelib.aws.logs import LogsApi
from chalicelib.diagnosis.evidence import Evidence, LogLine, Point

log = logging.getLogger(__name__)

LAMBDA_METRICS: dict[str, tuple[str, str]] = {
    # key: (metric name, statistic)
    "Invocations": ("Invocations", "Sum"),
    "Errors": ("Errors", "Sum"),
    "Throttles": ("Throttles", "Sum"),
    "DurationMax": ("Duration", "Maximum"),
    "DurationAvg": ("Duration", "Average"),
    "ConcurrentExecutions": ("ConcurrentExecutions", "Maximum"),
    "IteratorAge": ("IteratorAge", "Maximum"),
    "DeadLetterErrors": ("DeadLetterErrors", "Sum"),
    "DestinationDeliveryFailures": ("DestinationDeliveryFailures", "Sum"),
    "AsyncEventsReceived": ("AsyncEventsReceived", "Sum"),
    "AsyncEventAge": ("AsyncEventAge", "Maximum"),
    "AsyncEventsDropped": ("AsyncEventsDropped", "Sum"),
    "RecursiveInvocationsDropped": ("RecursiveInvocationsDropped", "Sum"),
}
# Account-wide (no dimensions), read in the same request as the function's.
ACCOUNT_METRICS: dict[str, tuple[str, str]] = {
    "ClaimedAccountConcurrency": ("ClaimedAccountConcurrency", "Maximum"),
}
ACCOUNT_WIDE = ("Invocations", "Throttles", "ConcurrentExecutions")  # of LAMBDA_METRICS, no dims
INSIGHTS_MEMORY = ("memory_utilization", "Maximum")  # percent of the function's memory
PRIOR_ERRORS = timedelta(hours=48)  # what `new_error` compares the window's errors with
PRIOR_PATTERN = "?ERROR ?Error ?Exception"  # error lines only, filtered by CloudWatch Logs
VERSION_METRICS = ("Invocations", "Errors")
SHARED_S = 120.0  # a storm's alarms share the account's concurrency and a function's config


class Fanout:
    """Runs named evidence tasks concurrently; a failure is recorded, never raised."""

    def __init__(self, pool: ThreadPoolExecutor, evidence: Evidence) -> None:
        self.pool = pool
        self.evidence = evidence

    def run(self, tasks: dict[str, Callable[[], None]]) -> None:
        futures = {name: self.pool.submit(task) for name, task in tasks.items()}
        for name, future in futures.items():
            try:
                future.result()
                self.evidence.checked.append(name)
            except Exception as exc:  # each source may fail on its own: say so, go on
                log.info("evidence source %r failed: %s", name, exc)
                self.evidence.unchecked.append(f"could not check {name}: {code_of(exc)}")


def metric_data(
    cw: CloudWatchApi,
    namespace: str,
    dimensions: dict[str, str],
    wanted: dict[str, tuple[str, str]],
    ev: Evidence,
    extra: list[MetricQuery] | None = None,
) -> dict[str, list[Point]]:
    queries = [
        MetricQuery(key, namespace, name, dimensions, stat) for key, (name, stat) in wanted.items()
    ] + list(extra or [])
    return cw.series(queries, ev.window.lookback_start, ev.window.end)


def version_metrics(
    cw: CloudWatchApi, base_dims: dict[str, str], versions: list[str], ev: Evidence
) -> dict[str, dict[str, list[Point]]]:
    """Invocations and Errors per ExecutedVersion, every version in one request."""
    queries: list[MetricQuery] = []
    for version in versions:
        dims = {**base_dims, "ExecutedVersion": version}
        for key in VERSION_METRICS:
            name, stat = LAMBDA_METRICS[key]
            queries.append(MetricQuery(f"{version}|{key}", "AWS/Lambda", name, dims, stat))
    out: dict[str, dict[str, list[Point]]] = {v: {} for v in versions}
    for key, points in cw.series(queries, ev.window.lookback_start, ev.window.end).items():
        version, metric = key.split("|", 1)
        out[version][metric] = points
    return out


def log_lines(logs: LogsApi, group: str, ev: Evidence) -> list[LogLine]:
    start = ev.window.start - timedelta(minutes=10)
    return [LogLine(e.time, e.message, e.stream) for e in logs.events(group, start, ev.window.end)]
