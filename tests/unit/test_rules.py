from __future__ import annotations

from chalicelib.diagnosis.evidence import FunctionFacts, QueueFacts
from chalicelib.diagnosis.rules import diagnose
from tests.unit.evidence_builder import aliased, evidence, report


def kinds(ev: object) -> list[str]:
    return [c.kind for c in diagnose(ev).causes]  # type: ignore[arg-type]


def test_timeout_from_logs_and_duration_near_the_limit() -> None:
    ev = evidence(
        window={"Invocations": 40, "Errors": 9, "DurationMax": 14_990},
        logs=["2026-11-22 1 Task timed out after 15.00 seconds"],
    )
    top = diagnose(ev).top
    assert top.kind == "timeout"
    assert any("15 s timeout" in e for e in top.evidence)


def test_duration_well_under_the_timeout_is_not_a_timeout() -> None:
    ev = evidence(window={"Invocations": 40, "DurationMax": 9_000})
    assert "timeout" not in kinds(ev)


def test_out_of_memory_from_killed_runtime() -> None:
    ev = evidence(
        window={"Invocations": 10, "Errors": 3},
        logs=["Error: Runtime exited with error: signal: killed", report(900, 512, 512)],
    )
    assert kinds(ev)[0] == "out_of_memory"


def test_throttling_at_reserved_concurrency_offers_a_raise_within_the_account_pool() -> None:
    fn = FunctionFacts(
        name="orders",
        arn="arn",
        reserved_concurrency=5,
        account_unreserved=150,
        account_concurrency_limit=1000,
    )
    ev = evidence(
        window={"Invocations": 60, "Throttles": 40, "ConcurrentExecutions": 5}, function=fn
    )
    top = diagnose(ev).top
    assert top.kind == "throttling"
    assert top.confidence > 0.9
    # current 5 + unreserved 150 - 100 kept back = 55 at most; doubling gives 15
    assert top.action is not None and top.action.command == "/ops concurrency orders reserve 15"


def test_throttling_raise_is_capped_to_keep_100_unreserved() -> None:
    fn = FunctionFacts(name="orders", arn="arn", reserved_concurrency=50, account_unreserved=120)
    ev = evidence(window={"Invocations": 60, "Throttles": 40}, function=fn)
    assert diagnose(ev).top.action.command == "/ops concurrency orders reserve 70"  # type: ignore[union-attr]


def test_throttling_with_no_room_in_the_account_offers_no_raise() -> None:
    fn = FunctionFacts(name="orders", arn="arn", reserved_concurrency=50, account_unreserved=100)
    ev = evidence(window={"Invocations": 60, "Throttles": 40}, function=fn)
    assert diagnose(ev).top.action is None


def test_recent_deploy_when_errors_concentrate_on_the_new_version() -> None:
    ev = evidence(
        function=aliased(),
        window={"Invocations": 60, "Errors": 9},
        versions={"3": {"Invocations": 60, "Errors": 9}, "2": {"Invocations": 20, "Errors": 0}},
    )
    top = diagnose(ev).top
    assert top.kind == "recent_deploy"
    assert top.confidence >= 0.9
    assert top.action is not None and top.action.command == "/ops alias orders live rollback"


def test_old_version_failing_just_as_much_is_not_a_bad_deploy() -> None:
    ev = evidence(
        function=aliased(published_minutes_before=60 * 24 * 5),
        window={"Invocations": 60, "Errors": 9},
        versions={"3": {"Invocations": 60, "Errors": 9}, "2": {"Invocations": 60, "Errors": 9}},
    )
    assert "recent_deploy" not in kinds(ev)


def test_version_published_after_the_alarm_is_not_its_cause() -> None:
    ev = evidence(
        function=aliased(published_minutes_before=-5),
        window={"Invocations": 60, "Errors": 0},
        versions={"3": {"Invocations": 60, "Errors": 0}},
    )
    assert "recent_deploy" not in kinds(ev)


def test_permission_denied_names_the_denied_action() -> None:
    ev = evidence(
        window={"Invocations": 5, "Errors": 5},
        logs=[
            "[ERROR] ClientError: User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: "
            "s3:PutObject on resource: x"
        ],
    )
    top = diagnose(ev).top
    assert top.kind == "permission_denied"
    assert any("s3:PutObject" in e for e in top.evidence)


def test_downstream_throttling_beats_the_generic_code_error() -> None:
    ev = evidence(
        window={"Invocations": 10, "Errors": 3},
        logs=[
            "[ERROR] ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput"
        ],
    )
    assert kinds(ev)[:2] == ["downstream_throttling", "code_error"]


def test_http_429_from_a_dependency_is_downstream_throttling() -> None:
    ev = evidence(logs=["[ERROR] HTTPError: 429 Too Many Requests for url https://api.example.com"])
    assert "downstream_throttling" in kinds(ev)


def test_code_error_reports_top_signature_with_location_and_error_rate() -> None:
    trace = (
        "[ERROR] KeyError: 'sku'\nTraceback (most recent call last):\n"
        '  File "/var/task/pricing.py", line 12, in price\n'
    )
    ev = evidence(
        window={"Invocations": 200, "Errors": 15}, logs=[trace] * 4 + ["[ERROR] ValueError: bad"]
    )
    top = diagnose(ev).top
    assert top.kind == "code_error"
    assert "Error rate 7.5%" in top.evidence[0]
    assert "×4" in top.evidence[1] and "/var/task/pricing.py:12 in price" in top.evidence[1]


def test_errors_are_read_as_a_rate_of_invocations() -> None:
    ev = evidence(window={"Invocations": 10_000, "Errors": 5}, logs=["[ERROR] KeyError: 'x'"])
    assert "Error rate 0.1%" in diagnose(ev).top.evidence[0]


def test_dlq_backlog_on_a_queue_alarm_offers_redrive() -> None:
    q = QueueFacts(
        name="orders-dlq",
        arn="arn:aws:sqs:us-east-1:1:orders-dlq",
        visible=23,
        oldest_age_s=7200,
        samples=['{"orderId": "O-1"}'],
        source_queues=["orders-queue"],
    )
    ev = evidence(queue=q)
    ev.resource = ev.resource.__class__("queue", "orders-dlq", q.arn, "us-east-1", "1")
    ev.function = None
    top = diagnose(ev).top
    assert top.kind == "dlq_backlog"
    assert top.action is not None and top.action.command == "/ops redrive orders-dlq"
    assert any("orders-queue" in e for e in top.evidence)


def test_empty_dlq_is_no_backlog() -> None:
    q = QueueFacts(name="orders-dlq", arn="arn", visible=0, source_queues=["orders-queue"])
    assert "dlq_backlog" not in kinds(evidence(queue=q))


def test_dead_letter_errors_mean_lost_events() -> None:
    ev = evidence(metric="DeadLetterErrors", window={"Invocations": 10, "DeadLetterErrors": 2})
    assert kinds(ev)[0] == "dlq_delivery_failure"


def test_iterator_age_high_and_rising() -> None:
    ev = evidence(metric="IteratorAge", window={"Invocations": 100})
    ev.metrics["IteratorAge"] = [
        (t, v)
        for (t, v) in zip(
            sorted(t for t, _ in ev.metrics["Invocations"]),
            [300_000, 600_000, 1_200_000],
            strict=True,
        )
    ]
    top = diagnose(ev).top
    assert top.kind == "iterator_age"
    assert "rising" in top.evidence[0]
    assert top.action is not None


def test_no_invocations_after_a_busy_lookback() -> None:
    ev = evidence(
        metric="Invocations",
        comparison="LessThanThreshold",
        window={"Invocations": 0},
        lookback={"Invocations": 30},
    )
    assert kinds(ev)[0] == "no_invocations"


def test_over_provisioned_memory_estimates_monthly_saving() -> None:
    ev = evidence(
        window={"Invocations": 50}, lookback={"Invocations": 50}, logs=[report(2600, 3008, 180)] * 5
    )
    cause = next(c for c in diagnose(ev).causes if c.kind == "over_provisioned_memory")
    assert "180 MB used of 3008 MB" in cause.summary
    assert "/month" in cause.evidence[1]


def test_unknown_says_what_was_checked_and_what_could_not_be() -> None:
    ev = evidence(window={"Invocations": 10, "Errors": 0})
    ev.unchecked.append("could not check logs: AccessDeniedException")
    causes = diagnose(ev).causes
    assert [c.kind for c in causes] == ["unknown"]
    assert "Checked: function configuration, metrics, logs." in causes[0].evidence
    assert "could not check logs: AccessDeniedException" in causes[0].evidence


def test_causes_are_ranked_most_likely_first() -> None:
    ev = evidence(
        window={"Invocations": 40, "Errors": 9, "DurationMax": 15_000},
        logs=["Task timed out after 15.00 seconds", "[ERROR] KeyError: 'x'"],
    )
    confidences = [c.confidence for c in diagnose(ev).causes]
    assert confidences == sorted(confidences, reverse=True)
