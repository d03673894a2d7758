"""Storms, pure: the shared cause behind many alarms, and the summary within Slack's limits."""

from __future__ import annotations

import json

from chalicelib import markup
from chalicelib.alarms.storms import shared_cause
from chalicelib.slack import storm_blocks
from chalicelib.slack.blocks import MAX_BLOCKS, MAX_TEXT
from chalicelib.store.storms import StormEntry, StormRecord


def entry(i: int, kind: str, **facts: object) -> StormEntry:
    return StormEntry(
        name=f"fn-{i % 7}-alarm-{i}",
        arn=f"arn:aws:cloudwatch:us-east-1:1:alarm:a{i}",
        function=f"fn-{i % 7}",
        kind=kind,
        summary=kind,
        fired_at=1_800_000_000.0 + i,
        facts=dict(facts),
    )


def test_one_dependency_throttling_most_alarms_is_named() -> None:
    entries = [entry(i, "downstream_throttling", dependency="PutItem") for i in range(8)]
    entries.append(entry(9, "code_error"))
    cause = shared_cause(entries)
    assert cause is not None and "`PutItem`" in markup.unmarked(cause) and "8 of 9 alarms" in cause


def test_throttling_with_the_account_pool_nearly_empty_is_the_account_concurrency() -> None:
    entries = [entry(i, "throttling", unreserved=40, limit=1000) for i in range(6)]
    cause = shared_cause(entries)
    assert cause is not None and cause.startswith("The account's concurrency is exhausted")
    assert "40 of 1000" in cause


def test_a_deploy_behind_most_alarms_is_named() -> None:
    cause = shared_cause([entry(i, "recent_deploy") for i in range(4)])
    assert cause is not None and cause.startswith("A deploy")


def test_unrelated_alarms_have_no_shared_cause() -> None:
    kinds = ["timeout", "code_error", "throttling", "out_of_memory", "permission_denied"]
    assert shared_cause([entry(i, k) for i, k in enumerate(kinds)]) is None
    assert shared_cause([entry(0, "timeout"), entry(1, "timeout")]) is None  # too few


def test_a_summary_of_300_alarms_names_every_one_within_slacks_limits() -> None:
    storm = StormRecord("1", [entry(i, "throttling") for i in range(300)])
    blocks = storm_blocks.summary(storm, "Throttling: 300 of 300 alarms")
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= MAX_TEXT for b in blocks)
    text = json.dumps(blocks)
    assert all(f"fn-{i % 7}-alarm-{i} " in text for i in range(300))
    assert blocks[0]["text"]["text"] == "ALARM STORM: 300 alarms on 7 function(s)"


def test_a_storm_alarm_that_fires_again_after_its_recovery_is_not_shown_resolved() -> None:
    from chalicelib.store.memory import MemoryTable
    from chalicelib.store.storms import StormRecord, Storms

    storms = Storms(MemoryTable(), clock=lambda: 1_800_000_000.0)
    storm = StormRecord("123456789012")
    first, again = entry(1, "timeout"), entry(1, "timeout")
    again.fired_at = first.fired_at + 600
    storms.add(storm, first)
    storms.resolve(storm, first.arn, first.fired_at + 300)
    storms.add(storm, again)
    drawn = storms.full(storm)
    assert [(e.fired_at - first.fired_at, e.resolved) for e in drawn.entries] == [
        (0.0, True),
        (600.0, False),
    ]


def test_a_retry_of_an_alarm_counted_long_ago_is_not_counted_again() -> None:
    """Only the newest alarms are kept in the storm's head: the alarm's own item decides."""
    from chalicelib.store.memory import MemoryTable
    from chalicelib.store.storms import KEEP_RECENT, StormRecord, Storms

    storms = Storms(MemoryTable(), clock=lambda: 1_800_000_000.0)
    storm = StormRecord("123456789012")
    early = entry(0, "timeout")
    assert storms.add(storm, early)
    for i in range(1, KEEP_RECENT + 5):
        storms.add(storm, entry(i, "timeout"))
    assert not storms.add(storm, entry(0, "timeout"))  # Lambda retries the first delivery
    assert storms.full(storm).count == KEEP_RECENT + 5
