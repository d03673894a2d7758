"""Who may change what: users, user groups, per-function rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.errors import BadInput
from chalicelib.ops.operators import Operators, Rule, load_rules


def test_listed_user_is_an_operator_and_others_are_not() -> None:
    operators = Operators(("U1",))
    assert operators.check("U1", "orders").allowed
    verdict = operators.check("U2", "orders")
    assert not verdict.allowed
    assert "SHEPHERD_OPERATORS" in verdict.why


def test_with_no_operators_the_refusal_says_none_are_configured_and_where_to_set_them() -> None:
    verdict = Operators(()).check("U1", "orders")
    assert not verdict.allowed
    assert "no operators are configured (SHEPHERD_OPERATORS is empty)" in verdict.why
    assert "make deploy OPERATORS=" in verdict.why


def test_member_of_a_listed_user_group_is_an_operator() -> None:
    operators = Operators(
        ("S0ONCALL",), group_members=lambda g: {"U7"} if g == "S0ONCALL" else set()
    )
    assert operators.check("U7", "orders").allowed
    assert not operators.check("U8", "orders").allowed


def test_group_members_are_read_once_within_the_cache_time() -> None:
    reads: list[str] = []

    def members(group: str) -> set[str]:
        reads.append(group)
        return {"U7"}

    operators = Operators(("S0ONCALL",), group_members=members, clock=lambda: 0.0)
    operators.check("U8")
    operators.check("U7")
    assert reads == ["S0ONCALL"]


def test_unreadable_group_grants_nothing() -> None:
    def broken(group: str) -> set[str]:
        raise RuntimeError("missing_scope")

    assert not Operators(("S0ONCALL",), group_members=broken).check("U7").allowed


def test_first_matching_rule_replaces_the_baseline_for_its_functions() -> None:
    rules = (Rule(("payments-*",), ("U9",), "payments on-call only"),)
    operators = Operators(("U1",), rules)
    assert operators.check("U9", "payments-capture").allowed
    refused = operators.check("U1", "payments-capture")
    assert not refused.allowed
    assert "payments on-call only" in refused.why
    assert operators.check("U1", "orders-worker").allowed
    assert not operators.check("U9", "orders-worker").allowed


def test_rules_file_loads_and_absent_file_means_no_rules(tmp_path: Path) -> None:
    path = tmp_path / "operators.json"
    assert load_rules(path) == ()
    path.write_text(json.dumps({"rules": [{"functions": "pay-*", "operators": ["U9"]}]}))
    assert load_rules(path) == (Rule(("pay-*",), ("U9",), ""),)


def test_malformed_rules_file_is_an_error_not_an_open_door(tmp_path: Path) -> None:
    path = tmp_path / "operators.json"
    path.write_text('{"rules": [{"functions": ["pay-*"]}]}')
    with pytest.raises(BadInput, match="operators"):
        load_rules(path)


def test_shipped_rules_file_is_valid() -> None:
    load_rules()


def test_a_shepherd_with_no_operators_says_so_in_its_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from chalicelib.config import Settings
    from chalicelib.container import Container

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    settings = Settings.from_env({"SHEPHERD_OPERATORS": "", "SLACK_BOT_TOKEN": "xoxb-test"})
    container = Container(settings, boto3.Session(region_name="us-east-1"))
    with caplog.at_level("WARNING"):
        container.operators.check("U1", "orders")
    [record] = [r for r in caplog.records if "SHEPHERD_OPERATORS is empty" in r.getMessage()]
    assert record.levelname == "WARNING"
