"""`/ops diagnose <function>`: the alarm path, started by hand instead of by CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.events.signals import Alarm, MetricRef


def on_demand_alarm(function: str, region: str, account: str = "") -> Alarm:
    return Alarm(
        name=f"on-demand diagnosis of {function}",
        arn=f"arn:aws:cloudwatch:{region}:{account or '000000000000'}:alarm:shepherd-on-demand-{function}",
        state="ALARM",
        previous_state=None,
        reason="Requested with /ops diagnose",
        time=datetime.now(UTC),
        region=region,
        account=account,
        requested=True,
        shape="metric",
        metrics=(MetricRef("AWS/Lambda", "Errors", {"FunctionName": function}),),
        period=300,
        evaluation_periods=3,
    )
