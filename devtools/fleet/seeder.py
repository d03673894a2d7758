"""Seeds an AWS emulator with the demo fleet's parts: roles, functions, metrics, logs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devtools.fleet.events import REGION, stable_id

ROLE = "shepherd-demo-fleet"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class Seeder:
    def __init__(self, session: boto3.Session | None = None, now: datetime | None = None) -> None:
        self.session = session or boto3.Session()
        self.now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.alarm_time = self.now - timedelta(seconds=30)
        self._role: str | None = None

    def client(self, service: str, region: str = REGION) -> Any:
        return self.session.client(service, region_name=region)

    def role(self, region: str = REGION) -> str:
        if self._role is None:
            iam = self.client("iam", region)
            try:
                self._role = str(iam.get_role(RoleName=ROLE)["Role"]["Arn"])
            except iam.exceptions.NoSuchEntityException:
                self._role = str(
                    iam.create_role(
                        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
                    )["Role"]["Arn"]
                )
        return self._role

    def function(
        self,
        name: str,
        *,
        timeout: int = 30,
        memory: int = 512,
        region: str = REGION,
        reserved: int | None = None,
        description: str = "",
        publish: bool = False,
        runtime: str = "python3.12",
    ) -> str:
        lam = self.client("lambda", region)
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=self.role(region),
            Handler="app.handler",
            Code={"ZipFile": code(name, 1)},
            Timeout=timeout,
            MemorySize=memory,
            Description=description,
            Publish=publish,
        )["FunctionArn"]
        if reserved is not None:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        self.client("logs", region).create_log_group(logGroupName=f"/aws/lambda/{name}")
        return arn

    def publish(self, name: str, revisions: tuple[int, ...], region: str = REGION) -> None:
        """Publish a new version for each revision of the code."""
        lam = self.client("lambda", region)
        for revision in revisions:
            lam.update_function_code(FunctionName=name, ZipFile=code(name, revision))
            lam.publish_version(FunctionName=name, Description=f"release r{revision}")

    def metrics(
        self,
        name: str,
        metric: str,
        values: list[tuple[timedelta, float]],
        *,
        namespace: str = "AWS/Lambda",
        region: str = REGION,
        dims: dict[str, str] | None = None,
    ) -> None:
        """`values`: (how long before the alarm, value) pairs."""
        dimensions = [{"Name": k, "Value": v} for k, v in (dims or {"FunctionName": name}).items()]
        data = [
            {
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": self.alarm_time - ago,
                "Value": v,
            }
            for ago, v in values
        ]
        cw = self.client("cloudwatch", region)
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 500])

    def metric_alarm(
        self, alarm: str, metric: str, dims: dict[str, str], region: str = REGION
    ) -> None:
        """The alarm itself in CloudWatch (snoozes and graphs look it up by name)."""
        self.client("cloudwatch", region).put_metric_alarm(
            AlarmName=alarm,
            Namespace="AWS/Lambda" if "FunctionName" in dims else "AWS/SQS",
            MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )

    def healthy(
        self,
        name: str,
        *,
        per_minute: float = 20,
        duration_ms: float = 800,
        region: str = REGION,
        dims: dict[str, str] | None = None,
        recent: bool = True,
    ) -> None:
        """Three quiet hours before the alarm (and, if `recent`, the alarm window too)."""
        span = [timedelta(minutes=m) for m in range(1 if recent else 12, 180, 5)]
        self.metrics(name, "Invocations", [(t, per_minute) for t in span], region=region, dims=dims)
        self.metrics(name, "Errors", [(t, 0.0) for t in span], region=region, dims=dims)
        self.metrics(name, "Duration", [(t, duration_ms) for t in span], region=region, dims=dims)

    def window(self, minutes: int = 6) -> list[timedelta]:
        return [timedelta(minutes=m) for m in range(minutes)]

    def logs(
        self,
        name: str,
        lines: list[str],
        *,
        region: str = REGION,
        spread_minutes: int = 5,
        ago: timedelta = timedelta(0),
    ) -> None:
        """`lines` over the `spread_minutes` before the alarm (or before `ago` earlier)."""
        logs = self.client("logs", region)
        at = self.alarm_time - ago
        stream = f"{at:%Y/%m/%d}/[$LATEST]{stable_id(name, at)}"
        logs.create_log_stream(logGroupName=f"/aws/lambda/{name}", logStreamName=stream)
        start = at - timedelta(minutes=spread_minutes)
        step = timedelta(minutes=spread_minutes) / max(len(lines), 1)
        events = [
            {"timestamp": int((start + step * i).timestamp() * 1000), "message": line}
            for i, line in enumerate(lines)
        ]
        logs.put_log_events(
            logGroupName=f"/aws/lambda/{name}", logStreamName=stream, logEvents=events
        )


def code(name: str, revision: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "app.py", f"# {name} r{revision}\ndef handler(event, context):\n    return event\n"
        )
    return buffer.getvalue()


def report_line(duration: float, memory: int, used: int, init: float | None = None) -> str:
    """A Lambda REPORT log line (with `init`: a cold start's, which has an Init Duration)."""
    billed = int(-(-duration // 1))
    return (
        f"REPORT RequestId: 8f5c2d1e-0000-4000-8000-{int(duration):012d}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t"
        + (f"Init Duration: {init:.2f} ms\t" if init is not None else "")
    )
