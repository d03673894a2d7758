"""Bolt on Chalice for `POST /slack/events`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.aws_lambda.chalice_handler import ChaliceSlackRequestHandler

from chalicelib.slack.listeners import register

if TYPE_CHECKING:
    from chalicelib.container import Container


def bolt_handler(container: Container, chalice_app: Any) -> ChaliceSlackRequestHandler:
    s = container.settings
    bolt_log = logging.getLogger("shepherd.slack")
    # Bolt warns that SLACK_BOT_TOKEN in the environment goes unused when a client is passed in:
    # that is by design (the client carries the token and Shepherd's retry handlers).
    bolt_log.addFilter(lambda record: "will be unused" not in record.getMessage())
    bolt = App(
        logger=bolt_log,
        signing_secret=s.resolve_signing_secret(container.aws.fetch_secret),
        client=container.slack_client,
        process_before_response=True,
        token_verification_enabled=False,
    )
    register(bolt, container)
    lambda_client: Any = None
    if s.lazy_in_process:
        from chalice.config import Config
        from slack_bolt.adapter.aws_lambda.local_lambda_client import LocalLambdaClient

        lambda_client = LocalLambdaClient(chalice_app, Config())
    return ChaliceSlackRequestHandler(app=bolt, chalice=chalice_app, lambda_client=lambda_client)
