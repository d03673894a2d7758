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
    for cached in (settings, aws, alarm_deps, ops, operators, slack_handler):
        cached.cache_clear()


def on_alarm_event(event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.alarms import on_event

    outcome = on_event(event, alarm_deps())
    return {
        "posted": len(outcome.posted),
        "duplicates": len(outcome.duplicates),
        "skipped": outcome.skipped,
    }


@functools.cache
def ops() -> Any:
    from chalicelib.ops.engine import Ops
    from chalicelib.state import ActionLog

    s = settings()
    a = aws()
    return Ops(a, ActionLog(a.client("dynamodb"), s.table), operators())


@functools.cache
def operators() -> Any:
    from chalicelib.ops.operators import Operators, load_rules, slack_group_members
    from chalicelib.slack.poster import web_client

    s = settings()
    rules = load_rules()
    groups = None
    if any(o.startswith("S") for o in s.operators) or rules:
        token = s.resolve_bot_token(aws().fetch_secret)
        groups = slack_group_members(web_client(token, s.slack_api_url))
    return Operators(s.operators, rules, groups)


@functools.cache
def slack_handler(chalice_app: Any) -> Any:
    """Bolt on Chalice: signature verification first, acks within 3 s, lazy listeners re-invoke."""
    import os as _os

    from slack_bolt import App
    from slack_bolt.adapter.aws_lambda.chalice_handler import ChaliceSlackRequestHandler

    from chalicelib.slack.listeners import register
    from chalicelib.slack.poster import web_client

    s = settings()
    a = aws()
    token = s.resolve_bot_token(a.fetch_secret)
    bolt_log = logging.getLogger("shepherd.slack")
    # Bolt warns that SLACK_BOT_TOKEN in the environment goes unused when a client is passed in:
    # that is by design (the client carries the token and Shepherd's retry handlers).
    bolt_log.addFilter(lambda record: "will be unused" not in record.getMessage())
    bolt = App(
        logger=bolt_log,
        signing_secret=s.resolve_signing_secret(a.fetch_secret),
        client=web_client(token, s.slack_api_url),
        process_before_response=True,
        token_verification_enabled=False,
    )
    register(bolt, ops())
    lambda_client: Any = None
    if _os.environ.get("SHEPHERD_LAZY_IN_PROCESS") == "1":
        from chalice.config import Config
        from slack_bolt.adapter.aws_lambda.local_lambda_client import LocalLambdaClient

        lambda_client = LocalLambdaClient(chalice_app, Config())
    return ChaliceSlackRequestHandler(app=bolt, chalice=chalice_app, lambda_client=lambda_client)


def nightly_iam_audit() -> dict[str, Any]:
    from chalicelib.audit.runs import scheduled
    from chalicelib.state import AuditRuns

    deps = alarm_deps()
    outcome = scheduled(
        deps.aws.client("iam"),
        AuditRuns(deps.aws.client("dynamodb"), settings().table),
        deps.slack,
        deps.channel,
    )
    return {"new": outcome.new, "fixed": outcome.fixed, "posted": outcome.posted}
