"""The alarm path under the faults Lambda, SNS, EventBridge and Slack produce in normal operation.

Each case ends with exactly one message per alarm episode, in the right state, or with the
delivery failed so that Lambda retries it: never success with nothing posted.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.alarms.delivery import Attempt, on_event
from chalicelib.aws.errors import Upstream
from chalicelib.container import Container
from chalicelib.events.ingest import parse_event, parse_time
from chalicelib.store.table import Table
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import atomic_store

CHANNEL = "C0OPSALARM"  # what the fake Slack calls #ops-alarms


def throttling(aws: boto3.Session) -> dict[str, Any]:
    """The scenario's alarm message (not yet wrapped for SNS)."""
    [scenario] = fleet.seed(["throttling"], aws)
    return dict(json.loads(scenario.event["Records"][0]["Sns"]["Message"]))


def at(message: dict[str, Any], state: str, minutes: float) -> dict[str, Any]:
    """The same alarm in `state`, `minutes` after the message's own state change, via SNS."""
    when = parse_time(message["StateChangeTime"]) + timedelta(minutes=minutes)
    changed = {
        **message,
        "NewStateValue": state,
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "NewStateReason": f"now {state}",
        "StateChangeTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
    }
    return fleet.sns_event(changed)


def key_of(event: dict[str, Any]) -> str:
    return parse_event(event).signals[0].dedupe_key


def later(seconds: float) -> Any:
    return lambda: time.time() + seconds


def replies(slack: FakeSlack) -> list[Any]:
    return [m for m in slack.messages.values() if m.thread_ts]


class LostAnswers:
    """A table whose chosen writes fail, or commit and then are sent again as botocore does
    when the answer to a committed write is lost."""

    def __init__(self, inner: Table, *, resend: int = 0, fail: Any = None) -> None:
        self.inner, self.resend, self.fail = inner, resend, fail

    def put(self, item: Any, condition: Any = None, *, return_old: bool = False) -> Any:
        if self.fail is not None and self.fail(item):
            raise Upstream("dynamodb", "connection reset", "ConnectionClosedError")
        old = self.inner.put(item, condition, return_old=return_old)
        if self.resend:  # the answer lost: what the caller sees is the resent write's
            self.resend -= 1
            old = self.inner.put(item, condition, return_old=return_old)
        return old

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_claim_left_by_a_killed_attempt_fails_the_retry_until_it_lapses(
    client: Client, aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = fleet.sns_event(throttling(aws))
    deliveries = bot_env.alarm_deps.deliveries
    deliveries.claim(key_of(event), "req-killed", time.time() + 3)  # killed at its timeout
    with pytest.raises(Exception, match="another attempt"):
        client.lambda_.invoke("on_alarm", event)
    assert slack.channel_messages(CHANNEL) == []
    deliveries.clock = later(60)  # past the killed attempt's deadline
    client.lambda_.invoke("on_alarm", event)
    assert len(slack.channel_messages(CHANNEL)) == 1


def test_a_claim_whose_answer_was_lost_is_still_ours(
    client: Client, aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    deliveries = bot_env.alarm_deps.deliveries
    deliveries.table = LostAnswers(deliveries.table, resend=1)
    result = client.lambda_.invoke("on_alarm", fleet.sns_event(throttling(aws)))
    assert result.payload["posted"] == 1
    assert len(slack.channel_messages(CHANNEL)) == 1


def test_slack_down_and_the_release_lost_the_retry_fails_then_posts_once(
    client: Client, aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = fleet.sns_event(throttling(aws))
    deliveries = bot_env.alarm_deps.deliveries
    inner = deliveries.table
    deliveries.table = LostAnswers(inner, fail=lambda item: item.get("lease_until") == 0)
    slack.fail_next.extend(["http_500", "http_500"])
    with pytest.raises(Exception, match="slack"):
        client.lambda_.invoke("on_alarm", event)
    with pytest.raises(Exception, match="another attempt"):
        client.lambda_.invoke("on_alarm", event)  # never "duplicate" with nothing posted
    deliveries.table, deliveries.clock = inner, later(60)
    client.lambda_.invoke("on_alarm", event)
    assert len(slack.channel_messages(CHANNEL)) == 1


def test_a_long_retry_after_fails_fast_instead_of_outliving_the_invocation(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    event = fleet.sns_event(throttling(aws))
    slack.fail_next.extend(["rate_limited:30", "rate_limited:30"])
    for _ in range(2):  # each attempt is told to wait 30 s: more than it has, so it fails now
        started = time.monotonic()
        with pytest.raises(Exception, match="ratelimited"):
            client.lambda_.invoke("on_alarm", event)
        assert time.monotonic() - started < 10  # the test context gives an attempt 3 s
    client.lambda_.invoke("on_alarm", event)
    assert len(slack.channel_messages(CHANNEL)) == 1


def test_a_post_whose_answer_was_lost_is_found_not_made_twice(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    slack.drop_after.append("chat.postMessage")
    result = client.lambda_.invoke("on_alarm", fleet.sns_event(throttling(aws)))
    assert result.payload["posted"] == 1
    assert len(slack.channel_messages(CHANNEL)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_state_lost_after_the_post_the_retry_adopts_the_message(
    client: Client, aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = fleet.sns_event(throttling(aws))
    states = bot_env.alarm_deps.states
    inner = states.table
    failures = [1]

    def once(item: Any) -> bool:
        if str(item["pk"]).startswith("alarm#") and failures:
            failures.pop()
            return True
        return False

    states.table = LostAnswers(inner, fail=once)
    with pytest.raises(Exception, match="connection reset"):
        client.lambda_.invoke("on_alarm", event)
    client.lambda_.invoke("on_alarm", event)  # Lambda's retry
    [message] = slack.channel_messages(CHANNEL)
    record = states.get(parse_event(event).signals[0].arn)  # type: ignore[union-attr]
    assert record is not None and record.message is not None
    assert record.message.ts == message.ts


def test_a_recovery_reply_whose_answer_was_lost_is_found_not_made_twice(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    client.lambda_.invoke("on_alarm", at(message, "ALARM", 0))
    slack.drop_after.append("chat.postMessage")
    client.lambda_.invoke("on_alarm", at(message, "OK", 12))
    assert len(replies(slack)) == 1
    [shown] = slack.channel_messages(CHANNEL)
    assert shown.blocks[0]["text"]["text"].startswith("RESOLVED:")


def test_an_ok_before_its_alarm_shows_the_alarm_already_resolved(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    client.lambda_.invoke("on_alarm", at(message, "OK", 5))
    assert slack.channel_messages(CHANNEL) == []
    client.lambda_.invoke("on_alarm", at(message, "ALARM", 0))
    [shown] = slack.channel_messages(CHANNEL)
    assert shown.blocks[0]["text"]["text"].startswith("RESOLVED:")
    assert "after 5 min 0 s" in json.dumps(shown.blocks)
    [told] = replies(slack)  # its recovery in the thread, as when the OK comes second
    assert "is back to OK after 5 min 0 s" in told.text


def test_an_alarm_and_its_ok_in_flight_together_end_resolved(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    message = throttling(aws)
    deps = atomic_store(bot_env)
    errors: list[BaseException] = []

    def deliver(event: dict[str, Any], attempt: str) -> None:
        try:
            on_event(event, deps, Attempt(attempt, time.time() + 60))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    alarm = threading.Thread(target=deliver, args=(at(message, "ALARM", 0), "req-alarm"))
    ok = threading.Thread(target=deliver, args=(at(message, "OK", 3), "req-ok"))
    alarm.start()
    time.sleep(0.05)
    ok.start()
    alarm.join()
    ok.join()
    assert errors == []
    [shown] = slack.channel_messages(CHANNEL)
    assert shown.blocks[0]["text"]["text"].startswith("RESOLVED:")
    assert len(replies(slack)) == 1


def test_a_stale_ok_never_resolves_a_newer_firing(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    client.lambda_.invoke("on_alarm", at(message, "ALARM", 0))
    client.lambda_.invoke("on_alarm", at(message, "OK", -120))  # from an episode two hours ago
    [shown] = slack.channel_messages(CHANNEL)
    assert shown.blocks[0]["text"]["text"].startswith("ALARM:")
    assert slack.calls_to("chat.update") == []
    assert replies(slack) == []


def test_the_recovery_of_a_deleted_message_is_posted_anew(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    client.lambda_.invoke("on_alarm", at(message, "ALARM", 0))
    [shown] = slack.channel_messages(CHANNEL)
    del slack.messages[(shown.channel, shown.ts)]  # someone deleted it
    client.lambda_.invoke("on_alarm", at(message, "OK", 7))
    [fresh] = slack.channel_messages(CHANNEL)
    assert "back to OK after 7 min" in fresh.text


def test_twenty_flaps_in_two_minutes_are_one_message_with_a_flap_count(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    for i in range(20):
        state = "ALARM" if i % 2 == 0 else "OK"
        client.lambda_.invoke("on_alarm", at(message, state, i * 0.1))
    assert len(slack.channel_messages(CHANNEL)) <= 2
    [shown] = slack.channel_messages(CHANNEL)
    assert "fired 10 times" in json.dumps(shown.blocks)


def test_a_duplicate_ok_is_applied_once(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    message = throttling(aws)
    client.lambda_.invoke("on_alarm", at(message, "ALARM", 0))
    for _ in range(3):
        client.lambda_.invoke("on_alarm", at(message, "OK", 4))
    assert len(replies(slack)) == 1
    assert len(slack.calls_to("chat.update")) == 1
