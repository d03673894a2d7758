"""`/ops` through the real endpoint: requests signed as Slack signs them, lazy half run in-process."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from chalice.test import Client

from devtools import fleet
from devtools.console import signed_headers
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import SIGNING_SECRET

OPERATOR, STRANGER = "UOPERATOR", "USTRANGER"


def signed(body: str, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    return signed_headers(secret, body, now=time.time() - age)


def slash(
    client: Client,
    slack_url: str,
    text: str,
    user: str = OPERATOR,
    channel: str = "random",
    **kw: Any,
) -> Any:
    """`/ops text` typed by `user` in `channel` (its name; the alarm channel is `ops-alarms`)."""
    body = urlencode(
        {
            "command": "/ops",
            "text": text,
            "user_id": user,
            "team_id": "T1",
            "channel_id": "C0ALARMS" if channel == "ops-alarms" else "C1",
            "channel_name": channel,
            "response_url": slack_url.replace("/api/", "/response/cmd"),
            "trigger_id": "t",
        }
    )
    return client.http.post("/slack/events", headers=signed(body, **kw), body=body)


def click(
    client: Client,
    slack_url: str,
    action_id: str,
    value: str,
    user: str = OPERATOR,
    on_home: bool = False,
    channel: dict[str, str] | None = None,
) -> Any:
    """A button clicked in a message (in `channel`, by default one that is not the alarm
    channel), or (`on_home`) on the Home tab, whose clicks carry the view and no response_url."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "channel": channel or {"id": "C1", "name": "random"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "t",
        "container": {},
        "response_url": slack_url.replace("/api/", "/response/btn"),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "type": "button",
                "action_ts": "1",
            }
        ],
    }
    if on_home:
        del payload["response_url"], payload["channel"]
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home"}
    body = urlencode({"payload": json.dumps(payload)})
    return client.http.post("/slack/events", headers=signed(body), body=body)


def answers(slack: FakeSlack) -> list[dict[str, Any]]:
    """What was answered through response_urls (not the deletions of previews answered)."""
    return [
        c.args
        for c in slack.calls
        if c.method.startswith("response/") and str(c.args.get("delete_original")) != "True"
    ]


def action_id(reply: dict[str, Any], action: str) -> str:
    for block in reply.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == action:
                return str(element["value"])
    raise AssertionError(f"no {action} button in {reply}")


def reserved(aws: boto3.Session, function: str) -> int | None:
    return (
        aws.client("lambda")
        .get_function_concurrency(FunctionName=function)
        .get("ReservedConcurrentExecutions")
    )


def test_unsigned_request_is_rejected_before_anything_runs(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    response = slash(client, slack_url, "help", secret="wrong-secret")
    assert response.status_code == 401
    assert answers(slack) == []


def test_stale_signature_outside_five_minutes_is_rejected(client: Client, slack_url: str) -> None:
    assert slash(client, slack_url, "help", age=6 * 60).status_code == 401


def test_typo_gets_usage_help_not_a_stack_trace(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    assert slash(client, slack_url, "concurency orders").status_code == 200
    [reply] = answers(slack)
    assert "unknown command `concurency`" in reply["text"]
    assert "/ops concurrency &lt;function&gt;" in reply["text"]  # Slack shows <function>


def test_reserve_previews_without_changing_then_confirm_changes_once(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15")
    [preview] = answers(slack)
    assert "5 → 15" in preview["text"]
    assert reserved(aws, "payments-capture") == 5
    action = action_id(preview, "ops_confirm")
    click(client, slack_url, "ops_confirm", action)
    click(client, slack_url, "ops_confirm", action)  # a second click
    assert reserved(aws, "payments-capture") == 15
    done, again = answers(slack)[1:]
    assert ":white_check_mark:" in done["text"]
    assert "already done" in again["text"]


def test_stranger_is_refused_and_the_refusal_recorded(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15", user=STRANGER)
    assert "Refused" in answers(slack)[0]["text"]
    slash(client, slack_url, "history")
    assert "refused" in answers(slack)[1]["text"]
    assert reserved(aws, "payments-capture") == 5


def test_confirm_by_a_stranger_changes_nothing(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15")
    click(
        client, slack_url, "ops_confirm", action_id(answers(slack)[0], "ops_confirm"), user=STRANGER
    )
    assert "not an operator" in answers(slack)[1]["text"]
    assert reserved(aws, "payments-capture") == 5


def test_kill_switch_preview_warns_about_async_events(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 0")
    assert "kill switch" in answers(slack)[0]["text"]


def test_rollback_goes_to_the_previous_version_and_undo_restores(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _in_eu_west_1(monkeypatch, aws)
    lam = aws.client("lambda", region_name="eu-west-1")
    slash(client, slack_url, "alias checkout-api live rollback")
    preview = answers(slack)[0]
    assert "v3 → v2" in preview["text"]
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert lam.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"] == "2"
    done = answers(slack)[1]
    click(client, slack_url, "ops_undo", action_id(done, "ops_undo"))
    undo_preview = answers(slack)[2]
    assert "v2 → v3" in undo_preview["text"]
    click(client, slack_url, "ops_confirm", action_id(undo_preview, "ops_confirm"))
    assert lam.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"] == "3"


def _in_eu_west_1(monkeypatch: pytest.MonkeyPatch, aws: boto3.Session) -> None:
    """The recent-deploy scenario lives in eu-west-1: run the bot there, with its table."""
    from chalicelib.aws.dynamodb import create_table
    from tests.functional.conftest import serve

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    serve(aws)
    create_table(aws.client("dynamodb", region_name="eu-west-1"), "shepherd-state")
    fleet.seed(["recent_deploy"], aws)


def test_alias_to_an_unpublished_version_is_refused(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _in_eu_west_1(monkeypatch, aws)
    slash(client, slack_url, "alias checkout-api live to 9")
    assert "no published version 9" in answers(slack)[0]["text"]


def test_unknown_function_is_a_clear_answer(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(client, slack_url, "status ghost")
    assert "no function `ghost`" in answers(slack)[0]["text"]


def test_status_shows_last_hour_health_with_errors_as_a_rate(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["code_error"], aws)
    slash(client, slack_url, "status cart-service")
    status = answers(slack)[0]["text"]
    assert "Last hour:" in status
    assert "errors (" in status  # a rate of invocations, not a bare count


def test_status_names_where_failed_events_go(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    """`/ops help` promises the DLQ: an on-failure destination is one, and how to redrive it."""
    fleet.failed_deliveries(aws, count=1)
    fleet.seed(["code_error"], aws)
    slash(client, slack_url, "status invoice-mailer")
    slash(client, slack_url, "status cart-service")
    mailer, cart = (a["text"] for a in answers(slack))
    assert "On-failure destination: `invoice-mailer-failed`" in mailer
    assert "`/ops redrive invoice-mailer-failed`" in mailer
    assert "DLQ: none (failed async events are dropped after their retries)" in cart


def test_an_unknown_function_is_named_without_the_grammar_and_a_typo_gets_a_suggestion(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    """Usage help is for a command typed wrong, not for a name that does not exist."""
    slash(client, slack_url, "concurrency ghost")
    slash(client, slack_url, "memroy ghost 512")
    unknown, typo = (a["text"] for a in answers(slack))
    assert "no function `ghost` in us-east-1 of this account" in unknown
    assert "`--region &lt;region&gt;`" in unknown and "*Usage*" not in unknown  # <region>
    assert "unknown command `memroy`; did you mean `memory`?" in typo and "*Usage*" in typo


def test_the_first_ack_needs_no_slack_round_trip(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(client, slack_url, "help")
    assert "`/ops help`" in answers(slack)[0]["text"]
    assert slack.calls_to("auth.test") == []


def test_cancel_by_a_stranger_is_refused_recorded_and_the_preview_stands(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15")
    action = action_id(answers(slack)[0], "ops_cancel")
    click(client, slack_url, "ops_cancel", action, user="USTRANGER")
    assert "Refused" in answers(slack)[1]["text"]
    click(client, slack_url, "ops_confirm", action)  # the operator's preview still stands
    assert reserved(aws, "payments-capture") == 15
    slash(client, slack_url, "history payments-capture")
    assert "refused · <@USTRANGER> · `cancel " in answers(slack)[-1]["text"]


def test_diagnose_shows_log_lines_to_viewers_only(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["downstream_throttling"], aws)
    slash(client, slack_url, "diagnose invoice-mailer", user=STRANGER)
    withheld = json.dumps(answers(slack)[0])
    assert "Downstream throttling" in withheld  # the diagnosis itself is for everyone
    assert "Maximum sending rate" not in withheld  # its quoted log lines are not
    assert "shown to viewers only" in withheld

    slash(client, slack_url, "diagnose invoice-mailer", user=OPERATOR)
    assert "Maximum sending rate" in json.dumps(answers(slack)[1])


def test_diagnose_looks_where_the_command_points_and_offers_no_alarm_buttons(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    """`/ops diagnose` in another region looked in Shepherd's own; and, no alarm having fired, it
    offered Acknowledge and Snooze for an alarm that does not exist."""
    from devtools.fleet.seeder import Seeder

    s = Seeder(aws)
    s.function("checkout-api", region="eu-west-1")
    s.healthy("checkout-api", region="eu-west-1")
    slash(client, slack_url, "diagnose checkout-api --region eu-west-1", channel="ops-alarms")
    [reply] = answers(slack)
    said = json.dumps(reply)
    assert "ResourceNotFound" not in said and "could not check function configuration" not in said
    assert "Diagnosis: checkout-api" in said and "ALARM:" not in said
    assert "eu-west-1" in said and "account 123456789012" in said
    labels = [
        e["text"]["text"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "Acknowledge" not in labels and not any(label.startswith("Snooze") for label in labels)


def test_history_lists_cancelled_changes_with_when_each_happened(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["throttling"], aws)
    slash(client, slack_url, "concurrency payments-capture reserve 15")
    click(client, slack_url, "ops_cancel", action_id(answers(slack)[0], "ops_cancel"))
    slash(client, slack_url, "history payments-capture")
    listed = answers(slack)[-1]["text"]
    assert " cancelled · <@UOPERATOR> · `/ops concurrency payments-capture reserve 15`" in listed
    assert "<!date^" in listed  # when, in each reader's time zone
