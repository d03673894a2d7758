"""The wider catalogue of causes (PRODUCT.md §3), each from literal evidence, and the ranking of a
cause above the symptoms it explains. Pure."""

from __future__ import annotations

from datetime import timedelta

from chalicelib import markup
from chalicelib.diagnosis.evidence import FunctionFacts, LogLine
from chalicelib.diagnosis.rules import diagnose
from tests.unit.evidence_builder import T, aliased, evidence, report


def kinds(ev: object) -> list[str]:
    return [c.kind for c in diagnose(ev).causes]  # type: ignore[arg-type]


def cause(ev: object, kind: str) -> object:
    return next(c for c in diagnose(ev).causes if c.kind == kind)  # type: ignore[arg-type]


def cold(duration: float, init: float | None) -> str:
    line = report(duration, 512, 300)
    return line + (f"Init Duration: {init:.2f} ms\t" if init is not None else "")


def fn(**kw: object) -> FunctionFacts:
    base: dict[str, object] = {
        "name": "orders",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "timeout_s": 15,
        "memory_mb": 1024,
    }
    return FunctionFacts(**{**base, **kw})  # type: ignore[arg-type]


# --- cold_starts -----------------------------------------------------------------------------


def test_cold_starts_give_their_share_and_p90_init() -> None:
    ev = evidence(
        metric="Duration",
        logs=[cold(2500, 2400), cold(2500, 2600), cold(300, None), cold(300, None)],
    )
    assert kinds(ev)[0] == "cold_starts"
    c = cause(ev, "cold_starts")
    assert "2 of 4 invocations in the logs were cold starts (50%)" in c.evidence[0]  # type: ignore[attr-defined]
    assert "Init Duration p90 2,600 ms" in c.evidence[1]  # type: ignore[attr-defined]


def test_no_init_duration_is_no_cold_start() -> None:
    assert "cold_starts" not in kinds(evidence(logs=[cold(300, None)] * 5))


# --- memory_pressure -------------------------------------------------------------------------


def test_memory_at_ninety_percent_before_any_oom_offers_more_memory() -> None:
    ev = evidence(window={"Errors": 1, "Invocations": 10}, logs=[report(900, 1024, 950)] * 3)
    top = diagnose(ev).top
    assert top.kind == "memory_pressure"
    assert top.action is not None and top.action.command == "/ops memory orders 1536"


def test_memory_at_the_limit_is_out_of_memory_not_pressure() -> None:
    ev = evidence(logs=[report(900, 1024, 1024)] * 3 + ["Runtime.OutOfMemory"])
    assert "memory_pressure" not in kinds(ev)


def test_pressure_then_oom_ranks_pressure_first() -> None:
    ev = evidence(
        logs=[report(900, 1024, 940), report(900, 1024, 1024), "signal: killed Runtime.ExitError"]
    )
    assert kinds(ev)[:2] == ["memory_pressure", "out_of_memory"]


# --- new_error -------------------------------------------------------------------------------


def _prior(ev: object, *lines: str) -> object:
    ev.prior_errors.extend(LogLine(T - timedelta(hours=20), x) for x in lines)  # type: ignore[attr-defined]
    return ev


def test_an_error_not_seen_in_48_hours_is_new_and_ranks_above_code_error() -> None:
    ev = _prior(
        evidence(
            window={"Errors": 5, "Invocations": 40},
            logs=["[ERROR] ValueError: invalid literal for int() with base 10: 'N/A'"] * 3,
        ),
        "[ERROR] KeyError: 'sku'",
    )
    assert kinds(ev)[:2] == ["new_error", "code_error"]
    assert "`KeyError`" in markup.unmarked(cause(ev, "new_error").evidence[1])  # type: ignore[attr-defined]


def test_a_known_error_is_not_new_and_no_earlier_errors_says_nothing_new() -> None:
    line = "[ERROR] KeyError: 'sku'"
    known = _prior(evidence(window={"Errors": 5, "Invocations": 40}, logs=[line] * 3), line)
    assert "new_error" not in kinds(known)
    assert "new_error" not in kinds(evidence(window={"Errors": 5}, logs=[line] * 3))


# --- duration_anomaly, invocation_spike --------------------------------------------------------


def test_duration_far_above_its_median_and_not_at_the_timeout() -> None:
    ev = evidence(
        metric="Duration",
        window={"DurationAvg": 2500},
        lookback={"DurationAvg": 800},
        logs=[report(2500, 1024, 500)] * 5,
    )
    assert kinds(ev)[0] == "duration_anomaly"
    near_timeout = evidence(window={"DurationAvg": 14_000}, lookback={"DurationAvg": 800})
    assert "duration_anomaly" not in kinds(near_timeout)


def test_invocations_above_twice_the_busiest_minute_before_are_a_spike() -> None:
    ev = evidence(window={"Invocations": 240}, lookback={"Invocations": 20})
    assert kinds(ev)[0] == "invocation_spike"
    assert "invocation_spike" not in kinds(
        evidence(window={"Invocations": 40}, lookback={"Invocations": 20})
    )


# --- async_backlog, recursive_loop -----------------------------------------------------------


def test_dropped_async_events_are_a_backlog() -> None:
    ev = evidence(window={"AsyncEventsDropped": 3, "AsyncEventAge": 600_000})
    assert kinds(ev)[0] == "async_backlog"


def test_rising_async_age_without_drops_is_a_backlog_a_steady_one_is_not() -> None:
    rising = evidence(window={"AsyncEventAge": 300_000}, lookback={"AsyncEventAge": 2_000})
    steady = evidence(window={"AsyncEventAge": 300_000}, lookback={"AsyncEventAge": 290_000})
    assert "async_backlog" in kinds(rising) and "async_backlog" not in kinds(steady)


def test_recursive_invocations_dropped_is_a_loop_above_its_spike() -> None:
    ev = evidence(
        window={"RecursiveInvocationsDropped": 25, "Invocations": 400},
        lookback={"Invocations": 20},
    )
    assert kinds(ev)[:2] == ["recursive_loop", "invocation_spike"]


# --- event_source_failure ---------------------------------------------------------------------


def test_a_disabled_or_failing_mapping_is_an_event_source_failure() -> None:
    problem = "PROBLEM: Function call failed: the function's role lacks sqs:ReceiveMessage"
    f = fn(
        event_sources=[
            {
                "arn": "arn:aws:sqs:us-east-1:1:orders-in",
                "state": "Enabled",
                "last_result": problem,
            },
            {
                "arn": "arn:aws:kinesis:us-east-1:1:stream/clicks",
                "state": "Disabled",
                "reason": "User action",
            },
        ]
    )
    ev = evidence(function=f, window={"Invocations": 0}, lookback={"Invocations": 10})
    assert kinds(ev)[:2] == ["event_source_failure", "no_invocations"]
    lines = [markup.unmarked(e) for e in cause(ev, "event_source_failure").evidence]  # type: ignore[attr-defined]
    assert f"`orders-in`: {problem}" in lines
    assert "`clicks` is Disabled (User action): nothing is read from it" in lines


# --- account_concurrency ---------------------------------------------------------------------


def test_claimed_account_concurrency_near_the_limit_explains_throttling() -> None:
    ev = evidence(
        function=fn(account_concurrency_limit=1000),
        window={"ClaimedAccountConcurrency": 960, "Throttles": 30, "Invocations": 50},
    )
    assert kinds(ev)[:2] == ["account_concurrency", "throttling"]


def test_a_function_with_its_own_reservation_is_not_limited_by_the_account() -> None:
    ev = evidence(
        function=fn(account_concurrency_limit=1000, reserved_concurrency=5),
        window={"ClaimedAccountConcurrency": 960, "Throttles": 30, "Invocations": 50},
    )
    assert "account_concurrency" not in kinds(ev)


# --- misconfiguration ------------------------------------------------------------------------


def test_short_visibility_no_dlq_and_a_deprecated_runtime_are_misconfiguration() -> None:
    f = fn(
        timeout_s=30,
        runtime="python3.8",
        event_sources=[
            {
                "arn": "arn:aws:sqs:us-east-1:1:notices",
                "state": "Enabled",
                "visibility_timeout": "20",
            }
        ],
    )
    ev = evidence(function=f, window={"AsyncEventsReceived": 10, "Invocations": 10})
    top = diagnose(ev).top
    assert top.kind == "misconfiguration"
    text = markup.unmarked(" ".join(top.evidence))
    assert "`notices`'s visibility timeout is 20 s, under 6× the 30 s function timeout" in text
    assert "no DLQ and no on-failure destination" in text
    assert "`python3.8` is deprecated since 2024-10-14" in text


def test_a_well_set_up_function_is_not_misconfigured() -> None:
    f = fn(
        timeout_s=10,
        runtime="python3.12",
        dlq_arn="arn:aws:sqs:us-east-1:1:dlq",
        event_sources=[
            {"arn": "arn:aws:sqs:us-east-1:1:in", "state": "Enabled", "visibility_timeout": "60"}
        ],
    )
    ev = evidence(function=f, window={"AsyncEventsReceived": 10})
    assert "misconfiguration" not in kinds(ev)


# --- compound --------------------------------------------------------------------------------


def test_a_deploy_that_brings_timeouts_is_the_deploy_first() -> None:
    ev = evidence(
        function=aliased(),
        metric="Duration",
        window={"Errors": 12, "Invocations": 60, "DurationMax": 14_990},
        lookback={"Errors": 0, "Invocations": 20},
        versions={"3": {"Errors": 12, "Invocations": 60}, "2": {"Errors": 0, "Invocations": 1}},
        logs=["Task timed out after 15.00 seconds"] * 3,
    )
    assert kinds(ev)[:2] == ["recent_deploy", "timeout"]


def test_throttling_that_backs_up_async_events_is_the_throttling_first() -> None:
    ev = evidence(
        function=fn(reserved_concurrency=5),
        window={
            "Throttles": 45,
            "Invocations": 30,
            "ConcurrentExecutions": 5,
            "AsyncEventsDropped": 4,
            "AsyncEventAge": 300_000,
        },
        lookback={"Invocations": 30},
    )
    assert kinds(ev)[:2] == ["throttling", "async_backlog"]


def test_a_weak_cause_does_not_push_a_strong_symptom_down() -> None:
    # Cold starts that are not what the alarm is about (not on Duration) leave a duration
    # anomaly where it ranks.
    ev = evidence(
        window={"DurationAvg": 2500},
        lookback={"DurationAvg": 800},
        logs=[cold(2500, 300), cold(2500, None), cold(2500, None)],
    )
    assert kinds(ev)[0] == "duration_anomaly"
