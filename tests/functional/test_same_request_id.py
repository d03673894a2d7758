"""One request id, more than one run: Lambda's async queue may hand an event to two execution
environments at once, and Lambda's retries keep the request id. Each case still ends with one
message per alarm episode, or with a run failed so that Lambda retries it.

The runs go through `app.on_alarm`, Lambda's entry point, with the request id in their context.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib.aws.dynamodb import Condition, Item
from chalicelib.container import Container
from chalicelib.store.table import Table
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import atomic_store

CHANNEL = "C0OPSALARM"  # what the fake Slack calls #ops-alarms
REQUEST_ID = "5f0c6a3e-8d4b-4c1e-9a57-2b8e1d0f7c42"


@dataclass
class Context:
    """What Lambda passes one run of the handler."""

    aws_request_id: str = REQUEST_ID
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def run(event: dict[str, Any], context: Context) -> dict[str, Any]:
    """One run of `on_alarm`, as Lambda makes it."""
    import app

    return app.on_alarm(event, context)  # type: ignore[no-any-return]


def throttling_event(aws: boto3.Session) -> dict[str, Any]:
    [scenario] = fleet.seed(["throttling"], aws)
    return scenario.event


def later(seconds: float) -> Callable[[], float]:
    return lambda: time.time() + seconds


class Overlapping:
    """A table on which the first two claim writes wait for each other once each is decided, so
    that two runs are past their claims together; a claim write may also be sent twice, as
    botocore does when the answer to a committed write is lost."""

    def __init__(self, inner: Table, *, resend: bool = False) -> None:
        self.inner, self.resend = inner, resend
        self.together = threading.Barrier(2, timeout=10)
        self.waiting = 2

    def put(
        self, item: Item, condition: Condition | None = None, *, return_old: bool = False
    ) -> Any:
        if not return_old or self.waiting <= 0:  # not a claim, or past the two that meet
            return self.inner.put(item, condition, return_old=return_old)
        self.waiting -= 1
        try:
            old = self.inner.put(item, condition, return_old=return_old)
            if self.resend:  # the answer lost: what the caller sees is the resent write's
                old = self.inner.put(item, condition, return_old=return_old)
            return old
        finally:
            self.together.wait()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Killed(BaseException):
    """Lambda stopped the run at its timeout: nothing of it runs on, not even its clean-up."""


class DiesAt:
    """A table in an execution environment that is killed at a chosen write: it and every
    write after it (releases, clean-up) never happen."""

    def __init__(self, inner: Table, at: Callable[[Item], bool]) -> None:
        self.inner, self.at, self.dead = inner, at, False

    def put(
        self, item: Item, condition: Condition | None = None, *, return_old: bool = False
    ) -> Any:
        if self.dead or self.at(item):
            self.dead = True
            raise Killed
        return self.inner.put(item, condition, return_old=return_old)

    def update(self, pk: str, sk: str, fields: Item) -> None:
        if self.dead:
            raise Killed
        self.inner.update(pk, sk, fields)

    def delete(self, pk: str, sk: str, condition: Condition | None = None) -> None:
        if self.dead:
            raise Killed
        self.inner.delete(pk, sk, condition)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def run_together(event: dict[str, Any], contexts: list[Context]) -> tuple[list[Any], list[str]]:
    """The runs at once, each on its own thread: what each returned, and why any failed."""
    results: list[Any] = []
    failures: list[str] = []

    def one(context: Context) -> None:
        try:
            results.append(run(event, context))
        except Exception as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=one, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def test_one_request_id_run_twice_at_once_posts_once_and_the_other_run_retries(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = throttling_event(aws)
    deps = atomic_store(bot_env)
    inner = deps.deliveries.table
    deps.deliveries.table = Overlapping(inner)

    results, failures = run_together(event, [Context(), Context()])

    assert len(slack.channel_messages(CHANNEL)) == 1
    assert [r["posted"] for r in results] == [1]
    [refused] = failures
    assert "another attempt" in refused  # failed: Lambda retries it, under the same request id
    deps.deliveries.table = inner
    retried = run(event, Context())
    assert retried["duplicates"] == 1
    assert len(slack.channel_messages(CHANNEL)) == 1


def test_a_request_id_retried_after_its_run_was_killed_posts_once(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = throttling_event(aws)
    deps = bot_env.alarm_deps
    inner = deps.deliveries.table
    # Killed at its timeout after its post, before it saved the alarm's state or its claim.
    environment = DiesAt(inner, lambda item: str(item["pk"]).startswith("alarm#"))
    deps.deliveries.table = deps.states.table = deps.storms.storms.table = environment
    with pytest.raises(Killed):
        run(event, Context(remaining_ms=3_000))
    assert len(slack.channel_messages(CHANNEL)) == 1

    # Lambda's retry, in a new execution environment, once the killed run's leases lapsed.
    deps.deliveries.table = deps.states.table = deps.storms.storms.table = inner
    deps.deliveries.clock = deps.states.clock = later(60)
    result = run(event, Context())

    assert result["posted"] == 1
    [message] = slack.channel_messages(CHANNEL)
    assert len(slack.calls_to("chat.postMessage")) == 1  # it looked first and found the post
    record = deps.states.get(json.loads(event["Records"][0]["Sns"]["Message"])["AlarmArn"])
    assert record is not None and record.message is not None
    assert record.message.ts == message.ts


def test_a_claim_resent_after_its_answer_was_lost_is_ours_and_not_the_other_run_s(
    aws: boto3.Session, slack: FakeSlack, bot_env: Container
) -> None:
    event = throttling_event(aws)
    deps = atomic_store(bot_env)
    deps.deliveries.table = Overlapping(deps.deliveries.table, resend=True)

    results, failures = run_together(event, [Context(), Context()])

    assert [r["posted"] for r in results] == [1]  # the resent claim resolved as its own
    assert len(failures) == 1 and "another attempt" in failures[0]
    assert len(slack.channel_messages(CHANNEL)) == 1
