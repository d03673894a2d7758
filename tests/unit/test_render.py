from __future__ import annotations

from chalicelib.diagnosis.rules import diagnose
from chalicelib.slack.edits import render_recovered
from chalicelib.slack.render import MAX_BLOCKS, MAX_TEXT, render, to_json
from tests.unit.evidence_builder import evidence


def texts(blocks: list[dict]) -> list[str]:  # type: ignore[type-arg]
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields", []))
        out.extend(
            e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str)
        )
    return out


def test_blocks_stay_within_slack_limits_with_huge_logs() -> None:
    ev = evidence(
        window={"Invocations": 10, "Errors": 10},
        logs=[f"[ERROR] ValueError{i}: " + "x" * 5000 for i in range(200)],
    )
    blocks = render(diagnose(ev))
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= MAX_TEXT for t in texts(blocks))


def test_log_excerpt_is_redacted() -> None:
    ev = evidence(logs=["[ERROR] Boom: connecting with password=hunter2 key AKIAIOSFODNN7EXAMPLE"])
    joined = "\n".join(texts(render(diagnose(ev))))
    assert "hunter2" not in joined and "AKIAIOSFODNN7EXAMPLE" not in joined
    assert "[REDACTED" in joined


def test_action_buttons_carry_the_ops_command() -> None:
    from chalicelib.diagnosis.evidence import FunctionFacts

    fn = FunctionFacts(name="orders", arn="arn", reserved_concurrency=5)
    blocks = render(diagnose(evidence(window={"Invocations": 60, "Throttles": 40}, function=fn)))
    actions = next(b for b in blocks if b["type"] == "actions")
    values = [e["value"] for e in actions["elements"]]
    assert values[0] == "/ops concurrency orders reserve 15"
    assert "/ops status orders" in values


def test_json_contract_fields() -> None:
    out = to_json(diagnose(evidence(window={"Invocations": 10, "Errors": 0})))
    assert set(out) == {"alarm", "resource", "causes", "blocks"}
    assert set(out["alarm"]) == {"name", "state", "previous_state", "time", "region", "account"}
    assert set(out["resource"]) == {"type", "name", "arn"}
    assert set(out["causes"][0]) == {"kind", "confidence", "summary", "evidence", "action"}


def test_recovered_message_drops_buttons_and_says_how_long() -> None:
    from datetime import UTC, datetime

    blocks = render(diagnose(evidence(window={"Invocations": 60, "Throttles": 40})))
    done = render_recovered(blocks, datetime(2026, 11, 22, 10, 9, tzinfo=UTC), 750)
    assert not any(b["type"] == "actions" for b in done)
    assert done[0]["text"]["text"].startswith("RESOLVED:")
    assert "12 min 30 s" in done[1]["elements"][0]["text"]


def test_kinds_read_as_words_with_their_acronyms() -> None:
    from chalicelib.diagnosis.causes import kind_title, kind_words

    assert kind_title("dlq_backlog") == "DLQ backlog"
    assert kind_title("recent_deploy") == "Recent deploy"
    assert kind_words("dlq_backlog") == "DLQ backlog"
    assert kind_words("dlq_delivery_failure") == "DLQ delivery failure"
    assert kind_words("recent_deploy") == "recent deploy"
