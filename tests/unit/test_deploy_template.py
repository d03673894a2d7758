"""The stack a first deploy creates: what each function names exists before it, its settings come
from the stack's parameters, and its reservations fit the account's concurrency quota."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from deploy import quota, slack_app
from deploy.template import Template
from devtools.fake_slack import MANIFEST_SCOPES

ROOT = Path(__file__).resolve().parents[2]
MERGED = json.loads((ROOT / ".chalice" / "resources.json").read_text())
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


def logical_id(function: str) -> str:
    return "APIHandler" if function == "api_handler" else function.title().replace("_", "")


def test_a_function_subscribed_to_shepherd_s_topic_or_queue_is_made_after_it() -> None:
    """chalice names the topic and queue of an event source by a built ARN: without a dependency
    CloudFormation may subscribe before the topic or queue exists, and a first deploy races."""
    import app

    named = {
        props.get("TopicName") or props.get("QueueName"): logical
        for logical, r in MERGED["Resources"].items()
        if (props := r.get("Properties", {})).get("TopicName") or props.get("QueueName")
    }
    for function, source in (("OnAlarm", app.ALARM_TOPIC), ("OnFailure", app.FAILURE_QUEUE)):
        assert named[source] in MERGED["Resources"][function]["DependsOn"]


def test_every_function_reads_operators_and_channel_from_the_stack_s_parameters() -> None:
    for function in CONFIG["lambda_functions"]:
        env = MERGED["Resources"][logical_id(function)]["Properties"]["Environment"]["Variables"]
        assert env["SHEPHERD_OPERATORS"] == {"Ref": "Operators"}
        assert env["SHEPHERD_CHANNEL"] == {"Ref": "Channel"}
    for stage in CONFIG["stages"].values():  # no literal that would override the parameter
        assert "SHEPHERD_OPERATORS" not in stage.get("environment_variables", {})


def test_each_reservation_is_a_parameter_and_zero_reserves_nothing() -> None:
    template = Template(MERGED)
    found = template.reservations()
    assert set(found) == {f"shepherd-prod-{f}" for f in CONFIG["lambda_functions"]}
    for function, (parameter, default) in found.items():
        assert default > 0
        logical = next(k for k, v in template.functions.items() if v == function)
        reserved = MERGED["Resources"][logical]["Properties"]["ReservedConcurrentExecutions"]
        condition, yes, no = reserved["Fn::If"]
        assert yes == {"Ref": parameter} and no == {"Ref": "AWS::NoValue"}
        assert MERGED["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]
        }


WANTED = {name: n for name, (_, n) in Template(MERGED).reservations().items()}


def test_a_quota_of_10_reserves_nothing_and_says_why() -> None:
    fitted = quota.fit(WANTED, quota.Quota(limit=10, unreserved=10, held=0))
    assert set(fitted.reservations.values()) == {0}
    assert "none" in fitted.said() and "quota 10" in fitted.said()
    assert "Service Quotas" in fitted.said()


def test_a_quota_of_100_reserves_nothing_lambda_keeps_100_unreserved() -> None:
    fitted = quota.fit(WANTED, quota.Quota(limit=100, unreserved=100, held=0))
    assert set(fitted.reservations.values()) == {0}


def test_a_quota_of_1000_reserves_everything_planned() -> None:
    fitted = quota.fit(WANTED, quota.Quota(limit=1000, unreserved=1000, held=0))
    assert fitted.whole and fitted.reservations == WANTED
    assert f"{sum(WANTED.values())} as planned" in fitted.said()


def test_what_the_account_has_left_is_shared_out_at_least_one_each() -> None:
    wanted = sum(WANTED.values())
    fitted = quota.fit(WANTED, quota.Quota(limit=1000, unreserved=120, held=0))  # 20 reservable
    assert sum(fitted.reservations.values()) == 20 < wanted
    assert all(n >= 1 for n in fitted.reservations.values())
    assert fitted.reservations["shepherd-prod-api_handler"] == max(fitted.reservations.values())
    assert "scaled down to 20" in fitted.said()


def test_an_update_counts_what_shepherd_already_holds() -> None:
    """Shepherd's own reservations are released by the update: they fit again."""
    wanted = sum(WANTED.values())
    fitted = quota.fit(WANTED, quota.Quota(limit=1000, unreserved=100, held=wanted))
    assert fitted.whole


def test_the_quota_is_read_from_lambda_with_shepherd_s_current_reservations() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "get_account_settings",
            {
                "AccountLimit": {
                    "TotalCodeSize": 80530636800,
                    "CodeSizeUnzipped": 262144000,
                    "CodeSizeZipped": 52428800,
                    "ConcurrentExecutions": 1000,
                    "UnreservedConcurrentExecutions": 950,
                },
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 2},
            },
        )
        stub.add_response(
            "get_function_concurrency",
            {"ReservedConcurrentExecutions": 20},
            {"FunctionName": "shepherd-prod-api_handler"},
        )
        stub.add_response(  # a function without a reservation answers an empty body
            "get_function_concurrency", {}, {"FunctionName": "shepherd-prod-on_alarm"}
        )
        stub.add_client_error(
            "get_function_concurrency",
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:shepherd-prod-x",
            404,
            expected_params={"FunctionName": "shepherd-prod-x"},
        )
        found = quota.read_quota(
            client, ["shepherd-prod-api_handler", "shepherd-prod-on_alarm", "shepherd-prod-x"]
        )
    assert found == quota.Quota(limit=1000, unreserved=950, held=20)
    assert found.available == 870


def test_the_printed_manifest_points_every_request_url_at_the_deployment() -> None:
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/slack/events"
    text = slack_app.manifest(url)
    assert "API_URL" not in text
    import yaml

    doc = yaml.safe_load(text)
    assert doc["settings"]["interactivity"]["request_url"] == url
    assert doc["settings"]["event_subscriptions"]["request_url"] == url
    assert [c["url"] for c in doc["features"]["slash_commands"]] == [url]


def test_the_stand_in_grants_what_the_manifest_asks_for() -> None:
    assert slack_app.scopes() == MANIFEST_SCOPES.split(",")


@pytest.mark.parametrize(
    ("token", "secret"),
    [
        ("xoxp-user-token", "0123456789abcdef0123456789abcdef"),
        ("xoxb-ok", "not-a-signing-secret"),
        ("xoxb-ok", "0123456789abcdef0123456789abcdeF"),
    ],
)
def test_a_token_or_signing_secret_of_the_wrong_kind_is_refused_before_storing(
    token: str, secret: str
) -> None:
    from chalicelib.errors import BadInput

    ssm = boto3.client("ssm", region_name="us-east-1")
    with Stubber(ssm), pytest.raises(BadInput):  # no call expected: nothing is stored
        slack_app.Secrets("/a", "/b").store(ssm, token, secret)


def test_chalice_deploy_is_refused_before_it_makes_anything() -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # were a call made, it would fail, not reach AWS
    done = subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "deploy", "--stage", "prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "make deploy" in done.stderr
    assert "Creating" not in done.stdout + done.stderr
