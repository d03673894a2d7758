"""Gather evidence for a signal, in parallel; any source that fails becomes 'could not check'."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib import markup
from chalicelib.aws.arns import function_arn, queue_arn, queue_url, split_arn
from chalicelib.aws.cloudwatch import MetricQuery
from chalicelib.aws.errors import code_of
from chalicelib.aws.session import Aws
from chalicelib.diagnosis.evidence import (
    Evidence,
    FunctionFacts,
    LogLine,
    QueueFacts,
    Resource,
    Version,
    window_for,
)
from chalicelib.diagnosis.queue_evidence import gather_queue, queue_tasks
from chalicelib.diagnosis.sources import (
    ACCOUNT_METRICS,
    ACCOUNT_WIDE,
    INSIGHTS_MEMORY,
    LAMBDA_METRICS,
    PRIOR_ERRORS,
    PRIOR_PATTERN,
    SHARED_S,
    Fanout,
    log_lines,
    metric_data,
    version_metrics,
)
from chalicelib.events.signals import Alarm, FailureRecord, MetricRef, Signal

log = logging.getLogger(__name__)


def gather(signal: Signal, aws: Aws) -> Evidence:
    """All the evidence about the resource behind `signal`."""
    with ThreadPoolExecutor(max_workers=12, thread_name_prefix="evidence") as pool:
        resource, problems = _resolve(signal, aws)
        if isinstance(signal, Alarm):
            window = window_for(signal.time, signal.period, signal.evaluation_periods)
        else:
            window = window_for(signal.time, 60, 5)
        evidence = Evidence(signal=signal, resource=resource, window=window)
        evidence.member = aws.key(resource.account)
        evidence.away_region = resource.region if resource.region != aws.region else ""
        evidence.unchecked.extend(problems)
        if isinstance(signal, FailureRecord):
            evidence.logs.append(_failure_line(signal))
        fan = Fanout(pool, evidence)
        if resource.type == "function":
            _gather_function(fan, aws, evidence)
        elif resource.type == "queue":
            gather_queue(fan, aws, evidence)
        elif resource.type == "account":
            _gather_account(fan, aws, evidence)
        return evidence


# --- which resource ------------------------------------------------------------------------


def _resolve(signal: Signal, aws: Aws) -> tuple[Resource, list[str]]:
    if isinstance(signal, FailureRecord):
        arn = function_arn(signal.region, signal.account, signal.function_name)
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
            problems.append(f"could not check the composite alarm's children: {code_of(exc)}")
    return _resource_from_metrics(metrics, signal.region, signal.account), problems


def _child_metrics(alarm: Alarm, aws: Aws) -> list[MetricRef]:
    names = [split_arn(arn)["rest"].split(":", 1)[-1] for arn in alarm.children]
    return [
        MetricRef(m.namespace, m.name, m.dimensions, m.stat, m.period)
        for m in aws.cloudwatch(alarm.region, aws.key(alarm.account)).alarm_metrics(names)
    ]


# The dimension that names a function, by namespace: Lambda's own metrics, Lambda Insights'.
FUNCTION_DIMENSIONS = {"AWS/Lambda": "FunctionName", "LambdaInsights": "function_name"}
ACCOUNT_LEVEL = {
    "ClaimedAccountConcurrency",
    "ConcurrentExecutions",
    "UnreservedConcurrentExecutions",
}


def _resource_from_metrics(metrics: list[MetricRef], region: str, account: str) -> Resource:
    for m in metrics:
        function = m.dimensions.get(FUNCTION_DIMENSIONS.get(m.namespace, "FunctionName"))
        if function:
            qualifier = m.dimensions.get("Resource")
            if qualifier and ":" in qualifier:
                qualifier = qualifier.split(":", 1)[1]
            if qualifier == function:
                qualifier = None
            arn = function_arn(region, account, function)
            return Resource("function", function, arn, region, account, qualifier)
    for m in metrics:
        queue = m.dimensions.get("QueueName")
        if queue:
            return Resource("queue", queue, queue_arn(region, account, queue), region, account)
    if any(
        m.namespace == "AWS/Lambda" and m.name in ACCOUNT_LEVEL and not m.dimensions
        for m in metrics
    ):
        # An account-level Lambda alarm (no dimensions): the account's concurrency in the region.
        return Resource("account", f"Lambda in {region}", "", region, account)
    return Resource("unknown", "(unknown)", "", region, account)


def _failure_line(failure: FailureRecord) -> LogLine:
    text = f"[ERROR] {failure.error_type or 'Error'}: {failure.error_message or '(no message)'}"
    if failure.stack:
        text += "\nTraceback (most recent call last):\n" + "".join(failure.stack)
    return LogLine(failure.time, text, source="on-failure destination record")


# --- a function ------------------------------------------------------------------------------


def _gather_function(fan: Fanout, aws: Aws, ev: Evidence) -> None:
    r = ev.resource
    acct = aws.key(r.account)  # the alarm's account if configured, else Shepherd's own
    lam = aws.lambda_(r.region, acct)
    cw = aws.cloudwatch(r.region, acct)
    logs = aws.logs(r.region, acct)
    facts = FunctionFacts(name=r.name, arn=r.arn, alias=r.qualifier)
    ev.function = facts
    base_dims = {"FunctionName": r.name}
    if r.qualifier:
        base_dims["Resource"] = f"{r.name}:{r.qualifier}"

    def configuration() -> None:
        config = aws.shared(
            ("function", acct, r.region, r.name), SHARED_S, lambda: lam.function(r.name)
        )
        facts.arn = config.arn or facts.arn
        facts.runtime = config.runtime
        facts.timeout_s = config.timeout_s
        facts.memory_mb = config.memory_mb
        facts.last_modified = config.last_modified
        facts.log_group = config.log_group
        facts.dlq_arn = config.dlq_arn

    def aliases() -> None:
        assert r.qualifier is not None
        alias = lam.alias(r.name, r.qualifier)
        facts.alias_version = alias.version
        facts.alias_weights = dict(alias.weights)

    def versions() -> None:
        facts.versions.extend(
            Version(v.version, v.published, v.description) for v in lam.versions(r.name)
        )

    def concurrency() -> None:
        facts.reserved_concurrency = lam.reserved(r.name)

    def account() -> None:
        pool = aws.shared(
            ("account concurrency", acct, r.region), SHARED_S, lam.account_concurrency
        )
        facts.account_concurrency_limit, facts.account_unreserved = pool.limit, pool.unreserved

    def event_sources() -> None:
        # With each SQS source's visibility timeout, read in this task rather than a wave of its
        # own (one call: the queue's URL is made from its ARN).
        facts.event_sources.extend(
            {
                "arn": m.source_arn,
                "state": m.state,
                "uuid": m.uuid,
                "last_result": m.last_result,
                "reason": m.reason,
            }
            for m in lam.event_source_mappings(function=r.name)
        )
        for source in facts.event_sources:
            if ":sqs:" in source["arn"]:
                sqs = aws.sqs(split_arn(source["arn"])["region"], acct)
                timeout = sqs.visibility_timeout(source["arn"], url=queue_url(source["arn"]))
                if timeout is not None:
                    source["visibility_timeout"] = str(timeout)

    def destinations() -> None:
        facts.on_failure_arn = lam.on_failure_destination(r.name)

    def runbook() -> None:
        """The `runbook` tag of the alarm, else of the function (PagerDuty's and Opsgenie's
        convention): a link on the message."""
        s = ev.signal
        found = runbook_url(cw.alarm_tags(s.arn)) if isinstance(s, Alarm) and s.arn else None
        if found is None and r.account:
            arn = function_arn(r.region, r.account, r.name)
            # A storm's alarms on one function read its tags once, as its configuration.
            tags = aws.shared(("tags", acct, r.region, r.name), SHARED_S, lambda: lam.tags(arn))
            found = runbook_url(tags)
        ev.runbook = found

    def metrics() -> None:
        account_wide = [
            MetricQuery(key, "AWS/Lambda", name, {}, stat)
            for key, (name, stat) in ACCOUNT_METRICS.items()
        ]
        if _insights(ev):  # the alarm is on Lambda Insights: its memory, in the same request
            name, stat = INSIGHTS_MEMORY
            dims = {"function_name": r.name}
            account_wide.append(
                MetricQuery("MemoryUtilization", "LambdaInsights", name, dims, stat)
            )
        ev.metrics.update(
            metric_data(cw, "AWS/Lambda", base_dims, LAMBDA_METRICS, ev, account_wide)
        )

    def recent_logs() -> None:
        ev.logs.extend(log_lines(logs, f"/aws/lambda/{r.name}", ev))

    def earlier_errors() -> None:
        # The error lines of the 48 h before the window (one page), beside the rest: a signature
        # absent from them is new.
        end = ev.window.start - timedelta(minutes=10)
        found = logs.events(
            f"/aws/lambda/{r.name}", end - PRIOR_ERRORS, end, pages=1, pattern=PRIOR_PATTERN
        )
        ev.prior_errors.extend(LogLine(e.time, e.message, e.stream) for e in found)

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
            "runbook tag": runbook,
            "metrics": metrics,
            "logs": recent_logs,
            "logs of the previous 48 h": earlier_errors,
        }
    )

    # Second wave: what the first one pointed at.
    second: dict[str, Callable[[], None]] = {}
    versions_to_split = _versions_of_interest(facts)
    if r.qualifier and versions_to_split:

        def per_version() -> None:
            ev.by_version.update(version_metrics(cw, base_dims, versions_to_split, ev))

        second["metrics by version"] = per_version
    dlq = facts.dlq_arn or (
        facts.on_failure_arn if ":sqs:" in (facts.on_failure_arn or "") else None
    )
    if dlq:
        ev.queue = QueueFacts(name=split_arn(dlq)["rest"], arn=dlq, source_functions=[r.name])
        second.update(queue_tasks(aws, ev.queue, with_sources=False))
    if facts.log_group and facts.log_group != f"/aws/lambda/{r.name}":
        group = facts.log_group

        def custom_logs() -> None:
            ev.logs.extend(log_lines(logs, group, ev))

        second["logs (custom group)"] = custom_logs
    if second:
        fan.run(second)


def _versions_of_interest(facts: FunctionFacts) -> list[str]:
    if not facts.alias_version:
        return []
    wanted = [facts.alias_version, *facts.alias_weights]
    previous = facts.previous_version(facts.alias_version)
    if previous:
        wanted.append(previous)
    return list(dict.fromkeys(wanted))


def _insights(ev: Evidence) -> bool:
    return isinstance(ev.signal, Alarm) and any(
        m.namespace == "LambdaInsights" for m in ev.signal.metrics
    )


# --- the account ------------------------------------------------------------------------------


def _gather_account(fan: Fanout, aws: Aws, ev: Evidence) -> None:
    """An account-level alarm: the account's concurrency, claimed and throttled, and its quota."""
    r = ev.resource
    acct = aws.key(r.account)
    lam = aws.lambda_(r.region, acct)
    cw = aws.cloudwatch(r.region, acct)
    facts = FunctionFacts(name=r.name, arn="")  # the account's pool, read as a function's is
    ev.function = facts

    def account() -> None:
        pool = lam.account_concurrency()
        facts.account_concurrency_limit, facts.account_unreserved = pool.limit, pool.unreserved

    def metrics() -> None:
        wanted = {**ACCOUNT_METRICS, **{k: LAMBDA_METRICS[k] for k in ACCOUNT_WIDE}}
        ev.metrics.update(metric_data(cw, "AWS/Lambda", {}, wanted, ev))

    fan.run({"account concurrency": account, "account metrics": metrics})


def runbook_url(tags: dict[str, str]) -> str | None:
    """A `runbook` tag (any case) that is a plain https URL to a host: printable ASCII only (no
    look-alike, zero-width or bidi characters), no `user@` before the host; else no link."""
    return markup.https_url(next((v for k, v in tags.items() if k.lower() == "runbook"), ""))
