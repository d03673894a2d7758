"""A rotated Slack secret is picked up at once: a refused token or a signature that does not match
has the secrets read again (once), and only a changed value is tried."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.errors import UpstreamFailure
from devtools.console import signed_headers
from devtools.fake_slack import FakeSlack

TOKEN, SECRET = "/shepherd/slack-bot-token", "/shepherd/slack-signing-secret"


def store(aws: boto3.Session, token: str, secret: str) -> None:
    ssm = aws.client("ssm")
    for name, value in ((TOKEN, token), (SECRET, secret)):
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def reads(container: Container) -> list[str]:
    """Every request the bot makes to SSM."""
    made: list[str] = []
    container.aws.client("ssm").meta.events.register(
        "before-call.ssm", lambda model, **_: made.append(model.name)
    )
    return made


@pytest.fixture
def bot(aws: boto3.Session, slack: FakeSlack) -> Container:
    import os

    store(aws, "xoxb-old", "signing-old")
    settings = Settings(
        slack_api_url=os.environ["SLACK_API_URL"],
        bot_token_param=TOKEN,
        signing_secret_param=SECRET,
        operators=("UOPERATOR",),
        lazy_in_process=True,
    )
    return Container(settings, aws)


def test_a_rotated_bot_token_is_read_again_once_and_the_post_made(
    bot: Container, aws: boto3.Session, slack: FakeSlack
) -> None:
    made = reads(bot)
    bot.poster.post("#ops-alarms", "first")
    store(aws, "xoxb-new", "signing-old")  # rotated: Slack now refuses the old token
    slack.valid_tokens = {"xoxb-new"}

    bot.poster.post("#ops-alarms", "after the rotation")

    posts = slack.calls_to("chat.postMessage")
    assert [c.token for c in posts] == ["xoxb-old", "xoxb-old", "xoxb-new"]
    assert [m.text for m in slack.messages.values()] == ["first", "after the rotation"]
    assert made == ["GetParameters", "GetParameters"]  # the first read, and one after the refusal


def test_a_refused_token_that_did_not_change_fails_after_one_read(
    bot: Container, slack: FakeSlack
) -> None:
    made = reads(bot)
    slack.valid_tokens = {"xoxb-somebody-else"}
    with pytest.raises(UpstreamFailure, match="invalid_auth"):
        bot.poster.post("#ops-alarms", "refused")
    with pytest.raises(UpstreamFailure, match="invalid_auth"):
        bot.poster.post("#ops-alarms", "refused again")  # no second read within the window
    assert made == ["GetParameters", "GetParameters"]
    assert len(slack.calls_to("chat.postMessage")) == 2


def slash(client: Client, secret: str) -> Any:
    body = "command=%2Fops&text=help&user_id=UOPERATOR&team_id=T1&channel_id=C1&trigger_id=t"
    headers = signed_headers(secret, body, now=time.time())
    return client.http.post("/slack/events", headers=headers, body=body)


def test_a_rotated_signing_secret_is_read_again_and_the_request_answered(
    bot: Container, aws: boto3.Session
) -> None:
    import app

    app.use(bot)
    made = reads(bot)
    with Client(app.app) as client:
        assert slash(client, "signing-old").status_code == 200
        store(aws, "xoxb-old", "signing-new")  # Slack signs with the new secret from now on
        assert slash(client, "signing-new").status_code == 200
        assert slash(client, "signing-new").status_code == 200
        assert slash(client, "a-forged-secret").status_code == 401
        assert slash(client, "a-forged-secret").status_code == 401
    assert made == ["GetParameters", "GetParameters"]  # forged requests within 30 s read nothing
