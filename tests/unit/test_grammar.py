"""The `/ops` grammar (PRODUCT.md §4), extended compatibly with `--account` and `--region`."""

from __future__ import annotations

import pytest

from chalicelib.errors import UsageError
from chalicelib.ops.grammar import Command, parse


def test_a_command_without_account_or_region_parses_as_before() -> None:
    assert parse("concurrency orders reserve 5") == Command("reserve", "orders", number=5)
    assert parse("redrive orders-dlq --max 3") == Command(
        "redrive", "orders-dlq", options={"max": "3"}
    )


@pytest.mark.parametrize(
    "text",
    [
        "concurrency orders reserve 5 --account staging --region eu-west-1",
        "concurrency --region eu-west-1 orders reserve 5 --account staging",
        "concurrency orders --account staging reserve 5 --region eu-west-1",
    ],
)
def test_account_and_region_go_anywhere_after_the_verb(text: str) -> None:
    command = parse(text)
    assert (command.verb, command.target, command.number) == ("reserve", "orders", 5)
    assert (command.account, command.region) == ("staging", "eu-west-1")


def test_every_command_takes_an_account() -> None:
    for text in ("status orders", "diagnose orders", "audit", "history orders", "undo ab12cd34"):
        assert parse(f"{text} --account 210987654321").account == "210987654321"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("status orders --account", "needs a value"),
        ("status orders --region mars", "not a valid region"),
        ("status orders --account Prod!", "not a valid account"),
        ("redrive q --acount staging", "unknown option"),
    ],
)
def test_a_bad_account_or_region_is_usage_help(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse(text)
