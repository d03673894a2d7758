"""CloudWatch Logs: the recent lines of a log group, a few pages at most."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import calls
from chalicelib.markup import strip_marks

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

MAX_PAGES = 3


@dataclass(frozen=True)
class LogEvent:
    time: datetime
    message: str
    stream: str


class LogsApi:
    def __init__(self, client: CloudWatchLogsClient) -> None:
        self.client = client

    @calls("logs")
    def events(
        self,
        group: str,
        start: datetime,
        end: datetime,
        pages: int = MAX_PAGES,
        pattern: str | None = None,
    ) -> list[LogEvent]:
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "startTime": int(start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
            "limit": 1000,
        }
        if pattern:
            kwargs["filterPattern"] = pattern
        out: list[LogEvent] = []
        for _ in range(pages):
            response: Any = self.client.filter_log_events(**kwargs)
            for e in response.get("events", []):
                when = datetime.fromtimestamp(e["timestamp"] / 1000, UTC)
                out.append(
                    LogEvent(
                        when,
                        strip_marks(e.get("message", "").rstrip("\n")),
                        e.get("logStreamName", ""),
                    )
                )
            token = response.get("nextToken")
            if not token:
                break
            kwargs["nextToken"] = token
        return out
