"""Gather evidence for a signal, in parallel; any source that fails becomes 'could not check'."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws import Aws, error_code
from chalicelib.diagnosis.evidence import (
    Evidence,
    FunctionFacts,
    LogLine,
    Point,
    QueueFacts,
    Resource,
    Version,
    window_for,
)
from chalicelib.events.ingest import split_arn
from chalicelib.events.signals import Alarm, FailureRecord, MetricRef, Signal

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
}
VERSION_METRICS = ("Invocations", "Errors")
QUEUE_METRICS: dict[str, tuple[str, str]] = {
    "Visible": ("ApproximateNumberOfMessagesVisible", "Maximum"),
    "OldestAge": ("ApproximateAgeOfOldestMessage", "Maximum"),
}
MAX_LOG_PAGES = 3
SAMPLE_MESSAGES = 3


class _Fanout:
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
                self.evidence.unchecked.append(f"could not check {name}: {error_code(exc)}")


def gather(signal: Signal, aws: Aws, *, now: datetime | None = None) -> Evidence:
    """All the evidence about the resource behind `signal`."""
    with ThreadPoolExecutor(max_workers=12, thread_name_prefix="evidence") as pool:
        resource, problems = _resolve(signal, aws)
        if isinstance(signal, Alarm):
            window = window_for(signal.time, signal.period, signal.evaluation_periods)
        else:
            window = window_for(signal.time, 60, 5)
        evidence = Evidence(signal=signal, resource=resource, window=window)
        evidence.unchecked.extend(problems)
        if isinstance(signal, FailureRecord):
            evidence.logs.append(_failure_line(signal))
        fan = _Fanout(pool, evidence)
        if resource.type == "function":
            _gather_function(fan, aws, evidence)
        elif resource.type == "queue":
            _gather_queue(fan, aws, evidence)
        return evidence


# --- which resource ------------------------------------------------------------------------


def _resolve(signal: Signal, aws: Aws) -> tuple[Resource, list[str]]:
    if isinstance(signal, FailureRecord):
        arn = f"arn:aws:lambda:{signal.region}:{signal.account}:function:{signal.function_name}"
        qualifier = signal.qualifier if signal.qualifier not in (None, "$LATEST") else None
        return Resource(
            "function", signal.function_name, arn, signal.region, signal.account, qualifier
        ), []
    metrics = list(signal.metrics)
    problems: list[str] = []
    if signal.shape == "composite" and not metrics and signal.children:
        try:
            metrics = _child_metrics(signal, aws)
        except Exception as exc:
            problems.append(f"could not check the composite alarm's children: {error_code(exc)}")
    return _resource_from_metrics(metrics, signal.region, signal.account), problems


def _child_metrics(alarm: Alarm, aws: Aws) -> list[MetricRef]:
    names = [split_arn(arn)["rest"].split(":", 1)[-1] for arn in alarm.children]
    response = aws.client("cloudwatch", alarm.region).describe_alarms(AlarmNames=names[:100])
    found: list[MetricRef] = []
    for child in response.get("MetricAlarms", []):
        if child.get("MetricName"):
            found.append(
                MetricRef(
                    child.get("Namespace", ""),
                    child["MetricName"],
                    {d["Name"]: d["Value"] for d in child.get("Dimensions", [])},
                    child.get("Statistic", "Sum"),
                    child.get("Period", 60),
                )
            )
        for q in child.get("Metrics", []):
            stat = q.get("MetricStat")
            if stat:
                m = stat["Metric"]
                dims = {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}
                found.append(
                    MetricRef(m["Namespace"], m["MetricName"], dims, stat["Stat"], stat["Period"])
                )
    return found


def _resource_from_metrics(metrics: list[MetricRef], region: str, account: str) -> Resource:
    for m in metrics:
        function = m.dimensions.get("FunctionName")
        if function:
            qualifier = m.dimensions.get("Resource")
            if qualifier and ":" in qualifier:
                qualifier = qualifier.split(":", 1)[1]
            if qualifier == function:
                qualifier = None
            arn = f"arn:aws:lambda:{region}:{account}:function:{function}"
            return Resource("function", function, arn, region, account, qualifier)
    for m in metrics:
        queue = m.dimensions.get("QueueName")
        if queue:
            return Resource(
                "queue", queue, f"arn:aws:sqs:{region}:{account}:{queue}", region, account
            )
    return Resource("unknown", "(unknown)", "", region, account)


def _failure_line(failure: FailureRecord) -> LogLine:
    text = f"[ERROR] {failure.error_type or 'Error'}: {failure.error_message or '(no message)'}"
    if failure.stack:
        text += "\nTraceback (most recent call last):\n" + "".join(failure.stack)
    return LogLine(failure.time, text, source="on-failure destination record")


# --- a function ------------------------------------------------------------------------------


def _gather_function(fan: _Fanout, aws: Aws, ev: Evidence) -> None:
    r = ev.resource
    lam = aws.client("lambda", r.region)
    cw = aws.client("cloudwatch", r.region)
    logs = aws.client("logs", r.region)
    facts = FunctionFacts(name=r.name, arn=r.arn, alias=r.qualifier)
    ev.function = facts
    base_dims = {"FunctionName": r.name}
    if r.qualifier:
        base_dims["Resource"] = f"{r.name}:{r.qualifier}"

    def configuration() -> None:
        config = lam.get_function(FunctionName=r.name)["Configuration"]
        facts.arn = config.get("FunctionArn", facts.arn)
        facts.runtime = config.get("Runtime")
        facts.timeout_s = config.get("Timeout")
        facts.memory_mb = config.get("MemorySize")
        facts.last_modified = _aws_time(config.get("LastModified"))
        facts.log_group = (config.get("LoggingConfig") or {}).get("LogGroup")
        facts.dlq_arn = (config.get("DeadLetterConfig") or {}).get("TargetArn")

    def aliases() -> None:
        assert r.qualifier is not None
        alias = lam.get_alias(FunctionName=r.name, Name=r.qualifier)
        facts.alias_version = alias["FunctionVersion"]
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        facts.alias_weights = {str(k): float(v) for k, v in weights.items()}

    def versions() -> None:
        paginator = lam.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=r.name):
            for v in page.get("Versions", []):
                if v["Version"] != "$LATEST":
                    facts.versions.append(
                        Version(
                            v["Version"], _aws_time(v.get("LastModified")), v.get("Description", "")
                        )
                    )

    def concurrency() -> None:
        reserved = lam.get_function_concurrency(FunctionName=r.name)
        facts.reserved_concurrency = reserved.get("ReservedConcurrentExecutions")

    def account() -> None:
        facts.account_concurrency_limit, facts.account_unreserved = account_concurrency(lam)

    def event_sources() -> None:
        paginator = lam.get_paginator("list_event_source_mappings")
        for page in paginator.paginate(FunctionName=r.name):
            for m in page.get("EventSourceMappings", []):
                facts.event_sources.append(
                    {
                        "arn": m.get("EventSourceArn", ""),
                        "state": m.get("State", ""),
                        "uuid": m.get("UUID", ""),
                    }
                )

    def destinations() -> None:
        try:
            config = lam.get_function_event_invoke_config(FunctionName=r.name)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return  # no async invoke config: nothing to check
            raise
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        facts.on_failure_arn = on_failure.get("Destination")

    def metrics() -> None:
        ev.metrics.update(_metric_data(cw, "AWS/Lambda", base_dims, LAMBDA_METRICS, ev))

    def recent_logs() -> None:
        ev.logs.extend(_log_lines(logs, f"/aws/lambda/{r.name}", ev))

    first: dict[str, Callable[[], None]] = {"function configuration": configuration}
    if r.qualifier and not r.qualifier.isdigit():
        first["alias"] = aliases
    fan.run(
        first
        | {
            "versions": versions,
            "reserved concurrency": concurrency,
            "account concurrency": account,
            "event source mappings": event_sources,
            "async destinations": destinations,
            "metrics": metrics,
            "logs": recent_logs,
        }
    )

    # Second wave: what the first one pointed at.
    second: dict[str, Callable[[], None]] = {}
    versions_to_split = _versions_of_interest(facts)
    if r.qualifier and versions_to_split:

        def per_version() -> None:
            ev.by_version.update(_version_metrics(cw, base_dims, versions_to_split, ev))

        second["metrics by version"] = per_version
    dlq = facts.dlq_arn or (
        facts.on_failure_arn if ":sqs:" in (facts.on_failure_arn or "") else None
    )
    if dlq:
        ev.queue = QueueFacts(name=split_arn(dlq)["rest"], arn=dlq, source_functions=[r.name])
        second.update(_queue_tasks(aws, ev.queue, with_sources=False))
    if facts.log_group and facts.log_group != f"/aws/lambda/{r.name}":
        group = facts.log_group

        def custom_logs() -> None:
            ev.logs.extend(_log_lines(logs, group, ev))

        second["logs (custom group)"] = custom_logs
    if second:
        fan.run(second)


def account_concurrency(lam: Any) -> tuple[int | None, int | None]:
    """(account limit, unreserved pool) from GetAccountSettings (an API moto does not have)."""
    limits = lam.get_account_settings().get("AccountLimit", {})
    return limits.get("ConcurrentExecutions"), limits.get("UnreservedConcurrentExecutions")


def _versions_of_interest(facts: FunctionFacts) -> list[str]:
    if not facts.alias_version:
        return []
    wanted = [facts.alias_version, *facts.alias_weights]
    previous = facts.previous_version(facts.alias_version)
    if previous:
        wanted.append(previous)
    return list(dict.fromkeys(wanted))


# --- a queue ----------------------------------------------------------------------------------


def _gather_queue(fan: _Fanout, aws: Aws, ev: Evidence) -> None:
    r = ev.resource
    cw = aws.client("cloudwatch", r.region)
    queue = QueueFacts(name=r.name, arn=r.arn)
    ev.queue = queue

    def metrics() -> None:
        ev.metrics.update(_metric_data(cw, "AWS/SQS", {"QueueName": r.name}, QUEUE_METRICS, ev))

    def feeding_functions() -> None:
        queue.source_functions.extend(dead_letter_functions(aws.client("lambda", r.region), r.arn))

    fan.run(
        _queue_tasks(aws, queue, with_sources=True)
        | {"queue metrics": metrics, "functions that dead-letter here": feeding_functions}
    )


def dead_letter_functions(lam: Any, queue_arn: str) -> list[str]:
    """The functions whose async DeadLetterConfig sends failed events to this queue."""
    names = []
    for page in lam.get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            if (f.get("DeadLetterConfig") or {}).get("TargetArn") == queue_arn:
                names.append(str(f["FunctionName"]))
    return names


def dead_letter_sources(sqs: Any, url: str) -> list[str]:
    """The names of the queues whose redrive policy sends their dead letters to this queue."""
    names: list[str] = []
    for page in sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=url):
        names.extend(u.rsplit("/", 1)[-1] for u in page.get("queueUrls", []))
    return names


def queue_url(arn: str) -> str:
    """The queue's URL from its ARN, without a GetQueueUrl round trip."""
    parts = split_arn(arn)
    return f"https://sqs.{parts['region']}.amazonaws.com/{parts['account']}/{parts['rest']}"


def _queue_tasks(
    aws: Aws, queue: QueueFacts, *, with_sources: bool
) -> dict[str, Callable[[], None]]:
    """Independent reads of one queue, to run in the same wave."""
    region = split_arn(queue.arn)["region"]
    sqs = aws.client("sqs", region)
    queue.url = queue_url(queue.arn)
    url = queue.url

    def depth() -> None:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        queue.visible = int(attrs.get("ApproximateNumberOfMessages", 0))
        queue.in_flight = int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))

    def samples() -> None:
        queue.samples, oldest = peek_messages(sqs, url)
        if oldest is not None:
            queue.oldest_age_s = max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    tasks: dict[str, Callable[[], None]] = {
        f"{queue.name} depth": depth,
        f"{queue.name} sample messages": samples,
    }
    if with_sources:

        def source_queues() -> None:
            queue.source_queues.extend(dead_letter_sources(sqs, url))

        def consumers() -> None:
            lam = aws.client("lambda", region)
            pages = lam.get_paginator("list_event_source_mappings").paginate(
                EventSourceArn=queue.arn
            )
            for page in pages:
                queue.consumers.extend(
                    m["FunctionArn"].split(":function:", 1)[-1]
                    for m in page.get("EventSourceMappings", [])
                )

        tasks |= {"queues that dead-letter here": source_queues, "queue consumers": consumers}
    return tasks


def peek_messages(sqs: Any, url: str) -> tuple[list[str], datetime | None]:
    """Read a few messages and make them visible again at once: a look that loses nothing."""
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=SAMPLE_MESSAGES,
        VisibilityTimeout=20,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["SentTimestamp"],
    )
    messages = response.get("Messages", [])
    if messages:
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages)
            ],
        )
    sent = [
        datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) / 1000, UTC)
        for m in messages
        if "SentTimestamp" in m.get("Attributes", {})
    ]
    return [m.get("Body", "") for m in messages], (min(sent) if sent else None)


# --- metrics and logs ------------------------------------------------------------------------


MetricQuery = tuple[str, str, dict[str, str], str, str]  # key, namespace, dimensions, name, stat


def _metric_data(
    cw: Any,
    namespace: str,
    dimensions: dict[str, str],
    wanted: dict[str, tuple[str, str]],
    ev: Evidence,
) -> dict[str, list[Point]]:
    queries = [(key, namespace, dimensions, name, stat) for key, (name, stat) in wanted.items()]
    return _metric_data_multi(cw, queries, ev)


def _metric_data_multi(cw: Any, wanted: list[MetricQuery], ev: Evidence) -> dict[str, list[Point]]:
    """Many metrics in one GetMetricData request (up to 500), over the window and the look-back."""
    queries = [
        {
            "Id": f"m{i}",
            "Label": key,
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                },
                "Period": 60,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for i, (key, namespace, dims, name, stat) in enumerate(wanted)
    ]
    ids = {f"m{i}": q[0] for i, q in enumerate(wanted)}
    series: dict[str, list[Point]] = {}
    for page in cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries,
        StartTime=ev.window.lookback_start,
        EndTime=ev.window.end,
        ScanBy="TimestampAscending",
    ):
        for result in page.get("MetricDataResults", []):
            pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            series.setdefault(ids[result["Id"]], []).extend((_utc(t), float(v)) for t, v in pairs)
    for points in series.values():
        points.sort()
    return series


def _version_metrics(
    cw: Any, base_dims: dict[str, str], versions: list[str], ev: Evidence
) -> dict[str, dict[str, list[Point]]]:
    """Invocations and Errors per ExecutedVersion, every version in one request."""
    queries: list[MetricQuery] = []
    for version in versions:
        dims = {**base_dims, "ExecutedVersion": version}
        for key in VERSION_METRICS:
            name, stat = LAMBDA_METRICS[key]
            queries.append((f"{version}|{key}", "AWS/Lambda", dims, name, stat))
    out: dict[str, dict[str, list[Point]]] = {v: {} for v in versions}
    for key, points in _metric_data_multi(cw, queries, ev).items():
        version, metric = key.split("|", 1)
        out[version][metric] = points
    return out


def _log_lines(logs: Any, group: str, ev: Evidence) -> list[LogLine]:
    start = int((ev.window.start - timedelta(minutes=10)).timestamp() * 1000)
    end = int(ev.window.end.timestamp() * 1000)
    kwargs: dict[str, Any] = {
        "logGroupName": group,
        "startTime": start,
        "endTime": end,
        "limit": 1000,
    }
    lines: list[LogLine] = []
    for _ in range(MAX_LOG_PAGES):
        response = logs.filter_log_events(**kwargs)
        for e in response.get("events", []):
            when = datetime.fromtimestamp(e["timestamp"] / 1000, UTC)
            lines.append(
                LogLine(when, e.get("message", "").rstrip("\n"), e.get("logStreamName", ""))
            )
        token = response.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    return lines


def _aws_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value)
    text = str(value)
    try:
        # Lambda: '2026-11-22T10:14:52.257+0000' or moto's nanosecond '...257128000Z'
        head, _, tail = text.partition(".")
        zone = "+00:00"
        if tail:
            digits = "".join(ch for ch in tail if ch.isdigit())
            rest = tail[len(digits) :]
            if rest and rest != "Z":
                zone = rest[:3] + ":" + rest[-2:] if ":" not in rest else rest
            text = f"{head}.{digits[:6]}{zone}"
        return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
