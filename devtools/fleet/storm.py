"""A storm for the demo and the tests: many alarms on many functions, one cause behind them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import boto3

from devtools.fleet.events import alarm_message, sns_event
from devtools.fleet.seeder import Seeder

DYNAMODB_THROTTLED = (
    "[ERROR] ClientError: An error occurred (ProvisionedThroughputExceededException) when "
    "calling the PutItem operation: The level of configured provisioned throughput for the "
    "table was exceeded."
)


def storm(
    session: boto3.Session | None = None,
    functions: int = 6,
    alarms: int = 12,
    within_s: int = 60,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """A storm: `alarms` alarms over `functions` functions within `within_s`, all of them failing
    on one throttled DynamoDB table (the shared cause). Returns their SNS events, oldest first."""
    s = Seeder(session, now)
    names = [f"order-step-{i + 1:02d}" for i in range(functions)]
    for name in names:
        s.function(name)
        s.healthy(name, per_minute=30, recent=False)
        s.metrics(name, "Invocations", [(t, 30) for t in s.window()])
        s.metrics(name, "Errors", [(t, 8) for t in s.window()])
        s.logs(name, [DYNAMODB_THROTTLED] * 3)
    kinds = ("errors", "error-rate", "duration", "throttles", "dlq", "age")
    events = []
    for i in range(alarms):
        name = names[i % functions]
        when = s.alarm_time - timedelta(seconds=within_s * (alarms - 1 - i) / max(1, alarms - 1))
        alarm_name = (
            f"{name}-{kinds[(i // functions) % len(kinds)]}-{i // (functions * len(kinds))}"
        )
        s.metric_alarm(alarm_name, "Errors", {"FunctionName": name})
        message = alarm_message(alarm_name, "Errors", {"FunctionName": name}, when, value=8)
        events.append(sns_event(message))
    return events
