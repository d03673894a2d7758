"""What the cold path does and does not do: one round trip for both secrets, init without I/O."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.aws.errors import NotFound
from chalicelib.aws.secrets import SecretStore
from chalicelib.config import Settings
from chalicelib.container import Container, warm


def ssm_holding(values: dict[str, str]) -> tuple[Any, list[dict[str, Any]]]:
    """moto's SSM with `values` stored; and the GetParameters requests made to it."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    made: list[dict[str, Any]] = []
    ssm.meta.events.register(
        "provide-client-params.ssm.GetParameters", lambda params, **_: made.append(params)
    )
    return ssm, made


@mock_aws
def test_both_slack_secrets_in_ssm_are_read_in_one_round_trip() -> None:
    ssm, made = ssm_holding({"/shepherd/token": "xoxb-1", "/shepherd/secret": "s3cr3t"})
    settings = Settings(bot_token_param="/shepherd/token", signing_secret_param="/shepherd/secret")
    store = SecretStore(lambda _: ssm)
    secrets = settings.slack_secrets(store.get)
    again = settings.slack_secrets(store.get)  # kept for its max age: no second call
    assert (secrets.bot_token, secrets.signing_secret) == ("xoxb-1", "s3cr3t")
    assert again == secrets
    assert made == [{"Names": ["/shepherd/token", "/shepherd/secret"], "WithDecryption": True}]


@mock_aws
def test_a_refresh_reads_the_secrets_again() -> None:
    ssm, made = ssm_holding({"/t": "xoxb-1"})
    store = SecretStore(lambda _: ssm)
    assert store.get(["/t"]) == {"/t": "xoxb-1"}
    ssm.put_parameter(Name="/t", Value="xoxb-2", Type="SecureString", Overwrite=True)
    assert store.get(["/t"]) == {"/t": "xoxb-1"}  # within its max age
    store.refresh()
    assert store.get(["/t"]) == {"/t": "xoxb-2"}
    assert len(made) == 2


def test_a_missing_parameter_is_not_found() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    with Stubber(ssm) as stub:
        stub.add_response(
            "get_parameters", {"Parameters": [], "InvalidParameters": ["/shepherd/token"]}
        )
        with pytest.raises(NotFound, match="/shepherd/token"):
            SecretStore(lambda _: ssm).get(["/shepherd/token"])


def test_a_secrets_manager_entry_is_read_from_secrets_manager() -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(sm) as stub:
        stub.add_response("get_secret_value", {"SecretString": "xoxb-2"}, {"SecretId": "slack"})
        store = SecretStore(lambda _: sm)
        assert store.get(["secret:slack"]) == {"secret:slack": "xoxb-2"}


def test_local_secrets_fetch_nothing() -> None:
    def fetch(names: list[str]) -> dict[str, str]:
        raise AssertionError(f"fetched {names}")

    secrets = Settings(bot_token="xoxb-3", signing_secret="s").slack_secrets(fetch)
    assert secrets.bot_token == "xoxb-3"


def test_the_chalice_function_is_read_from_the_lambda_name() -> None:
    settings = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "shepherd-prod-api_handler"})
    assert settings.function == "api_handler"
    assert Settings.from_env({}).function is None


def _offline() -> tuple[Container, list[str]]:
    session = boto3.Session(region_name="us-east-1")
    sent: list[str] = []

    def refuse(request: Any, **_: Any) -> None:
        sent.append(request.url)
        raise AssertionError("the init phase made a network call")

    session.events.register("before-send", refuse)
    return Container(Settings(), session), sent


@pytest.mark.parametrize(
    ("function", "clients"),
    [
        ("api_handler", {"lambda"}),
        ("on_alarm", {"dynamodb", "lambda", "cloudwatch", "logs", "sqs"}),
        ("on_failure", {"dynamodb", "lambda", "cloudwatch", "logs", "sqs"}),
        ("nightly_iam_audit", set()),
    ],
)
def test_init_builds_what_the_function_needs_without_a_network_call(
    function: str, clients: set[str]
) -> None:
    container, sent = _offline()
    done = warm(container, function)
    assert {d.removesuffix(" client") for d in done if d.endswith(" client")} == clients
    assert sent == []


@pytest.mark.parametrize(
    "policy",
    [
        "api_handler",
        "on_alarm",
        "on_alarm_event",
        "on_alarm_action",
        "on_failure",
        "nightly_iam_audit",
    ],
)
def test_each_function_may_read_both_secrets_in_one_call(policy: str) -> None:
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parents[2] / "policies" / f"{policy}.json").read_text())
    allowed = {
        action
        for s in doc["Statement"]
        if s["Effect"] == "Allow"
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "ssm:GetParameters" in allowed
    assert "secretsmanager:GetSecretValue" in allowed  # the documented `secret:` form
