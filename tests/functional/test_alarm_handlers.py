"""The alarm handlers end to end in-process: Chalice's test client, moto, the fake Slack Web API."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from chalice.test import Client

from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.conftest import load_event
from tests.functional.conftest import BOT_TOKEN


def seed(session: boto3.Session, name: str) -> fleet.Scenario:
    return fleet.seed([name], session)[0]


def posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls_to("chat.postMessage")]


def test_sns_alarm_posts_one_diagnosis_with_the_bot_token(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "throttling")
    client.lambda_.invoke("on_alarm", scenario.event)
    [call] = slack.calls_to("chat.postMessage")
    assert call.token == BOT_TOKEN
    assert call.args["channel"] == "#ops-alarms"
    assert "throttling" in call.args["text"]
    buttons = next(b for b in call.args["blocks"] if b["type"] == "actions")["elements"]
    assert buttons[0]["value"] == "/ops concurrency payments-capture reserve 15"


def test_duplicate_delivery_produces_one_message(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "timeout")
    for _ in range(3):
        client.lambda_.invoke("on_alarm_event", scenario.event)
    assert len(posts(slack)) == 1


def test_same_alarm_notified_to_two_topics_posts_once(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "throttling")
    message = json.loads(scenario.event["Records"][0]["Sns"]["Message"])
    client.lambda_.invoke("on_alarm", scenario.event)
    client.lambda_.invoke("on_alarm", fleet.sns_event(message, topic="other-topic"))
    assert len(posts(slack)) == 1


def test_ok_updates_the_alarm_message_and_posts_recovery_in_its_thread(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "throttling")
    client.lambda_.invoke("on_alarm", scenario.event)
    [first] = slack.calls_to("chat.postMessage")
    message = json.loads(scenario.event["Records"][0]["Sns"]["Message"])
    ok = {
        **message,
        "NewStateValue": "OK",
        "OldStateValue": "ALARM",
        "NewStateReason": "back under threshold",
        "StateChangeTime": message["StateChangeTime"]
        .replace(".000", ".000")
        .replace(
            message["StateChangeTime"][11:16], _plus_minutes(message["StateChangeTime"][11:16], 12)
        ),
    }
    client.lambda_.invoke("on_alarm", fleet.sns_event(ok))
    [update] = slack.calls_to("chat.update")
    original = slack.messages[(update.args["channel"], update.args["ts"])]
    assert original.blocks[0]["text"]["text"].startswith("RESOLVED:")
    assert not any(b["type"] == "actions" for b in original.blocks)
    replies = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(replies) == 1
    assert replies[0].args["thread_ts"] == update.args["ts"]
    assert "12 min" in replies[0].args["text"]
    assert first.args["channel"] == "#ops-alarms"


def _plus_minutes(hhmm: str, minutes: int) -> str:
    h, m = map(int, hhmm.split(":"))
    total = (h * 60 + m + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def test_malformed_record_is_skipped_and_the_good_one_posted(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "dlq_backlog")
    junk = fleet.sns_event({"AlarmName": "x"})["Records"][0]
    junk["Sns"]["Message"] = "not json"
    event = {"Records": [junk, *scenario.event["Records"]]}
    result = client.lambda_.invoke("on_alarm", event)
    assert result.payload["posted"] == 1
    assert "Records[0]" in result.payload["skipped"][0]
    assert len(posts(slack)) == 1


def test_slack_down_fails_the_invocation_and_the_retry_posts_once(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "timeout")
    slack.fail_next.extend(["http_500", "http_500"])  # the first attempt and its one quick retry
    with pytest.raises(Exception, match="slack"):
        client.lambda_.invoke("on_alarm_event", scenario.event)
    assert slack.messages == {}
    client.lambda_.invoke("on_alarm_event", scenario.event)  # Lambda's retry
    assert len(slack.messages) == 1


def test_failure_records_from_sqs_are_diagnosed(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "downstream_throttling")
    client.lambda_.invoke("on_failure", scenario.event)
    [call] = slack.calls_to("chat.postMessage")
    assert "downstream throttling" in call.args["text"]
    assert "invoice-mailer" in call.args["text"]


def test_sample_destination_record_without_the_function_still_posts(
    client: Client, slack: FakeSlack
) -> None:
    client.lambda_.invoke("on_failure", load_event("sqs-wrapped-destination-record.json"))
    [call] = slack.calls_to("chat.postMessage")
    context = json.dumps(call.args["blocks"])
    assert "could not check function configuration: ResourceNotFoundException" in context


def test_composite_alarm_is_traced_to_its_child_alarm_resource(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    seed(aws, "throttling")
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="payments-capture-throttles",
        MetricName="Throttles",
        Namespace="AWS/Lambda",
        Dimensions=[{"Name": "FunctionName", "Value": "payments-capture"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    composite = load_event("alarm-composite.json")
    client.lambda_.invoke("on_alarm", fleet.sns_event(composite))
    [call] = slack.calls_to("chat.postMessage")
    assert "payments-capture" in call.args["text"]


def test_an_alarm_action_invoking_the_function_directly_is_diagnosed(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    scenario = seed(aws, "timeout")  # orders-processor, which lambda-alarm-action.json names
    event = load_event("lambda-alarm-action.json")
    event["time"] = event["alarmData"]["state"]["timestamp"] = scenario.event["detail"]["state"][
        "timestamp"
    ]
    result = client.lambda_.invoke("on_alarm_action", event)
    assert result.payload["posted"] == 1
    [post] = posts(slack)
    assert "orders-processor-errors" in post["text"]
    assert "timeout" in post["text"]


def link_buttons(post: dict[str, Any]) -> list[str]:
    return [
        e["url"]
        for b in post["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if "url" in e
    ]


def test_a_runbook_tag_on_the_function_or_the_alarm_is_a_link_button(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    """The alarm's tag wins over the function's; a tag that is not an https URL is no link."""
    lam, cw = aws.client("lambda"), aws.client("cloudwatch")
    throttled, slow, oom = (seed(aws, k) for k in ("throttling", "timeout", "out_of_memory"))
    for scenario, url in (
        (throttled, "https://wiki.example.com/runbooks/payments?step=1&team=pay"),
        (slow, "javascript:alert(1)"),
        (oom, "http://wiki.example.com/not-https"),
    ):
        arn = lam.get_function_configuration(FunctionName=scenario.function)["FunctionArn"]
        lam.tag_resource(Resource=arn, Tags={"runbook": url})
    alarm = cw.describe_alarms(AlarmNames=["orders-processor-duration"])["MetricAlarms"][0]
    cw.tag_resource(
        ResourceARN=alarm["AlarmArn"], Tags=[{"Key": "Runbook", "Value": "https://rb.example/slow"}]
    )
    for scenario in (throttled, slow, oom):
        client.lambda_.invoke(scenario.handler, scenario.event)
    first, second, third = posts(slack)
    assert link_buttons(first) == ["https://wiki.example.com/runbooks/payments?step=1&team=pay"]
    assert link_buttons(second) == ["https://rb.example/slow"]
    assert link_buttons(third) == []
    from tests.functional.test_ops_commands import click

    # Slack opens the link and still sends the click: acknowledged, nothing answered.
    assert click(client, os.environ["SLACK_API_URL"], "runbook_link", "").status_code == 200
    assert not [c for c in slack.calls if c.method.startswith("response/")]


def test_an_alarm_whose_runbook_link_slack_refuses_is_told_without_it_and_edited_from_that(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    """Slack refuses a whole message for one URL it will not take: the alarm goes out without the
    link, and its later edits start from what was posted, so they are not refused either."""
    lam = aws.client("lambda")
    scenario = seed(aws, "throttling")
    url = "https://wiki.example.com/runbooks/payments"
    arn = lam.get_function_configuration(FunctionName=scenario.function)["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"runbook": url})
    slack.refused_urls = (url,)
    client.lambda_.invoke(scenario.handler, scenario.event)
    refused, posted = posts(slack)
    assert link_buttons(refused) == [url] and link_buttons(posted) == []
    assert "Raise reserved concurrency" in json.dumps(posted["blocks"])  # the fix stays
    [message] = slack.channel_messages()
    assert message.text == posted["text"]
    from tests.functional.test_ops_commands import click

    ack = next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "alarm_ack"
    )
    click(client, os.environ["SLACK_API_URL"], ack["action_id"], ack["value"])
    acknowledged = slack.messages[(message.channel, message.ts)]
    assert "UOPERATOR" in json.dumps(acknowledged.blocks)  # the edit was taken
