"""The facts a diagnosis is made from. Plain data: the rules read it, never AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from chalicelib.events.signals import Signal

Point = tuple[datetime, float]
ResourceType = Literal["function", "queue", "account", "unknown"]


@dataclass(frozen=True)
class Resource:
    type: ResourceType
    name: str
    arn: str
    region: str
    account: str
    qualifier: str | None = None  # alias or version of a function

    @property
    def label(self) -> str:
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name


@dataclass(frozen=True)
class Window:
    start: datetime  # the alarm's evaluation window
    end: datetime
    lookback_start: datetime  # the quiet time before, to compare against

    def contains(self, t: datetime) -> bool:
        return self.start <= t <= self.end


@dataclass(frozen=True)
class Version:
    version: str
    last_modified: datetime | None
    description: str = ""


@dataclass
class FunctionFacts:
    name: str
    arn: str
    runtime: str | None = None
    timeout_s: int | None = None
    memory_mb: int | None = None
    last_modified: datetime | None = None
    log_group: str | None = None
    alias: str | None = None
    alias_version: str | None = None
    alias_weights: dict[str, float] = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    reserved_concurrency: int | None = None
    account_concurrency_limit: int | None = None
    account_unreserved: int | None = None
    event_sources: list[dict[str, str]] = field(default_factory=list)
    dlq_arn: str | None = None
    on_failure_arn: str | None = None

    def version_info(self, version: str) -> Version | None:
        return next((v for v in self.versions if v.version == version), None)

    def previous_version(self, version: str) -> str | None:
        """The highest published version below `version`."""
        if not version.isdigit():
            return None
        older = [int(v.version) for v in self.versions if v.version.isdigit()]
        older = [v for v in older if v < int(version)]
        return str(max(older)) if older else None


@dataclass
class QueueFacts:
    name: str
    arn: str
    url: str | None = None
    visible: int | None = None
    in_flight: int | None = None
    oldest_age_s: float | None = None
    samples: list[str] = field(default_factory=list)
    source_queues: list[str] = field(default_factory=list)  # queues whose redrive targets this one
    source_functions: list[str] = field(
        default_factory=list
    )  # functions whose DLQ/destination it is
    consumers: list[str] = field(
        default_factory=list
    )  # functions reading it (event source mappings)
    # Those mappings as read: {"function", "state", "last_result", "reason"}.
    consumer_mappings: list[dict[str, str]] = field(default_factory=list)
    # For a DLQ: each source queue's consumers and visibility timeout (who fills it, and how).
    source_consumers: dict[str, list[str]] = field(default_factory=dict)
    source_visibility: dict[str, int | None] = field(default_factory=dict)

    @property
    def is_dlq(self) -> bool:
        return bool(self.source_queues or self.source_functions)


@dataclass(frozen=True)
class LogLine:
    time: datetime
    message: str
    source: str = ""


@dataclass
class Upstream:
    """A function that fills the DLQ under diagnosis, and how: `path` from the DLQ back to it
    (`orders-dlq` ← `orders-queue` ← `orders-processor`), with what was read of it."""

    path: list[str]
    function: FunctionFacts
    visibility_s: int | None = None  # of the source queue between them, if there is one
    metrics: dict[str, list[Point]] = field(default_factory=dict)
    logs: list[LogLine] = field(default_factory=list)

    @property
    def route(self) -> str:
        return " ← ".join(self.path)


@dataclass
class Evidence:
    signal: Signal
    resource: Resource
    window: Window
    function: FunctionFacts | None = None
    queue: QueueFacts | None = None
    metrics: dict[str, list[Point]] = field(default_factory=dict)
    by_version: dict[str, dict[str, list[Point]]] = field(default_factory=dict)
    logs: list[LogLine] = field(default_factory=list)
    prior_errors: list[LogLine] = field(default_factory=list)  # error lines of the 48 h before
    upstream: list[Upstream] = field(default_factory=list)  # what fills a DLQ (queue alarms)
    checked: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    member: str = ""  # the configured member account it was read in ("": Shepherd's own)
    away_region: str = ""  # its region when it is not Shepherd's own
    runbook: str | None = None  # the `runbook` tag of the alarm, else of the function: a URL

    @property
    def where(self) -> str:
        """`--account`/`--region` for a command about it ("" in Shepherd's own)."""
        return (f" --account {self.member}" if self.member else "") + (
            f" --region {self.away_region}" if self.away_region else ""
        )

    # --- metric arithmetic over the alarm window and the look-back ---------------------

    def points(
        self, key: str, *, lookback: bool = False, version: str | None = None
    ) -> list[float]:
        series = (self.by_version.get(version, {}) if version else self.metrics).get(key, [])
        if lookback:
            return [v for t, v in series if self.window.lookback_start <= t < self.window.start]
        return [v for t, v in series if self.window.contains(t)]

    def total(self, key: str, **kw: object) -> float:
        return sum(self.points(key, **kw))  # type: ignore[arg-type]

    def peak(self, key: str, **kw: object) -> float | None:
        values = self.points(key, **kw)  # type: ignore[arg-type]
        return max(values) if values else None

    def has(self, key: str) -> bool:
        return key in self.metrics

    def onset(self, key: str = "Errors") -> datetime | None:
        """When this incident's errors began: the first point of the run of non-zero `key`
        points that reaches the alarm (a zero point before the alarm ends an earlier run); with
        no such metric, the first error line of the window."""
        series = [p for p in self.metrics.get(key, []) if self.window.lookback_start <= p[0]]
        began = run_start(series, self.signal.time)
        if began is not None or series:
            return began
        from chalicelib.diagnosis.logs import ERRORISH

        lines = [line.time for line in self.logs if ERRORISH.search(line.message)]
        return min((t for t in lines if self.window.contains(t)), default=None)

    def error_rate(self, version: str | None = None) -> float | None:
        invocations = self.total("Invocations", version=version)
        if invocations <= 0:
            return None
        return self.total("Errors", version=version) / invocations


def run_start(series: list[Point], until: datetime) -> datetime | None:
    """The first point of the run of non-zero points that reaches `until` (None: no such run)."""
    began: datetime | None = None
    for t, v in sorted(series):
        if t > until:
            break
        began = (began or t) if v > 0 else None
    return began


def window_for(alarm_time: datetime, period_s: int, evaluation_periods: int) -> Window:
    span = timedelta(seconds=max(period_s, 60) * max(evaluation_periods, 1))
    start = alarm_time - span - timedelta(minutes=5)
    end = alarm_time + timedelta(minutes=1)
    return Window(start=start, end=end, lookback_start=start - timedelta(hours=3))
