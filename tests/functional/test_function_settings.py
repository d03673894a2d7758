"""`/ops memory` and `/ops timeout` through signed Slack requests, on moto."""

from __future__ import annotations

import boto3
from chalice.test import Client

from chalicelib.alarms.delivery import Attempt, on_event
from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.test_ops_commands import STRANGER, action_id, answers, click, slash


def config(aws: boto3.Session, function: str) -> dict[str, int]:
    c = aws.client("lambda").get_function_configuration(FunctionName=function)
    return {"memory": c["MemorySize"], "timeout": c["Timeout"]}


def test_memory_is_previewed_with_its_cost_confirmed_once_and_undone(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["out_of_memory"], aws)
    slash(client, slack_url, "memory image-resizer 1024")
    [preview] = answers(slack)
    assert "512 MB → 1024 MB" in preview["text"]
    assert "Monthly cost change: about +$" in preview["text"]
    assert config(aws, "image-resizer")["memory"] == 512  # a preview changes nothing
    confirm = action_id(preview, "ops_confirm")
    click(client, slack_url, "ops_confirm", confirm)
    click(client, slack_url, "ops_confirm", confirm)
    assert config(aws, "image-resizer")["memory"] == 1024
    done, again = answers(slack)[1:3]
    assert ":white_check_mark:" in done["text"] and "already done" in again["text"]
    click(client, slack_url, "ops_undo", action_id(done, "ops_undo"))
    undo = answers(slack)[3]
    assert "1024 MB → 512 MB" in undo["text"]
    click(client, slack_url, "ops_confirm", action_id(undo, "ops_confirm"))
    assert config(aws, "image-resizer")["memory"] == 512


def test_memory_outside_lambdas_limits_is_a_usage_answer(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["out_of_memory"], aws)
    slash(client, slack_url, "memory image-resizer 64")
    assert "from 128 to 10240" in answers(slack)[0]["text"]
    slash(client, slack_url, "timeout image-resizer 1000")
    assert "from 1 to 900" in answers(slack)[1]["text"]
    assert config(aws, "image-resizer") == {"memory": 512, "timeout": 60}


def test_a_stranger_may_not_change_memory(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["out_of_memory"], aws)
    slash(client, slack_url, "memory image-resizer 1024", user=STRANGER)
    assert "Refused" in answers(slack)[0]["text"]
    assert config(aws, "image-resizer")["memory"] == 512


def _fed_by_queue(aws: boto3.Session, function: str, visibility: int) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(
        QueueName="orders-in", Attributes={"VisibilityTimeout": str(visibility)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=function)


def test_timeout_above_an_sqs_sources_visibility_timeout_is_refused(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["timeout"], aws)
    _fed_by_queue(aws, "orders-processor", visibility=40)
    slash(client, slack_url, "timeout orders-processor 60")
    refused = answers(slack)[0]["text"]
    assert "above the 40 s visibility timeout of `orders-in`" in refused
    assert config(aws, "orders-processor")["timeout"] == 15
    slash(client, slack_url, "timeout orders-processor 30")
    preview = answers(slack)[1]
    assert "15 s → 30 s" in preview["text"]
    assert "under 6× 30 s" in preview["text"]  # allowed, with the duplicate risk said
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert config(aws, "orders-processor")["timeout"] == 30


def test_a_change_made_after_the_preview_is_not_overwritten(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["timeout"], aws)
    slash(client, slack_url, "timeout orders-processor 30")
    preview = answers(slack)[0]
    aws.client("lambda").update_function_configuration(FunctionName="orders-processor", Timeout=45)
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert config(aws, "orders-processor")["timeout"] == 45
    stale = answers(slack)[1]["text"]
    assert "45 s" in stale and "45 s → 30 s" in stale  # a fresh preview from the live value


def test_on_an_alias_of_a_published_version_the_preview_says_latest_only(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["downstream_throttling"], aws)
    fleet.releases(aws)
    slash(client, slack_url, "timeout invoice-mailer 45")
    text = answers(slack)[0]["text"]
    assert "changes `$LATEST` only" in text
    assert "`live` → v3" in text
    assert "/ops alias invoice-mailer live to &lt;version&gt;" in text  # Slack shows <version>


def test_the_out_of_memory_diagnosis_offers_more_memory_in_one_click(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    [scenario] = fleet.seed(["out_of_memory"], aws)
    on_event(scenario.event, bot_env.alarm_deps, Attempt("a1", 9e9))
    [message] = slack.channel_messages()
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    fix = buttons[0]
    assert fix["text"]["text"] == "Memory 512 → 768 MB"
    click(client, slack_url, fix["action_id"], fix["value"])
    preview = answers(slack)[0]
    assert "512 MB → 768 MB" in preview["text"]
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert config(aws, "image-resizer")["memory"] == 768


def test_the_timeout_diagnosis_offers_a_longer_timeout(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    [scenario] = fleet.seed(["timeout"], aws)
    on_event(scenario.event, bot_env.alarm_deps, Attempt("a1", 9e9))
    [message] = slack.channel_messages()
    values = [e["value"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert values[0] == "/ops timeout orders-processor 30"
