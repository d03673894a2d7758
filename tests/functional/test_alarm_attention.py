"""Acting on alarm messages through signed Slack requests: Acknowledge, reminders, snooze."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.alarms.delivery import Attempt, on_event
from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.test_ops_commands import (
    OPERATOR,
    STRANGER,
    action_id,
    answers,
    click,
    signed,
    slash,
)

ALARM_CHANNEL = {"id": "C0ALARMS", "name": "ops-alarms"}  # where a click in the alarm channel is


def buttons(message: Any) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def labelled(message: Any, label: str) -> dict[str, Any]:
    return next(b for b in buttons(message) if b["text"]["text"] == label)


def text_of(message: Any) -> str:
    return str(message.blocks)


def arn_of(scenario: fleet.Scenario) -> str:
    if "Records" in scenario.event:
        return str(json.loads(scenario.event["Records"][0]["Sns"]["Message"])["AlarmArn"])
    return str(scenario.event["resources"][0])


def ok_of(event: dict[str, Any]) -> dict[str, Any]:
    """The OK of an SNS alarm notification, five minutes after it fired."""
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    fired = datetime.strptime(message["StateChangeTime"][:19], "%Y-%m-%dT%H:%M:%S")
    ok = {
        **message,
        "NewStateValue": "OK",
        "OldStateValue": "ALARM",
        "NewStateReason": "back under the threshold",
        "StateChangeTime": (fired + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }
    return fleet.sns_event(ok)


def fire(container: Container, scenario: fleet.Scenario, attempt: str = "a1") -> None:
    on_event(scenario.event, container.alarm_deps, Attempt(attempt, time.time() + 60))


def posted(container: Container, session: boto3.Session, slack: FakeSlack) -> Any:
    """The out-of-memory alarm fired and posted: (its scenario, its message, its Acknowledge)."""
    [scenario] = fleet.seed(["out_of_memory"], session)
    fire(container, scenario)
    [message] = slack.channel_messages()
    return scenario, message, labelled(message, "Acknowledge")


def test_acknowledge_shows_who_in_the_message_and_a_second_click_is_told(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    _, message, ack = posted(bot_env, aws, slack)
    assert ack["value"].endswith(":alarm:image-resizer-errors")
    click(client, slack_url, ack["action_id"], ack["value"])
    assert f"Acknowledged by <@{OPERATOR}>" in text_of(message)  # edited in place
    assert "Acknowledge" not in [b["text"]["text"] for b in buttons(message)]
    assert "Snooze 1 h" in [b["text"]["text"] for b in buttons(message)]
    click(client, slack_url, ack["action_id"], ack["value"])
    first, second = (a["text"] for a in answers(slack))
    assert first.startswith("Acknowledged") and "reminders stop" in first
    assert second == f"Already acknowledged by <@{OPERATOR}>; nothing changed."
    assert message.edits == 1


def test_a_stranger_outside_the_alarm_channel_may_not_acknowledge_from_home(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    """Anyone in the workspace could open Home and acknowledge every open alarm."""
    _, message, ack = posted(bot_env, aws, slack)
    click(client, slack_url, ack["action_id"], ack["value"], user=STRANGER, on_home=True)
    click(client, slack_url, ack["action_id"], ack["value"], user=STRANGER)  # in channel C1
    refusals = [
        c.args["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == STRANGER
    ]
    refusals += [a["text"] for a in answers(slack)]
    assert len(refusals) == 2
    assert all("operators and viewers" in r and "nothing changed" in r for r in refusals)
    assert "Acknowledged by" not in text_of(message) and message.edits == 0
    record = bot_env.alarm_deps.states.get(ack["value"])
    assert record is not None and not record.extra.get("ack")  # its reminders go on


def test_anyone_in_the_alarm_channel_may_acknowledge_there(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    """The alarm channel is a viewer channel: its members see the alarm and may say they are on it."""
    _, message, ack = posted(bot_env, aws, slack)
    click(client, slack_url, ack["action_id"], ack["value"], user=STRANGER, channel=ALARM_CHANNEL)
    assert f"Acknowledged by <@{STRANGER}>" in text_of(message)


def test_a_recovery_keeps_the_acknowledgement(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    scenario, message, ack = posted(bot_env, aws, slack)
    click(client, slack_url, ack["action_id"], ack["value"])
    on_event(ok_of(scenario.event), bot_env.alarm_deps, Attempt("a2", time.time() + 60))
    assert "RESOLVED" in message.text and f"Acknowledged by <@{OPERATOR}>" in text_of(message)


def _remind(client: Client) -> dict[str, int]:
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return client.lambda_.invoke("alarm_reminders", event).payload  # type: ignore[no-any-return]


@pytest.fixture
def quick_reminders(monkeypatch: pytest.MonkeyPatch, aws: boto3.Session) -> Container:
    """Reminders every 6 s (the seeded alarm fired 30 s ago), @here for image-* alarms."""
    from tests.functional.conftest import serve

    monkeypatch.setenv("SHEPHERD_REMIND_AFTER", "0.1")
    monkeypatch.setenv("SHEPHERD_REMIND_HERE", "image-*")
    return serve(aws)


def test_reminders_come_in_the_thread_at_most_n_times_and_stop_on_acknowledge(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    bot_env: Container,
    quick_reminders: Container,
) -> None:
    oom, slow = fleet.seed(["out_of_memory", "timeout"], aws)
    fire(quick_reminders, oom)
    fire(quick_reminders, slow, "a2")
    oom_message, slow_message = slack.channel_messages()
    ack = labelled(slow_message, "Acknowledge")
    click(client, slack_url, ack["action_id"], ack["value"])
    rounds = [_remind(client) for _ in range(4)]
    assert [r["reminded"] for r in rounds] == [1, 1, 1, 0]  # image-resizer only, three times
    thread = [m for m in slack.messages.values() if m.thread_ts == oom_message.ts]
    assert len(thread) == 3
    assert all(m.text.startswith("<!here> :alarm_clock: *image-resizer-errors*") for m in thread)
    assert "reminder 3 of 3" in sorted(m.text for m in thread)[-1]
    assert not [m for m in slack.messages.values() if m.thread_ts == slow_message.ts]


def test_no_here_unless_configured_and_a_recovered_alarm_leaves_the_round(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    from tests.functional.conftest import serve

    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHEPHERD_REMIND_AFTER", "0.1")
        built = serve(aws)
    oom, slow = fleet.seed(["out_of_memory", "timeout"], aws)
    fire(built, oom)
    fire(built, slow, "a2")
    on_event(ok_of(oom.event), built.alarm_deps, Attempt("a3", time.time() + 60))
    assert _remind(client) == {"reminded": 1, "closed": 0, "failed": 0}
    [reminder] = [m for m in slack.messages.values() if m.thread_ts and "alarm_clock" in m.text]
    assert reminder.text.startswith(":alarm_clock: *orders-processor-duration*")  # no @here
    assert built.alarm_deps.states.open_arns() == [arn_of(slow)]


def test_a_reminder_whose_answer_was_lost_is_not_posted_twice(
    client: Client, slack: FakeSlack, aws: boto3.Session, bot_env: Container, quick_reminders: Any
) -> None:
    [oom] = fleet.seed(["out_of_memory"], aws)
    fire(quick_reminders, oom)
    slack.drop_after.append("chat.postMessage")  # posted, then the connection drops
    first = _remind(client)
    second = _remind(client)
    thread = [m for m in slack.messages.values() if m.thread_ts]
    assert len(thread) == 2 and first["reminded"] == second["reminded"] == 1
    assert len({m.text for m in thread}) == 2  # reminder 1 once, then reminder 2


# --- snooze: a mute rule, answered by the local AWS front (moto lacks mute rules) ------------


@pytest.fixture
def front(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> Iterator[boto3.Session]:
    """moto as a server behind devtools/aws_gaps.py, as `make run` has it."""
    from moto.server import ThreadedMotoServer

    from chalicelib.aws.dynamodb import create_table
    from devtools.aws_gaps import AwsGapsServer
    from tests.functional.conftest import BOT_TOKEN, SIGNING_SECRET, serve

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with AwsGapsServer(f"http://{host}:{port}") as gaps:
        for name, value in {
            "AWS_ENDPOINT_URL": gaps.url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SHEPHERD_CHANNEL": "#ops-alarms",
            "SHEPHERD_OPERATORS": OPERATOR,
            "SHEPHERD_LAZY_IN_PROCESS": "1",
        }.items():
            monkeypatch.setenv(name, value)
        session = boto3.Session(region_name="us-east-1")
        create_table(session.client("dynamodb"), "shepherd-state")
        serve(session)
        yield session
    # The server keeps moto's state in this process: leave none for the next test.
    urllib.request.urlopen(
        urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
    ).close()
    server.stop()


@pytest.fixture
def front_client(front: boto3.Session) -> Iterator[Client]:
    from app import app

    with Client(app) as c:
        yield c


def mute_rule(session: boto3.Session, alarm: str) -> dict[str, Any] | None:
    from chalicelib.ops.actions.snooze import rule_name

    cw = session.client("cloudwatch")
    try:
        return dict(cw.get_alarm_mute_rule(AlarmMuteRuleName=rule_name(alarm)))
    except cw.exceptions.ResourceNotFoundException:
        return None


def test_snooze_is_a_mute_rule_honoured_for_eventbridge_and_undone(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    import app

    [scenario] = fleet.seed(["timeout"], front)  # its alarm comes by EventBridge
    alarm = "orders-processor-duration"
    slash(front_client, slack_url, f"snooze {alarm} 4h")
    preview = answers(slack)[0]
    assert f"Snooze *{alarm}*: not snoozed → muted until" in preview["text"]
    assert mute_rule(front, alarm) is None  # a preview changes nothing
    click(front_client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    rule = mute_rule(front, alarm)
    assert rule is not None and rule["MuteTargets"]["AlarmNames"] == [alarm]
    assert rule["Rule"]["Schedule"]["Expression"].startswith("at(")
    assert rule["Rule"]["Schedule"]["Duration"] in ("PT4H", "PT4H1M")
    assert abs(rule["ExpireDate"] - (datetime.now(UTC) + timedelta(hours=4))) < timedelta(minutes=2)

    container = app._container[0]
    fire(container, scenario)  # an EventBridge delivery, which a mute rule does not stop
    assert slack.channel_messages() == []
    record = container.alarm_deps.states.get(arn_of(scenario))
    assert record is not None and record.state == "ALARM" and "snoozed" in record.extra

    done = answers(slack)[1]
    click(front_client, slack_url, "ops_undo", action_id(done, "ops_undo"))
    undo = answers(slack)[2]
    assert "→ not snoozed" in undo["text"]
    click(front_client, slack_url, "ops_confirm", action_id(undo, "ops_confirm"))
    assert mute_rule(front, alarm) is None
    assert container.snoozes.active(arn_of(scenario)) is None


def test_a_fix_confirmed_from_its_alarm_is_shown_to_the_team_and_no_longer_offered(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    import app

    [scenario] = fleet.seed(["throttling"], front)
    fire(app._container[0], scenario)
    [message] = slack.channel_messages()
    fix = next(b for b in buttons(message) if b["text"]["text"].startswith("Raise reserved"))
    click(front_client, slack_url, fix["action_id"], fix["value"], channel=ALARM_CHANNEL)
    preview = answers(slack)[-1]
    assert preview["response_type"] == "ephemeral"  # a preview is for its operator
    click(front_client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    deleted, result = [c.args for c in slack.calls if c.method.startswith("response/")][-2:]
    assert str(deleted.get("delete_original")) == "True"  # the preview goes…
    assert result["response_type"] == "in_channel"  # …and the change is shown to all
    assert f"<@{OPERATOR}> ran `/ops {fix['value'].removeprefix('/ops ')}`" in result["text"]

    shown = [b["text"]["text"] for b in buttons(message)]
    assert fix["text"]["text"] not in shown and "Acknowledge" in shown
    assert f"Fix applied by <@{OPERATOR}>" in text_of(message)
    ack = labelled(message, "Acknowledge")
    click(front_client, slack_url, ack["action_id"], ack["value"], channel=ALARM_CHANNEL)
    assert fix["text"]["text"] not in [b["text"]["text"] for b in buttons(message)]  # redrawn


def test_an_alarm_in_another_region_snoozes_and_shows_its_status_there(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    """The demo's checkout-api alarm is in eu-west-1: its buttons go there."""
    import app

    [scenario] = fleet.seed(["recent_deploy"], front)
    fire(app._container[0], scenario)
    [message] = slack.channel_messages()
    snooze, status = labelled(message, "Snooze 1 h"), labelled(message, "Status")
    assert snooze["value"].endswith("--region eu-west-1")
    click(front_client, slack_url, snooze["action_id"], snooze["value"])
    click(front_client, slack_url, status["action_id"], status["value"])
    preview, shown = (a["text"] for a in answers(slack))
    assert "Snooze *checkout-api-error-rate*: not snoozed → muted until" in preview
    assert "Last hour: 0 invocations" not in shown and "invocations" in shown


def test_the_snooze_button_of_an_alarm_previews_its_snooze(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    import app

    [scenario] = fleet.seed(["out_of_memory"], front)
    fire(app._container[0], scenario)
    [message] = slack.channel_messages()
    snooze = labelled(message, "Snooze until tomorrow 09:00")
    assert snooze["value"] == "/ops snooze image-resizer-errors tomorrow"
    click(front_client, slack_url, snooze["action_id"], snooze["value"])
    preview = answers(slack)[0]["text"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert f"muted until {tomorrow} 09:00 UTC" in preview


def test_snooze_of_an_unknown_alarm_is_a_usage_answer(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(front_client, slack_url, 'snooze "no such alarm" 1h')
    assert "no alarm `no such alarm`" in answers(slack)[0]["text"]


def test_a_stranger_may_not_snooze(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    fleet.seed(["out_of_memory"], front)
    slash(front_client, slack_url, "snooze image-resizer-errors 1h", user=STRANGER)
    assert "Refused" in answers(slack)[0]["text"]
    assert mute_rule(front, "image-resizer-errors") is None


# --- graphs: GetMetricWidgetImage (drawn by the local front from moto's data) ---------------


def test_the_alarm_thread_gets_a_graph_of_the_evidence(
    front: boto3.Session, slack: FakeSlack
) -> None:
    import app

    [scenario] = fleet.seed(["timeout"], front)
    fire(app._container[0], scenario)
    [message] = slack.channel_messages()
    [upload] = slack.uploads.values()
    assert upload.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (upload.channel, upload.thread_ts) == (message.channel, message.ts)
    assert upload.title == "orders-processor: timeout"
    assert upload.filename.startswith("orders-processor-timeout-")
    assert "DurationMax, last 3 h" in text_of(message)  # and the sparkline in the message


def test_an_upload_refused_by_slack_leaves_the_alarm_posted_and_the_delivery_done(
    front: boto3.Session, slack: FakeSlack
) -> None:
    import app

    [scenario] = fleet.seed(["out_of_memory"], front)
    slack.refuse["files.getUploadURLExternal"] = "missing_scope"  # no `files:write`
    fire(app._container[0], scenario)  # raises if the delivery failed
    [message] = slack.channel_messages()
    assert message.text.startswith("ALARM") and slack.uploads == {}
    fire(app._container[0], scenario, "a2")  # a redelivery is a duplicate: nothing more
    assert len(slack.channel_messages()) == 1


# --- the Home tab ---------------------------------------------------------------------------


def open_home(client: Client, user: str = OPERATOR) -> Any:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D1",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
        }
    )
    headers = {**signed(body), "Content-Type": "application/json"}
    return client.http.post("/slack/events", headers=headers, body=body)


def home_text(slack: FakeSlack, user: str = OPERATOR) -> str:
    return json.dumps(slack.home_views[user]["blocks"], ensure_ascii=False)


def test_home_shows_open_alarms_snoozes_changes_and_the_last_audit(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    import app

    oom, _ = fleet.seed(["out_of_memory", "timeout"], front)
    fire(app._container[0], oom)
    slash(front_client, slack_url, "snooze orders-processor-duration 4h")
    click(front_client, slack_url, "ops_confirm", action_id(answers(slack)[-1], "ops_confirm"))
    slash(front_client, slack_url, "memory image-resizer 1024")
    click(front_client, slack_url, "ops_confirm", action_id(answers(slack)[-1], "ops_confirm"))
    event = front_client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    front_client.lambda_.invoke("nightly_iam_audit", event)

    assert open_home(front_client).status_code == 200
    view = slack.home_views[OPERATOR]
    assert view["type"] == "home"
    text = home_text(slack)
    assert "Open alarms (1)" in text and "*image-resizer-errors*" in text
    assert "*nobody on it*" in text
    assert "Snoozed (1)" in text and "*orders-processor-duration* until" in text
    assert "Changes in the last 24 h (2)" in text and "`/ops memory image-resizer 1024`" in text
    assert "IAM audit" in text and "Last run" in text
    undo_buttons = [
        b["accessory"]["value"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == "ops_undo"
    ]
    assert len(undo_buttons) == 3  # the snooze (under Snoozed and Changes) and the memory change


def test_acknowledge_and_undo_from_home_answer_by_direct_message(
    front: boto3.Session, front_client: Client, slack_url: str, slack: FakeSlack
) -> None:
    import app

    [oom] = fleet.seed(["out_of_memory"], front)
    fire(app._container[0], oom)
    slash(front_client, slack_url, "memory image-resizer 1024")
    click(front_client, slack_url, "ops_confirm", action_id(answers(slack)[-1], "ops_confirm"))
    done = answers(slack)[-1]
    open_home(front_client)
    ack = next(
        b["accessory"]
        for b in slack.home_views[OPERATOR]["blocks"]
        if b.get("accessory", {}).get("action_id") == "alarm_ack"
    )
    click(front_client, slack_url, "alarm_ack", ack["value"], on_home=True)
    [message] = slack.channel_messages()
    assert f"Acknowledged by <@{OPERATOR}>" in text_of(message)
    assert f"acknowledged by <@{OPERATOR}>" in home_text(slack)  # the Home tab redrawn
    dms = [c.args for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == OPERATOR]
    assert dms and dms[0]["text"].startswith("Acknowledged")
    click(front_client, slack_url, "ops_undo", action_id(done, "ops_undo"), on_home=True)
    dms = [c.args for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == OPERATOR]
    assert "1024 MB → 512 MB" in dms[-1]["text"]  # the undo's preview, with its Confirm


def test_a_storm_is_acknowledged_on_its_summary(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    for event in fleet.storm(aws, functions=6, alarms=12):
        client.lambda_.invoke("on_alarm", event)
    summary = slack.channel_messages()[-1]
    ack = labelled(summary, "Acknowledge")
    assert ack["value"] == "storm:123456789012"
    replies = [m for m in slack.messages.values() if m.thread_ts == summary.ts]
    assert replies and all("Acknowledge" not in text_of(m) for m in replies)  # the summary's
    assert all("Snooze 1 h" in text_of(m) for m in replies)  # each alarm can still be snoozed
    click(client, slack_url, ack["action_id"], ack["value"])
    assert f"Acknowledged by <@{OPERATOR}>" in text_of(summary)
    assert "Acknowledge" not in [b["text"]["text"] for b in buttons(summary)]
    click(client, slack_url, ack["action_id"], ack["value"], user=STRANGER, channel=ALARM_CHANNEL)
    assert answers(slack)[-1]["text"] == f"Already acknowledged by <@{OPERATOR}>; nothing changed."
    click(client, slack_url, ack["action_id"], ack["value"], user=STRANGER)  # elsewhere: refused
    assert "operators and viewers" in answers(slack)[-1]["text"]
