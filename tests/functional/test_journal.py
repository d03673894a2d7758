"""What an operator reading CloudWatch Logs sees: one JSON line per delivery, command and change,
with who, what, the outcome and how long it took (Powertools Logger's JSON, as Lambda writes it)."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.test_ops_commands import OPERATOR, action_id, answers, click, slash


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    formatter = LambdaPowertoolsFormatter(service="shepherd")
    return [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "chalicelib.journal"
    ]


class Context:
    aws_request_id = "req-0001"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:shepherd-prod-on_alarm"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_a_delivery_a_command_and_a_change_are_a_line_each(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    bot_env: Container,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import app

    caplog.set_level(logging.INFO)
    [scenario] = fleet.seed(["throttling"], aws)
    app.on_alarm_action(scenario.event, Context())
    slash(client, slack_url, "status payments-capture")
    slash(client, slack_url, "concurrency payments-capture reserve 15")
    click(client, slack_url, "ops_confirm", action_id(answers(slack)[-1], "ops_confirm"))

    delivery, status, propose, change = lines(caplog)
    assert delivery["event"] == "delivery" and delivery["source"] == "alarm-action"
    assert delivery["request_id"] == "req-0001" and delivery["posted"] == 1
    assert delivery["outcome"] == "done" and delivery["duration_ms"] >= 0
    assert delivery["service"] == "shepherd" and delivery["level"] == "INFO"

    assert (status["event"], status["user"], status["outcome"]) == ("command", OPERATOR, "Said")
    assert status["command"] == "/ops status payments-capture"
    assert propose["outcome"] == "Preview" and propose["action_id"]

    assert change["event"] == "change" and change["outcome"] == "Done"
    assert change["action_id"] == propose["action_id"] and change["user"] == OPERATOR
    assert (change["kind"], change["target"]) == ("reserved_concurrency", "payments-capture")
    assert change["proposed_by"] == OPERATOR and change["status"] == "done"


def test_a_refusal_and_typed_markup_are_lines_too(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15", user="USTRANGER")
    slash(client, slack_url, "status <!channel>\ue000x")
    refused, typed = lines(caplog)
    assert refused["outcome"] == "Refused" and "not an operator" in refused["error"]
    assert "\ue000" not in typed["command"]  # Shepherd's marks never reach a log line
