"""Nothing from outside speaks in the channel: hostile text pushed through every message Shepherd
builds (alarm, reminder, storm, Home, `/ops` replies, the redrive preview, a destination record)
never becomes a live mention or link, never closes Shepherd's code spans, and loses its control
characters on the way. Checked on what reaches the Slack stand-in, as Slack would parse it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from devtools import fleet
from devtools.fake_slack import FakeSlack
from devtools.fleet.events import alarm_message, destination_record, sns_event, sqs_event
from devtools.fleet.scenarios import alarm as seeded_alarm
from devtools.fleet.seeder import Seeder
from tests.functional.conftest import answer_as_aws
from tests.functional.test_ops_commands import OPERATOR, answers, slash

EVIL = (
    "x`<!channel> <https://evil.example|Click to fix> <@UEVIL> <#CEVIL> <!subteam^SEVIL> "
    "<!here> &lt;!everyone&gt; \x1b[31mred\x1b[0m\x07 ```fence``` ` "
    "\ue000<!channel>\ue001 \ue000<https://evil.example|forged>\ue001"  # Shepherd's own marks, forged
)
# A page a load balancer returns, logged whole: escaping lengthens it past what was clipped.
HTML = "[ERROR] 502 from upstream: " + "<html><body><b>Bad &amp; Gateway</b><br/>" * 40
# What Slack turns into a mention or a link when it finds it unescaped in mrkdwn.
LIVE = re.compile(r"<(?:[@#!]|https?:|mailto:)[^>]*>")
OWN_LIVE = re.compile(r"^<(?:@UOPERATOR|@ULOCALOPS|!date\^\d+\^[^|]*\|[^>]*)>$")


def mrkdwn_texts(payload: Any) -> Iterator[tuple[str, bool]]:
    """Every string Slack parses as mrkdwn in a payload, and whether it is sent verbatim."""
    if isinstance(payload, list):
        for item in payload:
            yield from mrkdwn_texts(item)
    elif isinstance(payload, dict):
        if payload.get("type") == "mrkdwn" and isinstance(payload.get("text"), str):
            yield payload["text"], bool(payload.get("verbatim"))
            return
        for value in payload.values():
            yield from mrkdwn_texts(value)


def everything_sent(slack: FakeSlack) -> list[dict[str, Any]]:
    """Each payload as it reached Slack: messages, updates, response_url replies, Home views."""
    sent = []
    for call in slack.calls:
        if call.method.startswith(("chat.", "response/", "views.")):
            args = dict(call.args)
            for key in ("blocks", "view"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
            sent.append(args)
    return sent


def assert_inert(slack: FakeSlack) -> str:
    sent = everything_sent(slack)
    assert sent, "nothing reached Slack"
    texts: list[tuple[str, bool]] = []
    for payload in sent:
        texts += mrkdwn_texts(payload)
        if isinstance(payload.get("text"), str):
            texts.append((payload["text"], True))  # the notification text: escaped is enough
    live = [t for text, _ in texts for t in LIVE.findall(text) if not OWN_LIVE.match(t)]
    assert live == [], f"live markup from outside: {live}"
    for text, verbatim in texts:
        assert "\x1b" not in text and "\x07" not in text
        assert not re.search("[\ue000-\ue003]", text), f"Shepherd's marks leaked: {text!r}"
        for span in re.findall(r"(?<!`)`([^`\n]*)`(?!`)", text):
            assert "evil.example" not in span or "&lt;" in span  # inside a span: escaped
        assert "`<" not in text.replace("&lt;", "")
        assert verbatim, f"mrkdwn sent without verbatim (Slack would link bare URLs): {text!r}"
    return "\n".join(text for text, _ in texts)


@pytest.fixture
def fleet_with_evil(aws: boto3.Session) -> Seeder:
    s = Seeder(aws)
    s.function("cart-service")
    s.healthy("cart-service", per_minute=200, recent=False)
    s.metrics("cart-service", "Invocations", [(t, 200) for t in s.window()])
    s.metrics("cart-service", "Errors", [(t, 15) for t in s.window()])
    s.logs(
        "cart-service",
        [f"[ERROR] ValueError: {EVIL}"] * 4
        + [f"Traceback: {EVIL}", f'  File "{EVIL[-60:]}", line 3, in handler']
        + [HTML] * 8,
    )
    return s


def test_a_hostile_alarm_and_log_line_stay_text_in_the_alarm_message(
    client: Client, fleet_with_evil: Seeder, slack: FakeSlack
) -> None:
    s = fleet_with_evil
    msg = seeded_alarm(s, f"cart-errors {EVIL[:80]}", "Errors", {"FunctionName": "cart-service"})
    msg.update(AlarmDescription=EVIL, NewStateReason=f"Threshold Crossed: {EVIL}")
    client.lambda_.invoke("on_alarm", sns_event(msg))
    assert len(slack.channel_messages()) == 1  # posted: Slack took its blocks (none too long)
    said = assert_inert(slack)
    assert "&lt;!channel&gt;" in said  # shown, as text
    assert "ValueError" in said


def test_diagnose_status_and_a_typo_echo_no_live_markup(
    client: Client, fleet_with_evil: Seeder, slack: FakeSlack, slack_url: str
) -> None:
    slash(client, slack_url, "diagnose cart-service", channel="ops-alarms")
    slash(client, slack_url, f"status {EVIL}")
    slash(client, slack_url, f"{EVIL} cart-service")
    slash(client, slack_url, f"concurrency cart-service reserve {EVIL}")
    assert len(answers(slack)) == 4
    said = assert_inert(slack)
    assert "&lt;!channel&gt;" in said


def test_a_hostile_dlq_body_in_the_alarm_and_the_redrive_preview(
    client: Client, aws: boto3.Session, slack: FakeSlack, slack_url: str, bot_env: Any
) -> None:
    [scenario] = fleet.seed(["dlq_backlog"], aws)
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    sqs.purge_queue(QueueUrl=dlq)
    for _ in range(5):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"note": EVIL}))
    answer_as_aws(bot_env.aws.client("sqs"), "ListMessageMoveTasks", {"Results": []})
    client.lambda_.invoke(scenario.handler, scenario.event)
    slash(client, slack_url, "redrive orders-dlq", channel="ops-alarms")
    said = assert_inert(slack)
    assert said.count("&lt;https://evil.example") >= 2  # in the alarm's samples and the preview


def test_a_hostile_destination_record_and_a_reminder_and_home(
    client: Client, fleet_with_evil: Seeder, slack: FakeSlack, bot_env: Any
) -> None:
    s = fleet_with_evil
    arn = "arn:aws:lambda:us-east-1:123456789012:function:cart-service"
    record = destination_record(arn, {"order": EVIL}, s.alarm_time, error=EVIL)
    client.lambda_.invoke("on_failure", sqs_event(record, s.alarm_time))
    loud = alarm_message(
        f"cart {EVIL[:60]}",
        "Errors",
        {"FunctionName": "cart-service"},
        s.alarm_time - timedelta(hours=2),
    )
    client.lambda_.invoke("on_alarm", sns_event(loud))
    bot_env.attention.remind()
    from chalicelib.slack.listeners.home import publish

    class Wiring:
        def home_facts(self) -> Any:
            return bot_env.home_facts()

    publish(Wiring(), bot_env.slack_client, OPERATOR)  # type: ignore[arg-type]
    assert slack.home_views
    assert_inert(slack)
