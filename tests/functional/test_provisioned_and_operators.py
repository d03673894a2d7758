"""Provisioned concurrency (Lambda stubbed, moto lacks it; the action log on moto), user groups,
and the diagnosis buttons, each through the same lifecycle as every change."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client

from chalicelib import markup
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.ops.actions.provision import ProvisionResult
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import SlackOps, answer_as_aws, serve
from tests.functional.test_ops_commands import action_id, answers, click, reserved, slash

FN, ALIAS = "checkout-api", "live"
CONFIG = {
    "FunctionName": FN,
    "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{FN}",
    "MemorySize": 1024,
}


@pytest.fixture
def stubbed(aws: boto3.Session) -> Iterator[tuple[SlackOps, Stubber]]:
    bot = Container(Settings(operators=("UOPERATOR",)), aws)
    with Stubber(bot.aws.client("lambda")) as stubber:
        yield SlackOps(bot), stubber
        stubber.assert_no_pending_responses()


def expect_plan(stubber: Stubber, current: int | None, undo: bool = False) -> None:
    if not undo:  # an undo goes by its record: the function was looked up when it was proposed
        stubber.add_response("get_function_configuration", CONFIG, {"FunctionName": FN})
    stubber.add_response(
        "get_alias",
        {"Name": ALIAS, "FunctionVersion": "3", "AliasArn": CONFIG["FunctionArn"] + ":live"},
        {"FunctionName": FN, "Name": ALIAS},
    )
    expect_provisioned(stubber, current)


def expect_provisioned(stubber: Stubber, current: int | None) -> None:
    """What Lambda says is provisioned now: read by a preview, again at its Confirm."""
    if current is None:
        stubber.add_client_error(
            "get_provisioned_concurrency_config",
            "ProvisionedConcurrencyConfigNotFoundException",
            http_status_code=404,
        )
    else:
        stubber.add_response(
            "get_provisioned_concurrency_config",
            {
                "RequestedProvisionedConcurrentExecutions": current,
                "AllocatedProvisionedConcurrentExecutions": current,
                "Status": "READY",
            },
        )


def expect_room(stubber: Stubber, reserved: int | None, unreserved: int) -> None:
    stubber.add_response(
        "get_function_concurrency",
        {} if reserved is None else {"ReservedConcurrentExecutions": reserved},
    )
    if reserved is None:
        stubber.add_response(
            "get_account_settings",
            {
                "AccountLimit": {
                    "ConcurrentExecutions": 1000,
                    "UnreservedConcurrentExecutions": unreserved,
                }
            },
        )


def test_provision_previews_confirms_and_undo_removes_it(stubbed: tuple[SlackOps, Stubber]) -> None:
    ops, stubber = stubbed
    expect_plan(stubber, current=None)
    expect_room(stubber, reserved=None, unreserved=900)
    preview = ops.run(f"concurrency {FN} provision 20 --alias {ALIAS}", "UOPERATOR")
    assert "none → 20" in preview.text
    assert "billed" in preview.text
    # 20 × 1 GB × 30 days × $0.0000041667 per GB-second: what the memory preview gives, here too
    assert "about +$216.00 a month for +20 × 1024 MB (x86_64, us-east-1 price" in preview.text
    action = action_id({"blocks": preview.blocks}, "ops_confirm")

    expect_provisioned(stubber, None)  # Confirm re-reads it and re-runs the guardrails
    expect_room(stubber, reserved=None, unreserved=900)
    stubber.add_response(
        "put_provisioned_concurrency_config",
        {"RequestedProvisionedConcurrentExecutions": 20, "Status": "IN_PROGRESS"},
        {"FunctionName": FN, "Qualifier": ALIAS, "ProvisionedConcurrentExecutions": 20},
    )
    done = ops.confirm(action, "UOPERATOR")
    assert ":white_check_mark:" in done.text
    recorded = ops.log.get(action)
    assert recorded is not None
    assert recorded.result == ProvisionResult(provisioned=20, status="IN_PROGRESS")

    expect_plan(stubber, current=20, undo=True)
    undo = ops.run(f"undo {action}", "UOPERATOR")
    assert "20 → none" in undo.text
    expect_provisioned(stubber, 20)
    stubber.add_response(
        "delete_provisioned_concurrency_config", {}, {"FunctionName": FN, "Qualifier": ALIAS}
    )
    ops.confirm(action_id({"blocks": undo.blocks}, "ops_confirm"), "UOPERATOR")


def test_provision_beyond_the_reservation_is_refused_before_any_change(
    stubbed: tuple[SlackOps, Stubber],
) -> None:
    ops, stubber = stubbed
    expect_plan(stubber, current=None)
    expect_room(stubber, reserved=10, unreserved=900)
    reply = ops.run(f"concurrency {FN} provision 20 --alias {ALIAS}", "UOPERATOR")
    assert "more than *checkout-api*'s reserved concurrency (10)" in reply.text


def test_provision_that_eats_the_last_100_unreserved_is_refused(
    stubbed: tuple[SlackOps, Stubber],
) -> None:
    ops, stubber = stubbed
    expect_plan(stubber, current=None)
    expect_room(stubber, reserved=None, unreserved=150)
    reply = ops.run(f"concurrency {FN} provision 60 --alias {ALIAS}", "UOPERATOR")
    assert "fewer than 100 unreserved" in reply.text


def test_provision_on_a_missing_alias_is_named_without_the_grammar(
    stubbed: tuple[SlackOps, Stubber],
) -> None:
    ops, stubber = stubbed
    stubber.add_response("get_function_configuration", CONFIG, {"FunctionName": FN})
    stubber.add_client_error("get_alias", "ResourceNotFoundException", http_status_code=404)
    reply = ops.run(f"concurrency {FN} provision 5 --alias blue", "UOPERATOR")
    assert "has no alias `blue`" in markup.unmarked(reply.text)
    assert "Usage" not in reply.text


def test_unprovision_when_nothing_is_provisioned_says_so(stubbed: tuple[SlackOps, Stubber]) -> None:
    ops, stubber = stubbed
    expect_plan(stubber, current=None)
    reply = ops.run(f"concurrency {FN} unprovision --alias {ALIAS}", "UOPERATOR")
    assert "has no provisioned concurrency" in reply.text


def test_stranger_cannot_provision_and_the_refusal_is_recorded(
    stubbed: tuple[SlackOps, Stubber],
) -> None:
    ops, _ = stubbed  # no Lambda answers queued: a stranger's command reads nothing
    reply = ops.run(f"concurrency {FN} provision 5 --alias {ALIAS}", "USTRANGER")
    assert reply.text.startswith(":no_entry: Refused")
    [refusal] = ops.log.history(FN)
    assert (refusal.status, refusal.user) == ("refused", "USTRANGER")


# --- through Slack ------------------------------------------------------------------------


def test_member_of_an_operator_user_group_may_change(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEPHERD_OPERATORS", "S0ONCALL")
    serve(aws)
    slack.groups["S0ONCALL"] = ["UGROUPIE"]
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15", user="UGROUPIE")
    preview = answers(slack)[0]
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"), user="UGROUPIE")
    assert reserved(aws, "payments-capture") == 15
    slash(client, slack_url, "concurrency payments-capture reserve 20", user="UOUTSIDER")
    assert "not an operator" in answers(slack)[2]["text"]
    assert [c.args["usergroup"] for c in slack.calls_to("usergroups.users.list")] == ["S0ONCALL"]


def test_diagnosis_button_runs_its_command_through_preview_and_confirm(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    [scenario] = fleet.seed(["throttling"], aws)
    client.lambda_.invoke("on_alarm", scenario.event)
    [post] = slack.calls_to("chat.postMessage")
    buttons = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"]
    fix = buttons[0]
    click(client, slack_url, fix["action_id"], fix["value"])
    preview = answers(slack)[0]
    assert "*Preview*" in preview["text"]
    assert reserved(aws, "payments-capture") == 5  # a button alone changes nothing
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert reserved(aws, "payments-capture") == 15


def test_status_button_of_a_dlq_diagnosis_answers_with_the_queue(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    [scenario] = fleet.seed(["dlq_backlog"], aws)
    answer_as_aws(bot_env.aws.client("sqs"), "ListMessageMoveTasks", {"Results": []})
    client.lambda_.invoke("on_alarm", scenario.event)
    [post] = slack.calls_to("chat.postMessage")
    buttons = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"]
    redrive = next(b for b in buttons if b["value"].startswith("/ops redrive"))
    click(client, slack_url, redrive["action_id"], redrive["value"])
    assert "Move 23 message(s)" in answers(slack)[0]["text"]
    slash(client, slack_url, "status orders-dlq")
    status = answers(slack)[1]["text"]
    assert "23 message(s) waiting" in status
    assert "Dead-letter queue of: `orders-queue`" in status


def test_provision_when_lambda_cannot_be_read_says_so_and_changes_nothing(
    stubbed: tuple[SlackOps, Stubber],
) -> None:
    ops, stubber = stubbed
    stubber.add_response("get_function_configuration", CONFIG, {"FunctionName": FN})
    stubber.add_response(
        "get_alias",
        {"Name": ALIAS, "FunctionVersion": "3"},
        {"FunctionName": FN, "Name": ALIAS},
    )
    stubber.add_client_error(
        "get_provisioned_concurrency_config",
        "ServiceException",
        "<html><h1>upstream page</h1></html>",
        http_status_code=500,
    )
    reply = ops.run(f"concurrency {FN} provision 5 --alias {ALIAS}", "UOPERATOR")
    assert reply.text.startswith(":x: lambda: ServiceException: could not read")
    assert "<html>" not in reply.text
    assert ops.log.history(FN) == []
