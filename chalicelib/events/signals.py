"""What Shepherd reacts to, independent of how AWS delivered it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

AlarmShape = Literal["metric", "math", "anomaly", "composite"]


@dataclass(frozen=True)
class MetricRef:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str = "Sum"
    period: int = 60


@dataclass(frozen=True)
class Alarm:
    name: str
    arn: str
    state: str
    previous_state: str | None
    reason: str
    time: datetime
    region: str
    account: str
    shape: AlarmShape
    description: str | None = None
    metrics: tuple[MetricRef, ...] = ()
    expression: str | None = None
    threshold: float | None = None
    comparison: str | None = None
    period: int = 60
    evaluation_periods: int = 1
    children: tuple[str, ...] = ()  # composite: ARNs of the child alarms that triggered it
    rule: str | None = None
    requested: bool = False  # `/ops diagnose`: asked for by a person, not fired by CloudWatch

    @property
    def dedupe_key(self) -> str:
        return f"alarm|{self.arn}|{self.state}|{self.time.isoformat()}"

    @property
    def metric_names(self) -> set[str]:
        return {m.name for m in self.metrics}


@dataclass(frozen=True)
class FailureRecord:
    """A Lambda async invocation that exhausted its retries (an on-failure destination record)."""

    function_name: str
    qualifier: str | None
    function_arn: str
    request_id: str
    condition: str
    time: datetime
    region: str
    account: str
    attempts: int
    error_type: str | None
    error_message: str | None
    stack: tuple[str, ...] = ()
    payload: Any = None

    @property
    def dedupe_key(self) -> str:
        return f"failure|{self.function_arn}|{self.request_id}"


Signal = Alarm | FailureRecord
