from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.alarms.delivery import AlarmDeps
from chalicelib.aws.dynamodb import create_table
from chalicelib.config import Settings
from chalicelib.container import Container, build
from chalicelib.slack.replies import Reply, reply_to
from devtools.fake_slack import FakeSlack, FakeSlackServer

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        session = boto3.Session(region_name="us-east-1")
        create_table(session.client("dynamodb"), "shepherd-state")
        yield session


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlackServer() as server:
        monkeypatch.setenv("SLACK_API_URL", server.url)
        yield server.fake


@pytest.fixture
def bot_env(monkeypatch: pytest.MonkeyPatch, aws: boto3.Session, slack: FakeSlack) -> Container:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SHEPHERD_CHANNEL", "#ops-alarms")
    monkeypatch.setenv("SHEPHERD_TABLE", "shepherd-state")
    monkeypatch.setenv("SHEPHERD_OPERATORS", "UOPERATOR")
    # Lazy listeners run in-process (bolt's local Lambda client) instead of re-invoking Lambda.
    monkeypatch.setenv("SHEPHERD_LAZY_IN_PROCESS", "1")
    return serve(aws)


def serve(aws: boto3.Session) -> Container:
    """A container built from the environment around the moto session, serving the app."""
    import app

    built = build(Settings.from_env(), aws)
    app.use(built)
    return built


@pytest.fixture
def client(bot_env: Container) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


class SlackOps:
    """`/ops` as Slack sees it, without Slack: each call's reply, errors worded."""

    def __init__(self, container: Container) -> None:
        self.ops = container.ops
        self.log = container.action_log

    def run(self, text: str, user: str) -> Reply:
        return shown(reply_to(lambda: self.ops.run(text, user)))

    def confirm(self, action_id: str, user: str) -> Reply:
        return shown(reply_to(lambda: self.ops.confirm(action_id, user)))


def shown(reply: Reply) -> Reply:
    """A reply as a person reads it in Slack: Shepherd's marks for the wire (chalicelib/markup.py)
    taken off, so that a test reads `code` and <@U…> as Slack shows them."""
    import json

    from chalicelib import markup

    blocks = json.loads(markup.unmarked(json.dumps(reply.blocks, ensure_ascii=False)))
    thread = [markup.unmarked(t) for t in reply.thread] if reply.thread is not None else None
    return Reply(markup.unmarked(reply.text), blocks, thread)


@pytest.fixture
def slack_url(slack: FakeSlack) -> str:
    """The fake Slack's Web API base; response_urls are built from it."""
    import os

    return os.environ["SLACK_API_URL"]


def answer_as_aws(client: Any, operation: str, response: dict[str, Any]) -> None:
    """Answer a call moto lacks as AWS would, before the request leaves botocore."""
    from types import SimpleNamespace

    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200), {**response, "ResponseMetadata": {}}

    service = client.meta.service_model.service_name
    client.meta.events.register(f"before-call.{service}.{operation}", answer)


def atomic_store(container: Container) -> AlarmDeps:
    """The container's alarm path with its state on the twin (devtools.lambda_async)."""
    from devtools.lambda_async import on_the_twin

    return on_the_twin(container.alarm_deps)
