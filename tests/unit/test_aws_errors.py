"""AWS failures arrive as types (checked with botocore's Stubber), and errors know their wording."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.errors import AccessDenied, AwsError, NotFound, Throttled, Upstream
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.sqs import SqsApi
from chalicelib.errors import BadInput, Refused, UsageError


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ResourceNotFoundException", 404, NotFound),
        ("TooManyRequestsException", 429, Throttled),
        ("AccessDeniedException", 403, AccessDenied),
        ("ServiceException", 500, Upstream),
    ],
)
def test_a_lambda_error_code_becomes_its_type(
    code: str, status: int, expected: type[AwsError]
) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("get_function_configuration", code, http_status_code=status)
        with pytest.raises(expected) as raised:
            LambdaApi(client).function("orders")
    assert raised.value.code == code
    assert raised.value.service == "lambda"


def test_a_missing_queue_is_none_not_an_error() -> None:
    client = boto3.client("sqs", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_queue_url", "AWS.SimpleQueueService.NonExistentQueue", http_status_code=400
        )
        assert SqsApi(client).queue("ghost") is None


def test_a_function_without_async_config_has_no_destination() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_function_event_invoke_config", "ResourceNotFoundException", http_status_code=404
        )
        assert LambdaApi(client).on_failure_destination("orders") is None


def test_errors_carry_their_exit_code_and_slack_wording() -> None:
    usage = UsageError("unknown command `frob`")
    usage.usage = "`/ops help`"
    assert (usage.exit_code, BadInput("x").exit_code, Refused("x").exit_code) == (2, 2, 1)
    assert usage.shown() == ":warning: unknown command `frob`\n\n*Usage*\n`/ops help`"
    assert Refused("not an operator").shown() == ":no_entry: Refused: not an operator"
    assert NotFound("lambda", "gone", "ResourceNotFoundException").shown() == (
        ":x: lambda: ResourceNotFoundException: gone"
    )
