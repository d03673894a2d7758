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


def test_memory_and_timeout_take_a_function_and_a_number() -> None:
    assert parse("memory image-resizer 1024") == Command("memory", "image-resizer", number=1024)
    assert parse("memory image-resizer 1024MB").number == 1024
    assert parse("timeout orders 30s") == Command("timeout", "orders", number=30)
    assert parse("timeout orders 30 --account staging").account == "staging"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("memory image-resizer", "takes a function and a number of MB"),
        ("memory image-resizer lots", "whole number from 128 to 10240"),
        ("memory image-resizer 64", "whole number from 128 to 10240"),
        ("timeout orders 901", "whole number from 1 to 900"),
    ],
)
def test_a_setting_out_of_lambdas_limits_is_usage_help(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse(text)


def test_snooze_takes_an_alarm_name_quoted_when_it_has_spaces() -> None:
    assert parse('snooze "orders errors high" 4h') == Command(
        "snooze", "orders errors high", options={"for": "4h"}
    )
    assert parse("snooze orders-errors tomorrow").options == {"for": "tomorrow"}
    assert parse("snooze orders-errors 30m --region eu-west-1").region == "eu-west-1"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("snooze orders-errors", "an alarm and a duration"),
        ("snooze orders-errors soon", "not a snooze duration"),
        ("snooze orders-errors 16d", "from 1 minute to 15 days"),
    ],
)
def test_a_bad_snooze_is_usage_help(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        parse(text)
