"""The picture of a diagnosis (CloudWatch widget JSON), its text sparkline, and the alarm
message's attention buttons. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib import markup
from chalicelib.diagnosis import graphs
from chalicelib.diagnosis.rules import diagnose
from chalicelib.slack import edits, render
from chalicelib.units import sparkline
from tests.unit.evidence_builder import aliased, evidence, report


def test_a_timeout_is_drawn_as_duration_against_the_timeout_line() -> None:
    d = diagnose(evidence(metric="Duration", window={"DurationMax": 14900, "Invocations": 10}))
    assert d.top.kind == "timeout"
    doc = json.loads(graphs.widget(d) or "{}")
    assert doc["metrics"] == [
        [
            "AWS/Lambda",
            "Duration",
            "FunctionName",
            "orders",
            {"stat": "Maximum", "label": "max duration (ms)"},
        ]
    ]
    assert doc["annotations"]["horizontal"] == [{"label": "timeout 15 s", "value": 15000}]
    assert doc["start"].startswith("-PT") and doc["end"] == "P0D"


def test_a_deploy_is_drawn_as_errors_and_invocations_by_version() -> None:
    d = diagnose(
        evidence(
            function=aliased(),
            window={"Errors": 8, "Invocations": 10},
            lookback={"Errors": 0, "Invocations": 10},
            versions={"3": {"Errors": 8, "Invocations": 10}, "2": {"Errors": 0, "Invocations": 1}},
        )
    )
    assert d.top.kind == "recent_deploy"
    doc = json.loads(graphs.widget(d) or "{}")
    versions = [m[m.index("ExecutedVersion") + 1] for m in doc["metrics"]]
    assert versions == ["2", "2", "3", "3"]
    assert doc["metrics"][0][4:6] == ["Resource", "orders:live"]


def test_out_of_memory_is_drawn_against_the_limit() -> None:
    d = diagnose(evidence(logs=[report(900, 1024, 1024)] * 3 + ["Runtime.OutOfMemory"]))
    assert d.top.kind == "out_of_memory"
    doc = json.loads(graphs.widget(d) or "{}")
    assert doc["metrics"][0][:2] == ["LambdaInsights", "used_memory_max"]
    assert doc["annotations"]["horizontal"][0]["value"] == 1024


def test_a_sparkline_shows_the_shape_in_at_most_24_characters() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([]) == ""
    assert len(sparkline(list(range(200)))) <= 24


def test_an_alarm_message_offers_acknowledge_and_three_snoozes() -> None:
    d = diagnose(evidence(window={"Errors": 5, "Invocations": 10}))
    attention = render.render(d)[-1]
    assert attention["block_id"] == "alarm_attention"
    labels = [e["text"]["text"] for e in attention["elements"]]
    assert labels == ["Acknowledge", "Snooze 1 h", "Snooze 4 h", "Snooze until tomorrow 09:00"]
    assert attention["elements"][1]["value"] == "/ops snooze a 1h"
    acked = edits.acknowledged(render.render(d), "U1", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert "Acknowledged by <@U1>" in json.dumps(markup.finish_blocks(acked))
    assert "Acknowledge" not in [e["text"]["text"] for e in acked[-1]["elements"]]


def test_account_concurrency_is_drawn_against_the_accounts_limit() -> None:
    from tests.unit.test_catalogue_rules import fn

    d = diagnose(
        evidence(
            function=fn(account_concurrency_limit=1000),
            window={"ClaimedAccountConcurrency": 960, "Throttles": 30, "Invocations": 50},
        )
    )
    assert d.top.kind == "account_concurrency"
    doc = json.loads(graphs.widget(d) or "{}")
    assert doc["metrics"] == [["AWS/Lambda", "ClaimedAccountConcurrency", {"stat": "Maximum"}]]
    assert doc["annotations"]["horizontal"] == [{"label": "limit 1000", "value": 1000}]
    assert render.shape(d) is not None and render.shape(d)[0] == "ClaimedAccountConcurrency"  # type: ignore[index]
