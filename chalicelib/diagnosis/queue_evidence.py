"""The evidence about a queue, and for a DLQ the functions that fill it, traced upstream."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from chalicelib.aws.arns import queue_arn, queue_url, split_arn
from chalicelib.aws.session import Aws
from chalicelib.diagnosis.evidence import Evidence, FunctionFacts, LogLine, QueueFacts, Upstream
from chalicelib.diagnosis.sources import (
    LAMBDA_METRICS,
    PRIOR_PATTERN,
    SHARED_S,
    Fanout,
    metric_data,
)

QUEUE_METRICS: dict[str, tuple[str, str]] = {
    "Visible": ("ApproximateNumberOfMessagesVisible", "Maximum"),
    "OldestAge": ("ApproximateAgeOfOldestMessage", "Maximum"),
}


def gather_queue(fan: Fanout, aws: Aws, ev: Evidence) -> None:
    r = ev.resource
    cw = aws.cloudwatch(r.region, aws.key(r.account))
    queue = QueueFacts(name=r.name, arn=r.arn)
    ev.queue = queue

    def metrics() -> None:
        ev.metrics.update(metric_data(cw, "AWS/SQS", {"QueueName": r.name}, QUEUE_METRICS, ev))

    def feeding_functions() -> None:
        queue.source_functions.extend(
            aws.lambda_(r.region, aws.key(r.account)).dead_letter_functions(r.arn)
        )

    fan.run(
        queue_tasks(aws, queue, with_sources=True)
        | {"queue metrics": metrics, "functions that dead-letter here": feeding_functions}
    )
    if queue.is_dlq or _recorded_functions(queue.samples):
        _trace_upstream(fan, aws, ev)


MAX_UPSTREAM = 3  # functions traced back from a DLQ


def _trace_upstream(fan: Fanout, aws: Aws, ev: Evidence) -> None:
    """Who fills the DLQ (its source queues' consumers, read with the sources in the first wave;
    functions whose DLQ it is; functions its records name), then each one's configuration, error
    metrics and error lines in one more wave, to say which one broke and how."""
    queue = ev.queue
    assert queue is not None
    r = ev.resource
    acct = aws.key(r.account)
    direct = [*queue.source_functions, *_recorded_functions(queue.samples)]
    found = [
        Upstream([queue.name, f], FunctionFacts(name=f, arn="")) for f in dict.fromkeys(direct)
    ]
    for source, consumers in queue.source_consumers.items():  # read with the sources (wave 1)
        visibility = queue.source_visibility.get(source)
        found += [
            Upstream([queue.name, source, name], FunctionFacts(name=name, arn=""), visibility)
            for name in consumers
        ]
    ev.upstream = found[:MAX_UPSTREAM]
    tasks: dict[str, Callable[[], None]] = {}
    for up in ev.upstream:
        tasks |= _upstream_tasks(aws, ev, up, acct)
    if tasks:
        fan.run(tasks)


def _recorded_functions(bodies: list[str]) -> list[str]:
    """The functions whose on-failure destination this queue is, as its messages say: a
    destination record names its function (`requestContext.functionArn`). No API lists the
    functions whose destination a queue is, and these are read already."""
    names = []
    for body in bodies:
        try:
            record = json.loads(body)
            arn = str(record["requestContext"]["functionArn"])
        except (ValueError, KeyError, TypeError):
            continue
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        if name and ":function:" in arn:
            names.append(name)
    return names


def _upstream_tasks(
    aws: Aws, ev: Evidence, up: Upstream, acct: str
) -> dict[str, Callable[[], None]]:
    r = ev.resource
    name = up.function.name
    lam = aws.lambda_(r.region, acct)
    cw = aws.cloudwatch(r.region, acct)
    logs = aws.logs(r.region, acct)

    def configuration() -> None:
        config = aws.shared(
            ("function", acct, r.region, name), SHARED_S, lambda: lam.function(name)
        )
        up.function.arn = config.arn or ""
        up.function.timeout_s = config.timeout_s
        up.function.last_modified = config.last_modified
        up.function.runtime = config.runtime

    def metrics() -> None:
        wanted = {k: LAMBDA_METRICS[k] for k in ("Invocations", "Errors", "DurationMax")}
        up.metrics.update(metric_data(cw, "AWS/Lambda", {"FunctionName": name}, wanted, ev))

    def error_lines() -> None:
        start = ev.window.lookback_start
        found = logs.events(
            f"/aws/lambda/{name}", start, ev.window.end, pages=1, pattern=PRIOR_PATTERN
        )
        up.logs.extend(LogLine(e.time, e.message, e.stream) for e in found)

    return {
        f"{name}'s configuration": configuration,
        f"{name}'s metrics": metrics,
        f"{name}'s error lines": error_lines,
    }


def queue_tasks(
    aws: Aws, queue: QueueFacts, *, with_sources: bool
) -> dict[str, Callable[[], None]]:
    """Independent reads of one queue, to run in the same wave."""
    region = split_arn(queue.arn)["region"]
    sqs = aws.sqs(region, aws.key(split_arn(queue.arn)["account"]))
    queue.url = queue_url(queue.arn)
    url = queue.url

    def depth() -> None:
        queue.visible, queue.in_flight = sqs.depth(url)

    def samples() -> None:
        if sqs.live(url):
            return  # a live queue with a DLQ of its own: a peek would count as a receive
        queue.samples, oldest = sqs.peek(url)
        if oldest is not None:
            queue.oldest_age_s = max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    tasks: dict[str, Callable[[], None]] = {
        f"{queue.name} depth": depth,
        f"{queue.name} sample messages": samples,
    }
    if with_sources:

        def source_queues() -> None:
            # The sources, then at once each one's consumers and visibility timeout, side by side
            # (while the rest of this wave, the sample peek's two calls, is still going).
            queue.source_queues.extend(sqs.dead_letter_sources(url))
            sources = queue.source_queues[:MAX_UPSTREAM]
            if not sources:
                return
            lam = aws.lambda_(region, aws.key(split_arn(queue.arn)["account"]))

            def consumers_of(source: str) -> None:
                arn = queue_arn(region, split_arn(queue.arn)["account"], source)
                queue.source_consumers[source] = [
                    m.function_arn.split(":function:", 1)[-1]
                    for m in lam.event_source_mappings(source_arn=arn)
                ]

            def visibility_of(source: str) -> None:
                arn = queue_arn(region, split_arn(queue.arn)["account"], source)
                queue.source_visibility[source] = sqs.visibility_timeout(arn, url=queue_url(arn))

            with ThreadPoolExecutor(2 * len(sources), "dlq-sources") as reads:
                done = [reads.submit(f, s) for s in sources for f in (consumers_of, visibility_of)]
            for future in done:
                future.result()  # a failed read: this source is not traced (said as unchecked)

        def consumers() -> None:
            mappings = aws.lambda_(
                region, aws.key(split_arn(queue.arn)["account"])
            ).event_source_mappings(source_arn=queue.arn)
            for m in mappings:
                name = m.function_arn.split(":function:", 1)[-1]
                queue.consumers.append(name)
                queue.consumer_mappings.append(
                    {
                        "function": name,
                        "state": m.state,
                        "last_result": m.last_result,
                        "reason": m.reason,
                    }
                )

        tasks |= {"queues that dead-letter here": source_queues, "queue consumers": consumers}
    return tasks
