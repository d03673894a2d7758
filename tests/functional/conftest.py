from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib import runtime
from chalicelib.state import create_table
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
def bot_env(
    monkeypatch: pytest.MonkeyPatch, aws: boto3.Session, slack: FakeSlack
) -> Iterator[None]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SHEPHERD_CHANNEL", "#ops-alarms")
    monkeypatch.setenv("SHEPHERD_TABLE", "shepherd-state")
    monkeypatch.setenv("SHEPHERD_OPERATORS", "UOPERATOR")
    # Lazy listeners run in-process (bolt's local Lambda client) instead of re-invoking Lambda.
    monkeypatch.setenv("SHEPHERD_LAZY_IN_PROCESS", "1")
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def client(bot_env: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


@pytest.fixture
def slack_url(slack: FakeSlack) -> str:
    """The fake Slack's Web API base; response_urls are built from it."""
    import os

    return os.environ["SLACK_API_URL"]
