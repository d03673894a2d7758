"""AWS's timestamps as AWS writes them (the API references' own examples), beside moto's."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.times import aws_time

AT = datetime(2019, 9, 24, 18, 20, 35, 54000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "where"),
    [
        ("2019-09-24T18:20:35.054+0000", "Lambda LastModified, CloudWatch StateChangeTime"),
        ("2019-09-24T18:20:35.054Z", "SNS Timestamp, destination record timestamp"),
        ("2019-09-24T18:20:35.054000000Z", "moto's LastModified"),
        ("2019-09-24T18:20:35.054+00:00", "ISO 8601 with a colon"),
        ("2019-09-24T13:20:35.054-0500", "an offset west of UTC"),
        ("2019-09-24T23:50:35.054+05:30", "an offset with minutes"),
        ("2019-09-24 18:20:35.054 UTC", "a space and a zone name"),
        (1569349235.054, "epoch seconds (JSON protocols)"),
        (1569349235054, "epoch milliseconds (CloudWatch Logs)"),
    ],
)
def test_every_shape_aws_writes_reads_as_the_same_instant(written: object, where: str) -> None:
    parsed = aws_time(written)
    assert parsed is not None, where
    assert abs((parsed - AT).total_seconds()) < 0.001, where


def test_whole_seconds_and_eventbridge_time() -> None:
    assert aws_time("2019-09-24T18:20:35Z") == AT.replace(microsecond=0)
    assert aws_time("2019-09-24T18:20:35+0000") == AT.replace(microsecond=0)


@pytest.mark.parametrize("garbled", ["", "yesterday", "2019-13-45T99:99:99Z", "2019-09-24", None])
def test_what_is_no_timestamp_is_none_not_an_error(garbled: object) -> None:
    assert aws_time(garbled) is None


def test_a_function_s_last_modified_in_aws_s_own_format_is_read() -> None:
    """GetFunctionConfiguration's example response: `"LastModified": "2019-09-24T18:20:35.054+0000"`.
    moto writes nanoseconds with a Z, which parsed; AWS's format did not, so in a real account
    Shepherd never knew when a function changed."""
    lam = boto3.client("lambda", region_name="us-east-1")
    with Stubber(lam) as stub:
        stub.add_response(
            "get_function_configuration",
            {
                "FunctionName": "my-function",
                "FunctionArn": "arn:aws:lambda:us-west-2:123456789012:function:my-function",
                "Runtime": "nodejs12.x",
                "Role": "arn:aws:iam::123456789012:role/lambda-role",
                "Handler": "index.handler",
                "CodeSize": 302,
                "Timeout": 3,
                "MemorySize": 128,
                "LastModified": "2019-09-24T18:20:35.054+0000",
                "Version": "$LATEST",
                "RevisionId": "443ae23d-45ec-4b27-ab3e-a0bd6b2d7ba6",
            },
            {"FunctionName": "my-function"},
        )
        assert LambdaApi(lam).function("my-function").last_modified == AT
