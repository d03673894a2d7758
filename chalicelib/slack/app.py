"""Bolt on Chalice for `POST /slack/events`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.aws_lambda.chalice_handler import ChaliceSlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from chalicelib.slack.listeners import Wiring, register


def bolt_handler(
    chalice_app: Any,
    *,
    signing_secret: str,
    token: Callable[[], str],
    client: WebClient,
    wiring: Wiring,
    lambda_client: Any = None,
) -> ChaliceSlackRequestHandler:
    """Signature verification first, acks within 3 s; lazy listeners re-invoke the function.

    `lambda_client` makes the lazy self-invoke; None runs lazy listeners in this process
    (tests and `chalice local`).
    """
    bolt_log = logging.getLogger("shepherd.slack")
    # Bolt warns that SLACK_BOT_TOKEN in the environment goes unused or ignored when a client and
    # an authorize function are passed in: by design (the client carries the token and retries).
    bolt_log.addFilter(
        lambda record: not any(w in record.getMessage() for w in ("will be unused", "be ignored"))
    )

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        # One workspace and a known bot token: no auth.test round trip before the first ack.
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token()
        )

    bolt = App(
        name="shepherd",  # named: bolt would otherwise walk the stack to name itself
        logger=bolt_log,
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        process_before_response=True,
        token_verification_enabled=False,
    )
    register(bolt, wiring)
    if lambda_client is None:
        from chalice.config import Config
        from slack_bolt.adapter.aws_lambda.local_lambda_client import LocalLambdaClient

        lambda_client = LocalLambdaClient(chalice_app, Config())
    return ChaliceSlackRequestHandler(app=bolt, chalice=chalice_app, lambda_client=lambda_client)
