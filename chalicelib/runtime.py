"""Wiring for the Lambda handlers: settings, clients and dependencies, built once per container."""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from chalicelib.config import Settings

log = logging.getLogger("shepherd")


def configure_logging() -> None:
    level = os.environ.get("SHEPHERD_LOG_LEVEL", "INFO").upper()
    logging.getLogger().setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "slack_sdk", "slack_bolt"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def aws() -> Any:
    from chalicelib.aws import Aws

    return Aws(region=settings().region)


@functools.cache
def alarm_deps() -> Any:
    from chalicelib.alarms import AlarmDeps
    from chalicelib.slack.poster import SlackPoster, web_client
    from chalicelib.state import StateTable

    s = settings()
    a = aws()
    token = s.resolve_bot_token(a.fetch_secret)
    return AlarmDeps(
        aws=a,
        state=StateTable(a.client("dynamodb"), s.table),
        slack=SlackPoster(web_client(token, s.slack_api_url)),
        channel=s.channel,
    )


def reset() -> None:
    """Forget cached wiring (tests change the environment between cases)."""
    for cached in (settings, aws, alarm_deps):
        cached.cache_clear()


def on_alarm_event(event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.alarms import on_event

    outcome = on_event(event, alarm_deps())
    return {
        "posted": len(outcome.posted),
        "duplicates": len(outcome.duplicates),
        "skipped": outcome.skipped,
    }
