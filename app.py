"""Shepherd's Lambda handlers: translate AWS and Slack into domain calls, a few lines each.

Heavy modules (boto3, slack_sdk, pydantic) are imported inside the handlers that need them:
every cold start pays for what this module imports.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from chalice import Chalice

if TYPE_CHECKING:
    from chalicelib.container import Container

app = Chalice(app_name="shepherd")

DEPLOY_WITH = (
    "Shepherd is not deployed with `chalice deploy`: it would make the functions without their "
    "state table, alarm topic, queues and Powertools layer. Deploy with `make deploy` "
    "(README: Deploy to your account)."
)
if os.path.basename(sys.argv[0]).startswith("chalice") and "deploy" in sys.argv[1:]:
    raise SystemExit(DEPLOY_WITH)  # `chalice deploy` imports this module before it deploys

ALARM_TOPIC = os.environ.get("SHEPHERD_ALARM_TOPIC", "shepherd-alarms")
FAILURE_QUEUE = os.environ.get("SHEPHERD_FAILURE_QUEUE", "shepherd-failures")
AUDIT_SCHEDULE = os.environ.get("SHEPHERD_AUDIT_SCHEDULE", "rate(1 day)")
REMINDER_SCHEDULE = os.environ.get("SHEPHERD_REMINDER_SCHEDULE", "rate(5 minutes)")

_container: list[Container] = []  # one per Lambda container, built on the first invocation


def container() -> Container:
    if not _container:
        from chalicelib.container import build, configure_logging

        configure_logging()
        _container.append(build())
    return _container[0]


def use(built: Container) -> None:
    """Serve with this container (tests, local tools) instead of one built from the environment."""
    _container[:] = [built]


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # In Lambda, module-level code runs in the init phase: pay this function's imports and clients
    # there, not in its first request (never at `chalice package`, which imports this module too).
    from chalicelib.container import warm

    warm(container(), container().settings.function or "")


def _alarm_delivery(event: dict[str, Any], context: Any, source: str) -> dict[str, Any]:
    from chalicelib import journal
    from chalicelib.alarms.delivery import Attempt, on_event

    attempt = Attempt.of(context)
    journal.request_id[0] = str(getattr(context, "aws_request_id", "") or "")
    container().deadline.at = attempt.deadline
    container().aws.knows_home(getattr(context, "invoked_function_arn", None))
    with journal.timed("delivery", source=source) as entry:
        done = on_event(event, container().alarm_deps, attempt)
        entry.update(
            outcome="done",
            posted=len(done.posted),
            duplicates=len(done.duplicates),
            skipped=len(done.skipped),
            signals=[journal.clip(k) for k in [*done.posted, *done.duplicates][:10]],
        )
        return done.counts()


@app.on_sns_message(topic=ALARM_TOPIC, name="on_alarm")
def on_alarm(event: Any) -> dict[str, Any]:
    """CloudWatch alarm notifications (and on-failure destination records) from SNS."""
    return _alarm_delivery(event.to_dict(), event.context, "sns")


@app.on_cw_event(
    {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]},
    name="on_alarm_event",
)
def on_alarm_event(event: Any) -> dict[str, Any]:
    """Every alarm in the account, from EventBridge, with no per-alarm setup."""
    return _alarm_delivery(event.to_dict(), event.context, "eventbridge")


@app.lambda_function(name="on_alarm_action")
def on_alarm_action(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An alarm whose action invokes this function directly (CloudWatch's Lambda alarm action);
    also what `shepherd doctor` asks the deployed runtime (chalicelib/probe.py)."""
    from chalicelib.probe import answer, is_probe

    if is_probe(event):
        return answer(container())
    return _alarm_delivery(event, context, "alarm-action")


@app.on_sqs_message(queue=FAILURE_QUEUE, batch_size=10, name="on_failure")
def on_failure(event: Any) -> dict[str, Any]:
    """Lambda on-failure destination records delivered through SQS."""
    return _alarm_delivery(event.to_dict(), event.context, "sqs")


@app.route(
    "/slack/events",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "application/json"],
)
def slack_events() -> Any:
    """Slash commands and button clicks, signature-verified before anything else."""
    return container().slack_handle(app, app.current_request)


@app.schedule(REMINDER_SCHEDULE, name="alarm_reminders")
def alarm_reminders(event: Any) -> dict[str, int]:
    """A reminder in the thread of each alarm still firing that nobody has acknowledged."""
    c = container()
    c.deadline.at = None
    return c.attention.remind().counts()


@app.schedule(AUDIT_SCHEDULE, name="nightly_iam_audit")
def nightly_iam_audit(event: Any) -> dict[str, Any]:
    """The IAM wildcard audit on a schedule: posts only what is new and what was fixed. With
    member accounts it fans out, one invocation of this function per account, one summary."""
    from chalicelib.audit import fleet
    from chalicelib.audit.runs import scheduled

    c = container()
    raw = event.to_dict()
    if fleet.ONE_ACCOUNT in raw:  # one account's part of the fan-out
        account = str(raw[fleet.ONE_ACCOUNT])
        return fleet.audit_account(c.aws, c.audit_runs_for(account), account)
    members = c.settings.accounts.members
    if not members:
        return scheduled(c.aws.iam(), c.audit_runs, c.poster, c.settings.channel).counts()
    accounts = [("", "own account"), *((a.id, a.name) for a in members)]
    invoke = c.audit_invoker(getattr(event.context, "function_name", None))
    return fleet.scheduled_fleet(
        accounts, invoke, c.audit_runs_for, c.poster, c.settings.channel
    ).counts()
