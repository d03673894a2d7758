"""The two-person rule through signed Slack requests: a second operator approves, never the proposer;
break-glass acts alone with a reason, posted and recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import serve
from tests.functional.test_ops_commands import action_id, answers, click, slash

PROPOSER, SECOND, LEAD = "UOPERATOR", "USECOND", "ULEAD"
APPROVE, UNDO = "ops_approve", "ops_undo"


@pytest.fixture
def team(
    monkeypatch: pytest.MonkeyPatch, bot_env: Container, aws: boto3.Session
) -> Iterator[Client]:
    """Three operators; alias moves and the kill switch need two of them; ULEAD is break-glass."""
    from app import app

    monkeypatch.setenv("SHEPHERD_OPERATORS", f"{PROPOSER},{SECOND},{LEAD}")
    monkeypatch.setenv("SHEPHERD_APPROVALS", "alias,reserve-0,redrive")
    monkeypatch.setenv("SHEPHERD_BREAK_GLASS", LEAD)
    serve(aws)
    fleet.failed_deliveries(aws, count=1)  # invoice-mailer
    fleet.releases(aws)  # versions 1-3, alias live on 3
    with Client(app) as client:
        yield client


def live(aws: boto3.Session) -> str:
    alias = aws.client("lambda").get_alias(FunctionName="invoice-mailer", Name="live")
    return str(alias["FunctionVersion"])


def shared(slack: FakeSlack) -> list[dict[str, Any]]:
    return [a for a in answers(slack) if a.get("response_type") == "in_channel"]


def test_the_proposer_cannot_approve_and_a_second_operator_runs_it_once(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    slash(team, slack_url, "alias invoice-mailer live rollback", user=PROPOSER)
    [preview] = answers(slack)
    assert preview["response_type"] == "in_channel"  # the team sees what awaits approval
    assert "needs a second operator" in preview["text"] and "cannot approve it" in preview["text"]
    assert "ops_confirm" not in str(preview["blocks"])
    action = action_id(preview, APPROVE)

    click(team, slack_url, APPROVE, action, user=PROPOSER)
    refused = answers(slack)[-1]
    assert "another operator must approve it" in refused["text"]
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    assert live(aws) == "3"

    clicks = [
        threading.Thread(target=click, args=(team, slack_url, APPROVE, action), kwargs={"user": u})
        for u in (SECOND, LEAD)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert live(aws) == "2"
    [done] = [a for a in shared(slack) if "ran" in a["text"]]
    assert "approved by" in done["text"] and f"<@{PROPOSER}>" in done["text"]
    calls = [c for c in slack.calls if c.method.startswith("response/")]
    assert sum("ran" in str(c.args.get("text")) for c in calls) == 1  # run once

    slash(team, slack_url, "history invoice-mailer", user=SECOND)
    history = answers(slack)[-1]["text"]
    assert "approved by" in history and "approve refused" in history


def test_an_approval_after_the_alias_moved_is_stale_and_the_fresh_one_is_still_the_proposer_s(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    from devtools.fleet.seeder import Seeder

    slash(team, slack_url, "alias invoice-mailer live rollback", user=PROPOSER)  # v3 -> v2
    action = action_id(answers(slack)[0], APPROVE)
    Seeder(aws).publish("invoice-mailer", (4,))
    aws.client("lambda").update_alias(
        FunctionName="invoice-mailer", Name="live", FunctionVersion="4"
    )
    click(team, slack_url, APPROVE, action, user=SECOND)
    stale = answers(slack)[-1]
    assert "was not run" in stale["text"]
    assert live(aws) == "4"  # a run of the old plan would have left v2
    assert f"proposed by <@{PROPOSER}>" in stale["text"]  # not by whoever clicked
    fresh = action_id(stale, APPROVE)
    click(team, slack_url, APPROVE, fresh, user=PROPOSER)
    assert "another operator must approve it" in answers(slack)[-1]["text"]
    assert live(aws) == "4"
    click(team, slack_url, APPROVE, fresh, user=SECOND)
    assert live(aws) == "3"


def test_a_preview_for_the_team_shows_no_message_bodies_and_a_refused_cancel_keeps_it(
    team: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(team, slack_url, "redrive invoice-mailer-failed", user=PROPOSER)
    preview = answers(slack)[-1]
    assert preview["response_type"] == "in_channel"
    assert "INV-" not in str(preview) and "shown to whoever previews it" in preview["text"]
    click(team, slack_url, "ops_cancel", action_id(preview, "ops_cancel"), user="USTRANGER")
    refused = answers(slack)[-1]
    assert "the preview stands" in refused["text"] and refused["replace_original"] is False
    click(team, slack_url, "ops_cancel", action_id(preview, "ops_cancel"), user=SECOND)
    cancelled = answers(slack)[-1]
    assert f"<@{SECOND}> cancelled" in cancelled["text"] and cancelled["replace_original"] is True


def test_break_glass_acts_alone_and_says_why_in_the_channel(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    slash(
        team,
        slack_url,
        'alias invoice-mailer live rollback --break-glass "v3 drops invoices, no second on-call"',
        user=PROPOSER,
    )
    refused = answers(slack)[-1]
    assert "not listed in SHEPHERD_BREAK_GLASS" in refused["text"]
    assert "not yours to use" in refused["text"] and live(aws) == "3"

    slash(
        team,
        slack_url,
        'alias invoice-mailer live rollback --break-glass "v3 drops <!channel> invoices"',
        user=LEAD,
    )
    preview = answers(slack)[-1]
    assert "Break glass" in preview["text"]
    click(team, slack_url, "ops_confirm", action_id(preview, "ops_confirm"), user=LEAD)
    assert live(aws) == "2"
    [done] = shared(slack)
    assert "acted alone" in done["text"] and "v3 drops &lt;!channel&gt; invoices" in done["text"]

    click(team, slack_url, UNDO, action_id(done, UNDO), user=LEAD)
    undo = answers(slack)[-1]
    assert "needs a second operator" in undo["text"] and APPROVE in str(undo["blocks"])


def test_the_kill_switch_needs_approval_and_its_undo_too(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    slash(team, slack_url, "concurrency invoice-mailer reserve 5", user=PROPOSER)
    assert "ops_confirm" in str(answers(slack)[-1]["blocks"])  # not every reserve: only 0
    slash(team, slack_url, "concurrency invoice-mailer reserve 0", user=PROPOSER)
    preview = answers(slack)[-1]
    click(team, slack_url, APPROVE, action_id(preview, APPROVE), user=SECOND)
    reserved = aws.client("lambda").get_function_concurrency(FunctionName="invoice-mailer")
    assert reserved["ReservedConcurrentExecutions"] == 0
    [done] = shared(slack)[-1:]
    click(team, slack_url, UNDO, action_id(done, UNDO), user=SECOND)
    undo = answers(slack)[-1]
    assert APPROVE in str(undo["blocks"])
    click(team, slack_url, APPROVE, action_id(undo, APPROVE), user=SECOND)
    assert "another operator must approve it" in answers(slack)[-1]["text"]
    slash(team, slack_url, "concurrency invoice-mailer unreserve", user=SECOND)
    assert APPROVE in str(answers(slack)[-1]["blocks"])  # lifting the kill switch, typed
    click(team, slack_url, APPROVE, action_id(undo, APPROVE), user=PROPOSER)
    after = aws.client("lambda").get_function_concurrency(FunctionName="invoice-mailer")
    assert after.get("ReservedConcurrentExecutions") is None


def test_a_rule_naming_an_account_that_is_not_configured_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.config import Settings
    from chalicelib.errors import BadInput

    with pytest.raises(BadInput, match="`prod` is not a configured account"):
        Settings.from_env({"SHEPHERD_APPROVALS": "alias@prod"})
    with pytest.raises(BadInput, match="`rollback` is not an approval rule"):
        Settings.from_env({"SHEPHERD_APPROVALS": "rollback"})


def test_an_approver_may_not_replay_into_a_function_they_could_not_change(
    aws: boto3.Session,
) -> None:
    """The proposer's redrive was narrowed to what the proposer may change; run as the approver,
    it must not reach what the approver may not."""
    from chalicelib.approvals import Approvals, parse_rules
    from chalicelib.config import Settings
    from chalicelib.ops.operators import Operators, Rule
    from tests.functional.conftest import SlackOps

    fleet.failed_deliveries(aws, count=2)
    settings = Settings(
        operators=(PROPOSER, SECOND),
        approvals=Approvals(parse_rules("redrive", "SHEPHERD_APPROVALS")),
    )
    bot = Container(settings, aws)
    only_proposer = Rule(("invoice-mailer",), (PROPOSER,), "mailer owners")
    bot.__dict__["operators"] = Operators((PROPOSER, SECOND), (only_proposer,))
    ops = SlackOps(bot)
    preview = ops.run("redrive invoice-mailer-failed", PROPOSER)
    action = action_id({"blocks": preview.blocks}, APPROVE)
    refused = ops.confirm(action, SECOND).text
    assert "it acts on `invoice-mailer`" in refused and "nothing was changed" in refused
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="invoice-mailer-failed")["QueueUrl"]
    depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "2"


def test_an_undo_from_the_home_tab_that_needs_approval_is_posted_for_the_team(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    """The Home tab answers in a direct message, where no second operator would see an Approve."""
    slash(team, slack_url, "concurrency invoice-mailer reserve 0", user=PROPOSER)
    click(team, slack_url, APPROVE, action_id(answers(slack)[-1], APPROVE), user=SECOND)
    done = shared(slack)[-1]
    click(team, slack_url, UNDO, action_id(done, UNDO), user=SECOND, on_home=True)
    posts = [c.args for c in slack.calls_to("chat.postMessage")]
    [dm] = [p for p in posts if p.get("channel") == SECOND]
    assert "is posted in" in dm["text"] and "for approval" in dm["text"]
    assert APPROVE not in str(dm.get("blocks"))
    [for_team] = [p for p in posts if p.get("channel") == "#ops-alarms"]
    assert APPROVE in str(for_team["blocks"]) and "Undo" in for_team["text"]


def test_a_change_typed_in_a_direct_message_that_needs_approval_is_posted_for_the_team(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    """No second operator reads Shepherd's direct messages with the proposer."""
    slash(team, slack_url, "alias invoice-mailer live rollback", channel="directmessage")
    answered = answers(slack)[-1]
    assert "is posted in" in answered["text"] and APPROVE not in str(answered.get("blocks"))
    [for_team] = [c.args for c in slack.calls_to("chat.postMessage")]
    assert for_team["channel"] == "#ops-alarms"
    click(team, slack_url, APPROVE, action_id(for_team, APPROVE), user=SECOND)
    assert live(aws) == "2"
