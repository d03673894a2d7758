"""Storms: many alarms in one account within minutes are one summary, with none lost."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
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
    reads: list[str] = []
    for operation in ("GetFunctionConfiguration", "ListTags"):
        bot_env.aws.client("lambda").meta.events.register(
            f"before-parameter-build.lambda.{operation}",
            lambda model, params, **_: reads.append(
                f"{model.name} {params.get('FunctionName') or params.get('Resource')}"
            ),
        )
    for event in events:
        client.lambda_.invoke("on_alarm", event)
    assert reads and len(reads) == len(set(reads))  # each function's read once for its alarms
    top = slack.channel_messages(CHANNEL)
    assert len(top) == 5  # four alarms as usual, then the storm's summary
    summary = top[-1]
    assert summary.blocks[0]["text"]["text"] == "ALARM STORM: 12 alarms on 6 function(s)"
    text = json.dumps(summary.blocks)
    assert "One dependency throttles them: `PutItem`" in text
    assert all(name in text for name in names(events))
    thread = [m for m in slack.messages.values() if m.thread_ts == summary.ts]
    assert len(thread) <= 6  # one diagnosis per function, not one per alarm


def ten_times_fast(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> None:
    """Slack's one post a second per channel, on a clock ten times fast: the fake refuses a second
    post within 0.1 s with a 429 saying `Retry-After: 1`, and slack_sdk's wait for it takes a
    tenth as long. The deadline the bot weighs a wait against is not sped up."""
    import time

    from slack_sdk.http_retry import builtin_handlers

    slack.post_interval_s = 0.1
    fast = SimpleNamespace(sleep=lambda s: time.sleep(s / 10))
    monkeypatch.setattr(builtin_handlers, "time", fast)


def test_a_storm_of_120_alarms_with_slack_at_one_post_a_second_loses_none(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_redraws(bot_env)
    events = fleet.storm(aws, functions=30, alarms=120)
    ten_times_fast(monkeypatch, slack)
    delivered = deliver_all(events, atomic_store(bot_env))
    assert delivered.dead == []  # none would reach the bot's DLQ
    assert len(slack.calls_to("chat.postMessage")) > len(slack.messages)  # 429s were waited out
    top = slack.channel_messages(CHANNEL)
    assert len(top) <= 5
    assert top[-1].blocks[0]["text"]["text"] == "ALARM STORM: 120 alarms on 30 function(s)"
    thread = [m for m in slack.messages.values() if m.thread_ts == top[-1].ts]
    assert len(thread) <= 30  # one diagnosis per function
    said = everything_said(slack)
    assert sorted(n for n in names(events) if n not in said) == []


def test_a_storm_of_1000_alarms_on_40_functions_loses_none_and_keeps_to_its_budget(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    """One item per alarm: the storm record passed DynamoDB's 400 KB at about the 448th alarm,
    and every delivery after it failed (and redrew the summary). Eight handlers at a time put
    1,000 alarms into one storm on the store's twin, which refuses items over 400 KB as DynamoDB
    does. One real diagnosis, gathered on moto, stands for the 40 functions' (25 alarms each)."""
    import dataclasses
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from chalicelib.diagnosis.gather import gather
    from chalicelib.diagnosis.rules import diagnose
    from chalicelib.events.ingest import parse_event

    deps = atomic_store(bot_env)
    desk = deps.storms
    [first] = [parse_event(e).signals[0] for e in fleet.storm(aws, functions=1, alarms=1)]
    base = diagnose(gather(first, deps.aws))  # one function's real evidence, for all forty
    diagnoses = []
    for i in range(1000):
        function = f"order-step-{i % 40 + 1:02d}"
        # Names as teams write them (the review measured ~840 bytes of state per alarm).
        name = f"prod-{function}-Errors-over-5-percent-of-invocations-for-3-periods-n{i:04d}"
        signal = dataclasses.replace(
            first,
            name=name,
            arn=first.arn.rsplit(":", 1)[0] + f":{name}",
            time=first.time + timedelta(milliseconds=60 * i),
        )
        resource = dataclasses.replace(base.evidence.resource, name=function)
        evidence = dataclasses.replace(base.evidence, signal=signal, resource=resource)
        diagnoses.append(dataclasses.replace(base, evidence=evidence))

    failed: list[str] = []
    lock = threading.Lock()

    def show(i: int) -> None:
        d = diagnoses[i]
        for attempt in range(3):  # Lambda's two retries
            try:
                desk.show(
                    d,
                    d.evidence.signal.dedupe_key,
                    attempt > 0,
                    f"req-{i}-{attempt}",
                    time.time() + 60,
                )
                return
            except Exception as exc:
                with lock:
                    failed.append(f"{i}: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(show, range(1000)))
    took = time.monotonic() - started

    assert failed == []  # no delivery failed, so none would reach the bot's DLQ
    top = slack.channel_messages(CHANNEL)
    summary = top[-1]
    assert len(top) == 5  # four alarms before the storm opened, then its summary
    assert summary.blocks[0]["text"]["text"] == "ALARM STORM: 1000 alarms on 40 function(s)"
    storm = desk.storms.get(diagnoses[0].evidence.signal.account)
    assert storm is not None and storm.count == 1000
    assert len(desk.storms.full(storm).entries) == 1000  # each alarm an item of its own
    thread = [m for m in slack.messages.values() if m.thread_ts == summary.ts]
    assert len(thread) == 40  # one diagnosis per function
    updates = len(slack.calls_to("chat.update"))
    assert updates <= took / desk.rules.redraw_s + 3  # redrawn at most every 3 s (Tier 3)
