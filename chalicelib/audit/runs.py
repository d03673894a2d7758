"""The audit as the bot runs it: on demand from `/ops audit`, and on the schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.audit import analyzer, report, suppressions
from chalicelib.audit.findings import Report
from chalicelib.aws.iam import IamApi
from chalicelib.store.audit_runs import AuditRuns

log = logging.getLogger(__name__)


def run(iam: IamApi, only: str | None = None) -> Report:
    """Audit the account now: every page of its authorization details, with the suppressions."""
    return analyzer.audit(iam.details(), suppressions=suppressions.load(), only=only)


@dataclass(frozen=True)
class Posted:
    new: int
    fixed: int
    posted: bool
    changed: int = 0

    def counts(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "fixed": self.fixed,
            "changed": self.changed,
            "posted": self.posted,
        }


def scheduled(iam: IamApi, runs: AuditRuns, slack: Any, channel: str) -> Posted:
    """Store this run; post only what is new and what was fixed since the last one."""
    current = run(iam)
    previous = runs.latest()
    change = report.diff(previous, current)
    first = previous is None
    if first or not change.empty:
        title = "IAM wildcard audit: first run" if first else "IAM wildcard audit: changes"
        blocks = report.summary_blocks(current, title, None if first else change)
        posted_in, ts = slack.post(channel, f"{title}: {report.counts(current)}", blocks)
        for chunk in report.thread_texts(
            change.new, None if first else change.fixed, changed=change.changed
        ):
            slack.post(posted_in, chunk, thread_ts=ts)
    # Stored after posting: a failed post is retried by the next run rather than lost.
    runs.save([f.key for f in current.findings], {**current.summary(), **change.counts()})
    log.info(
        "audit: %d findings, %d new, %d fixed, %d changed",
        len(current.findings),
        len(change.new),
        len(change.fixed),
        len(change.changed),
    )
    return Posted(
        len(change.new), len(change.fixed), first or not change.empty, len(change.changed)
    )
