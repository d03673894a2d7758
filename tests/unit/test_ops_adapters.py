"""Adapters for the calls moto lacks, checked against botocore's own request/response shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.errors import AccessDenied
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.sqs import SqsApi
from chalicelib.ops.replay import Pace, target_of

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"


@pytest.fixture
def sqs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sqs", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def lam() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_message_move_starts_back_to_the_source_at_the_capped_rate(sqs: Any) -> None:
    client, stubber = sqs
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "h-1"},
        {"SourceArn": DLQ_ARN, "MaxNumberOfMessagesPerSecond": 25},
    )
    assert SqsApi(client).start_move(DLQ_ARN, 25) == "h-1"


def test_message_move_progress_reads_the_latest_task(sqs: Any) -> None:
    client, stubber = sqs
    stubber.add_response(
        "list_message_move_tasks",
        {
            "Results": [
                {
                    "TaskHandle": "h-1",
                    "Status": "RUNNING",
                    "SourceArn": DLQ_ARN,
                    "MaxNumberOfMessagesPerSecond": 25,
                    "ApproximateNumberOfMessagesMoved": 40,
                    "ApproximateNumberOfMessagesToMove": 100,
                    "StartedTimestamp": 1,
                }
            ]
        },
        {"SourceArn": DLQ_ARN, "MaxResults": 1},
    )
    task = SqsApi(client).latest_move(DLQ_ARN)
    assert task is not None
    assert (task.status, task.moved, task.to_move, task.handle) == (
        "RUNNING",
        40,
        100,
        "h-1",
    )


def test_message_move_without_tasks_is_none(sqs: Any) -> None:
    client, stubber = sqs
    stubber.add_response("list_message_move_tasks", {"Results": []})
    assert SqsApi(client).latest_move(DLQ_ARN) is None


def test_message_move_cancel_reports_what_was_moved(sqs: Any) -> None:
    client, stubber = sqs
    stubber.add_response(
        "cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 7}, {"TaskHandle": "h-1"}
    )
    assert SqsApi(client).cancel_move("h-1") == 7


def test_provisioned_absent_is_none(lam: Any) -> None:
    client, stubber = lam
    stubber.add_client_error(
        "get_provisioned_concurrency_config",
        "ProvisionedConcurrencyConfigNotFoundException",
        http_status_code=404,
        expected_params={"FunctionName": "checkout-api", "Qualifier": "live"},
    )
    assert LambdaApi(client).provisioned("checkout-api", "live") is None


def test_provisioned_other_errors_are_not_taken_for_absent(lam: Any) -> None:
    client, stubber = lam
    stubber.add_client_error(
        "get_provisioned_concurrency_config", "AccessDeniedException", http_status_code=403
    )
    with pytest.raises(AccessDenied, match="AccessDenied"):
        LambdaApi(client).provisioned("checkout-api", "live")


def test_provisioned_put_and_delete_on_the_qualifier(lam: Any) -> None:
    client, stubber = lam
    stubber.add_response(
        "put_provisioned_concurrency_config",
        {
            "RequestedProvisionedConcurrentExecutions": 20,
            "AllocatedProvisionedConcurrentExecutions": 0,
            "Status": "IN_PROGRESS",
        },
        {
            "FunctionName": "checkout-api",
            "Qualifier": "live",
            "ProvisionedConcurrentExecutions": 20,
        },
    )
    stubber.add_response(
        "delete_provisioned_concurrency_config",
        {},
        {"FunctionName": "checkout-api", "Qualifier": "live"},
    )
    config = LambdaApi(client).provision("checkout-api", "live", 20)
    assert (config.requested, config.status) == (20, "IN_PROGRESS")
    LambdaApi(client).unprovision("checkout-api", "live")


def test_provisioned_all_lists_every_qualifier(lam: Any) -> None:
    client, stubber = lam
    arn = "arn:aws:lambda:us-east-1:123456789012:function:checkout-api"
    stubber.add_response(
        "list_provisioned_concurrency_configs",
        {
            "ProvisionedConcurrencyConfigs": [
                {
                    "FunctionArn": f"{arn}:live",
                    "RequestedProvisionedConcurrentExecutions": 20,
                    "AllocatedProvisionedConcurrentExecutions": 20,
                    "Status": "READY",
                }
            ]
        },
        {"FunctionName": "checkout-api"},
    )
    [config] = LambdaApi(client).all_provisioned("checkout-api")
    assert (config.qualifier, config.allocated, config.status) == ("live", 20, "READY")


def test_dlq_owner_is_the_function_whose_dead_letter_config_targets_the_queue(lam: Any) -> None:
    client, stubber = lam
    stubber.add_response(
        "list_functions",
        {
            "Functions": [
                {"FunctionName": "other", "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:x"}},
                {"FunctionName": "orders-worker", "DeadLetterConfig": {"TargetArn": DLQ_ARN}},
            ]
        },
    )
    assert LambdaApi(client).dead_letter_functions(DLQ_ARN) == ["orders-worker"]


def test_destination_record_goes_back_to_the_qualified_function_with_its_payload() -> None:
    body = (
        '{"requestContext": {"functionArn": "arn:aws:lambda:us-east-1:1:function:mailer:live"},'
        ' "requestPayload": {"invoiceId": "INV-1"}}'
    )
    target = target_of(body, None)
    assert target is not None
    assert target.function.endswith(":function:mailer:live")
    assert target.payload == {"invoiceId": "INV-1"}


def test_async_dlq_message_is_the_payload_and_goes_to_the_dlq_owner() -> None:
    target = target_of('{"orderId": "O-1"}', "orders-worker")
    assert target is not None
    assert (target.function, target.payload) == ("orders-worker", {"orderId": "O-1"})


def test_message_without_a_known_origin_has_no_target() -> None:
    assert target_of('{"orderId": "O-1"}', None) is None


def test_pace_spreads_calls_evenly_at_the_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pace = Pace(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pace.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]


def test_a_configuration_change_carries_the_revision_it_was_previewed_at(lam: Any) -> None:
    client, stubber = lam
    stubber.add_response(
        "update_function_configuration",
        {"FunctionName": "f", "MemorySize": 1024, "Timeout": 3, "RevisionId": "r2"},
        {"FunctionName": "f", "MemorySize": 1024, "RevisionId": "r1"},
    )
    done = LambdaApi(client).configure("f", "r1", memory_mb=1024)
    assert (done.memory_mb, done.revision) == (1024, "r2")


def test_a_configuration_change_after_someone_elses_is_refused_by_lambda(lam: Any) -> None:
    from chalicelib.aws.errors import AwsError

    client, stubber = lam
    stubber.add_client_error(
        "update_function_configuration",
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id.",
        412,
        expected_params={"FunctionName": "f", "Timeout": 30, "RevisionId": "r1"},
    )
    with pytest.raises(AwsError) as raised:
        LambdaApi(client).configure("f", "r1", timeout_s=30)
    assert raised.value.code == "PreconditionFailedException"


def test_an_event_source_mapping_says_how_its_last_batch_went(lam: Any) -> None:
    client, stubber = lam
    stubber.add_response(
        "list_event_source_mappings",
        {
            "EventSourceMappings": [
                {
                    "UUID": "a1b2c3d4-0000-4000-8000-000000000001",
                    "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:orders-in",
                    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
                    "State": "Enabled",
                    "LastProcessingResult": "PROBLEM: Function call failed",
                    "StateTransitionReason": "USER_INITIATED",
                }
            ]
        },
        {"FunctionName": "orders"},
    )
    [mapping] = LambdaApi(client).event_source_mappings(function="orders")
    assert (mapping.last_result, mapping.reason) == (
        "PROBLEM: Function call failed",
        "USER_INITIATED",
    )


def test_earlier_error_lines_are_asked_for_with_a_filter_pattern() -> None:
    from datetime import UTC, datetime

    from chalicelib.aws.logs import LogsApi
    from chalicelib.diagnosis.sources import PRIOR_PATTERN

    client = boto3.client("logs", region_name="us-east-1")
    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)
    with Stubber(client) as stubber:
        stubber.add_response(
            "filter_log_events",
            {
                "events": [
                    {"timestamp": 1, "message": "[ERROR] KeyError: 'sku'\n", "logStreamName": "s"}
                ]
            },
            {
                "logGroupName": "/aws/lambda/orders",
                "startTime": int(start.timestamp() * 1000),
                "endTime": int(end.timestamp() * 1000),
                "limit": 1000,
                "filterPattern": PRIOR_PATTERN,
            },
        )
        [event] = LogsApi(client).events(
            "/aws/lambda/orders", start, end, pages=1, pattern=PRIOR_PATTERN
        )
    assert event.message == "[ERROR] KeyError: 'sku'"


def test_a_change_waits_while_the_function_s_last_update_is_in_progress(
    lam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda refuses an update while one is in progress (a runbook's previous step); a failed
    last update is no reason to wait, and a wait has an end."""
    import chalicelib.aws.lambda_ as lambda_module

    client, stubber = lam
    waited: list[float] = []
    monkeypatch.setattr(lambda_module.time, "sleep", waited.append)
    for status in ("InProgress", "InProgress", "Successful", "Failed", "InProgress"):
        stubber.add_response(
            "get_function_configuration",
            {"FunctionName": "orders", "LastUpdateStatus": status, "MemorySize": 512},
            {"FunctionName": "orders"},
        )
    api = LambdaApi(client)
    settled = api.settled(api.function("orders"))
    assert not settled.updating and waited == [1.0, 1.0]
    assert api.settled(api.function("orders")) and waited == [1.0, 1.0]  # Failed: go ahead
    assert api.settled(api.function("orders"), within_s=0).updating  # still in progress: go on
