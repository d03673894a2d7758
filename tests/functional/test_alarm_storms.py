"""Storms: many alarms in one account within minutes are one summary, with none lost."""

from __future__ import annotations

import json
from typing import Any

import boto3
from chalice.test import Client

from chalicelib.alarms.storms import StormRules
from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from devtools.lambda_async import deliver_all
from tests.functional.conftest import atomic_store

CHANNEL = "C0OPSALARM"


def names(events: list[dict[str, Any]]) -> set[str]:
    return {json.loads(e["Records"][0]["Sns"]["Message"])["AlarmName"] for e in events}


def everything_said(slack: FakeSlack) -> str:
    return json.dumps([m.blocks for m in slack.messages.values()])


def quick_redraws(container: Container) -> None:
    """Redraw the summary every 0.2 s instead of 3 s, so that a test need not wait."""
    storms = container.alarm_deps.storms
    storms.rules = StormRules(storms.rules.threshold, storms.rules.window_s, redraw_s=0.2)


def test_a_burst_of_twelve_alarms_is_one_summary_naming_the_shared_cause(
    client: Client, aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    quick_redraws(bot_env)
    events = fleet.storm(aws, functions=6, alarms=12)
    for event in events:
        client.lambda_.invoke("on_alarm", event)
    top = slack.channel_messages(CHANNEL)
    assert len(top) == 5  # four alarms as usual, then the storm's summary
    summary = top[-1]
    assert summary.blocks[0]["text"]["text"] == "ALARM STORM: 12 alarms on 6 function(s)"
    text = json.dumps(summary.blocks)
    assert "One dependency throttles them: `PutItem`" in text
    assert all(name in text for name in names(events))
    thread = [m for m in slack.messages.values() if m.thread_ts == summary.ts]
    assert len(thread) <= 6  # one diagnosis per function, not one per alarm


def test_a_storm_of_120_alarms_with_slack_at_one_post_a_second_loses_none(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    quick_redraws(bot_env)
    events = fleet.storm(aws, functions=30, alarms=120)
    slack.post_interval_s = 1.0
    delivered = deliver_all(events, atomic_store(bot_env))
    assert delivered.dead == []  # none would reach the bot's DLQ
    top = slack.channel_messages(CHANNEL)
    assert len(top) <= 5
    assert top[-1].blocks[0]["text"]["text"] == "ALARM STORM: 120 alarms on 30 function(s)"
    thread = [m for m in slack.messages.values() if m.thread_ts == top[-1].ts]
    assert len(thread) <= 30  # one diagnosis per function
    said = everything_said(slack)
    assert sorted(n for n in names(events) if n not in said) == []
