"""Shepherd's Lambda handlers: translate AWS and Slack into domain calls, a few lines each.

Heavy modules (boto3, slack_sdk, pydantic) are imported inside the handlers that need them:
every cold start pays for what this module imports.
"""

from __future__ import annotations

import os
from typing import Any

from chalice import Chalice

app = Chalice(app_name="shepherd")

ALARM_TOPIC = os.environ.get("SHEPHERD_ALARM_TOPIC", "shepherd-alarms")
FAILURE_QUEUE = os.environ.get("SHEPHERD_FAILURE_QUEUE", "shepherd-failures")


def _runtime() -> Any:
    from chalicelib import runtime

    runtime.configure_logging()
    return runtime


@app.on_sns_message(topic=ALARM_TOPIC, name="on_alarm")
def on_alarm(event: Any) -> dict[str, Any]:
    """CloudWatch alarm notifications (and on-failure destination records) from SNS."""
    result: dict[str, Any] = _runtime().on_alarm_event(event.to_dict())
    return result


@app.on_cw_event(
    {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]},
    name="on_alarm_event",
)
def on_alarm_event(event: Any) -> dict[str, Any]:
    """Every alarm in the account, from EventBridge, with no per-alarm setup."""
    result: dict[str, Any] = _runtime().on_alarm_event(event.to_dict())
    return result


@app.on_sqs_message(queue=FAILURE_QUEUE, batch_size=10, name="on_failure")
def on_failure(event: Any) -> dict[str, Any]:
    """Lambda on-failure destination records delivered through SQS."""
    result: dict[str, Any] = _runtime().on_alarm_event(event.to_dict())
    return result


@app.route(
    "/slack/events",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "application/json"],
)
def slack_events() -> Any:
    """Slash commands and button clicks, signature-verified before anything else."""
    return _runtime().slack_handler(app).handle(app.current_request)


AUDIT_SCHEDULE = os.environ.get("SHEPHERD_AUDIT_SCHEDULE", "rate(1 day)")


@app.schedule(AUDIT_SCHEDULE, name="nightly_iam_audit")
def nightly_iam_audit(event: Any) -> dict[str, Any]:
    """The IAM wildcard audit on a schedule: posts only what is new and what was fixed."""
    result: dict[str, Any] = _runtime().nightly_iam_audit()
    return result
