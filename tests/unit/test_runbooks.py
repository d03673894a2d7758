"""The runbooks file: checked when Shepherd starts, matched against diagnoses, filled in safely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.accounts import Account, Accounts
from chalicelib.diagnosis.causes import Cause, Diagnosis
from chalicelib.diagnosis.evidence import FunctionFacts
from chalicelib.errors import BadInput, UsageError
from chalicelib.ops.grammar import parse
from chalicelib.ops.runbook_file import load_runbooks
from chalicelib.ops.runbooks import Runbooks, alarm_facts
from tests.unit.evidence_builder import evidence

STAGING = Account(
    "210987654321", "staging", "arn:aws:iam::210987654321:role/shepherd-member", "x" * 16
)
GOOD: dict[str, Any] = {
    "name": "throttled",
    "description": "Room for the consumer, then replay what it dropped",
    "match": {"kinds": ["throttling"], "functions": ["orders-*"], "accounts": ["staging"]},
    "args": {"reserve": "50", "alias": None},
    "steps": [
        "concurrency {function} reserve {reserve}",
        "alias {function} {alias} rollback",
        "redrive {queue} --rate 10",
    ],
    "links": [{"label": "Board", "url": "https://grafana.example.com/d/{function}?r={region}"}],
}


def load(tmp_path: Path, *books: dict[str, Any], raw: str | None = None) -> Runbooks:
    path = tmp_path / "runbooks.json"
    path.write_text(raw if raw is not None else json.dumps({"runbooks": list(books)}))
    return load_runbooks(path, Accounts((STAGING,)))


def test_no_file_is_no_runbooks_and_a_good_file_loads(tmp_path: Path) -> None:
    assert load_runbooks(tmp_path / "absent.json").books == ()
    [book] = load(tmp_path, GOOD).books
    assert book.uses == ["function", "reserve", "alias", "queue"]
    assert book.match.accounts == ("210987654321", "staging")  # its id matches as well as its name


def test_none_is_shipped_and_the_demo_s_loads() -> None:
    """Without a runbooks file a start imports and reads nothing for them (api_handler's ack)."""
    root = Path(__file__).resolve().parents[2]
    assert not (root / "policies" / "runbooks.json").exists()
    demo = load_runbooks(root / "devtools" / "fleet" / "runbooks.json").books
    assert demo and all(b.match for b in demo)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"name": "Bad Name"}, "lower-case letters"),
        ({"colour": "red"}, "unknown key `colour` in a runbook"),
        ({"steps": []}, "1 to 10"),
        ({"steps": ["concurrency {fn} reserve 5"]}, r"step 1 uses `\{fn\}`"),
        ({"steps": ["status {function}"]}, "is not a change"),
        ({"steps": ["undo abc"]}, "is not a change"),
        ({"steps": ["runbook other"]}, "is not a change"),
        ({"args": {"verb": "memory"}, "steps": ["{verb} {function} 512"]}, "written out"),
        ({"steps": ["concurrency {function} reserv 5"]}, "step 1"),
        ({"steps": ["memory {function} 1024 --account prod"]}, "leave out"),
        ({"args": {"function": "x"}}, "arg `function`"),
        ({"args": {"reserve": "50 --max 3"}}, "arg `reserve`"),
        ({"match": {"kinds": ["throttled"]}}, "not a diagnosis kind"),
        ({"match": {"accounts": ["prod"]}}, "`prod` is not a configured account"),
        ({"match": {"alarm": ["x"]}}, "unknown key `alarm` in `match`"),
        ({"links": [{"label": "x", "url": "http://plain.example.com"}]}, "must be https"),
        ({"links": [{"label": "x", "url": "https://x.example.com/{nope}"}]}, "nothing fills"),
    ],
)
def test_a_malformed_runbook_stops_the_start_naming_it_and_what_is_wrong(
    tmp_path: Path, change: dict[str, Any], why: str
) -> None:
    with pytest.raises(BadInput, match=why) as raised:
        load(tmp_path, {**GOOD, **change})
    assert "runbooks.json: runbook" in str(raised.value)


def test_a_file_that_is_not_json_or_names_a_runbook_twice_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not JSON"):
        load(tmp_path, raw="{runbooks: [")
    with pytest.raises(BadInput, match="given twice"):
        load(tmp_path, GOOD, GOOD)
    with pytest.raises(BadInput, match="nothing else"):  # a misspelt key is not "no runbooks"
        load(tmp_path, raw='{"runbook": []}')


def test_a_runbooks_file_named_but_missing_stops_the_start(tmp_path: Path) -> None:
    from chalicelib.config import Settings

    with pytest.raises(BadInput, match="SHEPHERD_RUNBOOKS_FILE: no file"):
        Settings.from_env({"SHEPHERD_RUNBOOKS_FILE": str(tmp_path / "missing.json")})


def test_values_fill_the_steps_as_single_words_and_nothing_else(tmp_path: Path) -> None:
    [book] = load(tmp_path, GOOD).books
    values = book.values(
        {"function": "orders-api", "alias": "live", "queue": "q"}, "home", "eu-west-1"
    )
    assert book.commands(values)[:2] == [
        "concurrency orders-api reserve 50",
        "alias orders-api live rollback",
    ]
    [link] = book.links_for(values)
    assert link.url == "https://grafana.example.com/d/orders-api?r=eu-west-1"
    with pytest.raises(UsageError, match="needs `alias=<alias>`"):
        book.values({"function": "orders-api", "queue": "q"}, "home", "us-east-1")
    with pytest.raises(UsageError, match="say `--account`"):
        book.values({"function": "f", "alias": "a", "queue": "q", "account": "x"}, "home", "r")
    with pytest.raises(UsageError, match="not a valid function name"):
        book.values({"function": "orders;rm", "alias": "a", "queue": "q"}, "home", "r")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("runbook", "needs a runbook's name"),
        ("runbook Bad", "is not a runbook name"),
        ("runbook x function", "is not an argument"),
        ("runbook x function=--account", "is not a value"),
        ("runbook x function=a function=b", "given twice"),
        ("runbooks extra", "takes nothing"),
    ],
)
def test_the_runbook_grammar_refuses_what_could_smuggle_an_option(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse(text)


def test_the_runbook_command_parses_its_arguments() -> None:
    command = parse(
        'runbook throttled function=orders-api "alarm=orders api errors" --account staging'
    )
    assert command.mutating and command.target == "throttled"
    assert command.options == {"function": "orders-api", "alarm": "orders api errors"}
    assert command.account == "staging"


def _diagnosis(kind: str, function: str = "orders-api", member: str = "") -> Diagnosis:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
    dlq = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
    ev = evidence(function=FunctionFacts(name=function, arn=arn, dlq_arn=dlq))
    ev.member = member
    return Diagnosis(ev, [Cause(kind, 0.9, "…")])


def test_an_alarm_is_offered_the_runbooks_whose_match_holds_with_what_it_fills_in(
    tmp_path: Path,
) -> None:
    hand = {**GOOD, "name": "by-hand", "match": {}}
    other = {**GOOD, "name": "other", "args": {"reserve": "5", "alias": "live"}}
    runbooks = load(tmp_path, GOOD, hand, other)
    accounts = Accounts((STAGING,))
    assert runbooks.offered(_diagnosis("throttling"), accounts) == []  # at home, not staging
    # `throttled` needs an alias only a person can give; `by-hand` has no match.
    [offer] = runbooks.offered(_diagnosis("throttling", member=STAGING.id), accounts)
    assert offer.label == "Run runbook: other"
    facts = alarm_facts(_diagnosis("throttling"))
    assert offer.command.startswith(f"/ops runbook other function={facts['function']}")
    assert offer.command.endswith(f"--account {STAGING.id}")
    assert runbooks.offered(_diagnosis("timeout", member=STAGING.id), accounts) == []
    assert runbooks.offered(_diagnosis("throttling", "billing", STAGING.id), accounts) == []


def test_every_kind_a_rule_can_give_is_one_a_runbook_may_match() -> None:
    import re

    from chalicelib.diagnosis.kinds import KINDS

    rules = Path(__file__).resolve().parents[2] / "chalicelib" / "diagnosis" / "rules"
    given = {
        kind
        for path in rules.glob("*.py")
        for kind in re.findall(r'Cause\(\s*"([a-z_]+)"', path.read_text())
    }
    assert given and given <= KINDS


def test_an_alarm_name_a_typed_value_could_not_hold_fills_in_nothing() -> None:
    """Its button would be refused when clicked: such a runbook is not offered for it."""
    from dataclasses import replace

    d = _diagnosis("throttling")
    for name in ("-x", " leading", "fine name"):
        d.evidence.signal = replace(d.evidence.signal, name=name)
        assert ("alarm" in alarm_facts(d)) == (name == "fine name")


def test_each_step_keeps_the_change_it_is_written_as(tmp_path: Path) -> None:
    [book] = load(tmp_path, GOOD).books
    assert book.verbs == ("reserve", "rollback", "redrive")
