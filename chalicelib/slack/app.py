"""Bolt on Chalice for `POST /slack/events`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.aws_lambda.chalice_handler import ChaliceSlackRequestHandler
from slack_sdk import WebClient

from chalicelib.slack.listeners import Wiring, register


def bolt_handler(
    chalice_app: Any,
    *,
    signing_secret: str,
    client: WebClient,
    wiring: Wiring,
    lazy_in_process: bool = False,
) -> ChaliceSlackRequestHandler:
    """Signature verification first, acks within 3 s; lazy listeners re-invoke the function."""
    bolt_log = logging.getLogger("shepherd.slack")
    # Bolt warns that SLACK_BOT_TOKEN in the environment goes unused when a client is passed in:
    # that is by design (the client carries the token and Shepherd's retry handlers).
    bolt_log.addFilter(lambda record: "will be unused" not in record.getMessage())
    bolt = App(
        logger=bolt_log,
        signing_secret=signing_secret,
        client=client,
        process_before_response=True,
        token_verification_enabled=False,
    )
    register(bolt, wiring)
    lambda_client: Any = None
    if lazy_in_process:
        from chalice.config import Config
        from slack_bolt.adapter.aws_lambda.local_lambda_client import LocalLambdaClient

        lambda_client = LocalLambdaClient(chalice_app, Config())
    return ChaliceSlackRequestHandler(app=bolt, chalice=chalice_app, lambda_client=lambda_client)
