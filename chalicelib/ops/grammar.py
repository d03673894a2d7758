"""The `/ops` grammar of PRODUCT.md §4, parsed into commands. Pure; a typo raises UsageError."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chalicelib import markup
from chalicelib.accounts import NAME as ACCOUNT_NAME
from chalicelib.accounts import REGION
from chalicelib.aws.limits import MEMORY_MB, TIMEOUT_S
from chalicelib.errors import UsageError

USAGE = """\
`/ops help`
`/ops status <function>` · config, aliases, concurrency, DLQ, last-hour health
`/ops diagnose <function>` · the alarm diagnosis, on demand
`/ops redrive <queue> [--max N] [--rate R]`
`/ops concurrency <function>` · show
`/ops concurrency <function> reserve N` | `unreserve`
`/ops concurrency <function> provision N --alias A` | `unprovision --alias A`
`/ops alias <function> <alias>` · show
`/ops alias <function> <alias> to <version>` | `rollback` | `canary <version> <percent>`
`/ops memory <function> <MB>` · previewed with its monthly cost change
`/ops timeout <function> <seconds>`
`/ops snooze <alarm> <duration>` · 30m, 1h, 4h, 2d or `tomorrow` (09:00); a mute rule
`/ops audit [<filter>]`
`/ops history [<function>]`
`/ops undo <action-id>`
`/ops runbooks` · the configured runbooks
`/ops runbook <name> [<arg>=<value> ...]` · its steps previewed as one plan, run on one Confirm
Any command: `--account <name|id>` (a configured member account) and `--region <region>`; a change
that needs a second operator: `--break-glass "<reason>"` to act alone, if you are break-glass"""

NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,140}$")
MUTATING = {
    "redrive",
    "reserve",
    "unreserve",
    "provision",
    "unprovision",
    "alias_to",
    "rollback",
    "canary",
    "undo",
    "memory",
    "timeout",
    "snooze",
    "runbook",
}


@dataclass(frozen=True)
class Command:
    verb: str  # help, status, diagnose, redrive, concurrency, reserve, ..., alias, alias_to, ...
    target: str | None = None  # function or queue
    alias: str | None = None
    number: int | None = None
    version: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    account: str | None = None  # `--account`: a configured member (name or id); None: home
    region: str | None = None  # `--region`; None: Shepherd's own
    break_glass: str | None = (
        None  # `--break-glass "<reason>"`: act alone (chalicelib/approvals.py)
    )

    @property
    def mutating(self) -> bool:
        return self.verb in MUTATING


def parse(text: str) -> Command:
    try:
        words = shlex.split(text or "")
    except ValueError as exc:
        raise UsageError(f"could not read that command ({exc})") from exc
    if not words or words[0] == "help":
        return Command("help")
    verb, rest = words[0].lower(), words[1:]
    parser = _PARSERS.get(verb)
    if parser is None:
        close = difflib.get_close_matches(verb, list(_PARSERS), n=1, cutoff=0.7)
        hint = f"; did you mean {markup.code(close[0])}?" if close else ""
        raise UsageError(f"unknown command {markup.code(verb)}{hint}")
    rest, where = _where(rest)
    return replace(
        parser(rest),
        account=where.get("account"),
        region=where.get("region"),
        break_glass=where.get("break-glass"),
    )


def _where(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """`--account` and `--region`, which every command takes, apart from the command's own."""
    rest, where, i = [], {}, 0
    while i < len(words):
        key = words[i][2:] if words[i] in ("--account", "--region", "--break-glass") else None
        if key is None:
            rest.append(words[i])
            i += 1
            continue
        if i + 1 >= len(words):
            raise UsageError(f"{markup.code(words[i])} needs a value")
        value = words[i + 1]
        if key == "break-glass":
            if not value.strip() or value.startswith("--"):
                raise UsageError('`--break-glass` needs the reason, quoted: `--break-glass "why"`')
            where[key] = value.strip()[:300]
            i += 2
            continue
        # A member's name or 12-digit id, and a region, as the accounts file accepts them.
        if not (REGION if key == "region" else ACCOUNT_NAME).match(value):
            raise UsageError(f"{markup.code(value)} is not a valid {key}")
        where[key] = value
        i += 2
    return rest, where


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise UsageError(f"{markup.code(value)} is not a valid {what} name")
    return value


def _count(value: str, what: str, low: int = 0, high: int = 100_000) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise UsageError(
            f"{what} must be a whole number from {low} to {high}, not {markup.code(value)}"
        )
    return int(value)


def _options(words: list[str], allowed: set[str]) -> tuple[list[str], dict[str, str]]:
    positional, options = [], {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            key = word[2:]
            if key not in allowed:
                raise UsageError(f"unknown option {markup.code(word)}")
            if i + 1 >= len(words):
                raise UsageError(f"{markup.code(word)} needs a value")
            options[key] = words[i + 1]
            i += 2
        else:
            positional.append(word)
            i += 1
    return positional, options


def _one_target(verb: str, what: str) -> Callable[[list[str]], Command]:
    def parse_it(rest: list[str]) -> Command:
        if len(rest) != 1:
            raise UsageError(f"{markup.code(verb)} takes one {what}")
        return Command(verb, _name(rest[0], what))

    return parse_it


def _redrive(rest: list[str]) -> Command:
    positional, options = _options(rest, {"max", "rate"})
    if len(positional) != 1:
        raise UsageError("`redrive` takes one queue")
    if "max" in options:
        _count(options["max"], "--max", 1)
    if "rate" in options:
        _count(options["rate"], "--rate", 1, 500)
    return Command("redrive", _name(positional[0], "queue"), options=options)


def _concurrency(rest: list[str]) -> Command:
    positional, options = _options(rest, {"alias"})
    if not positional:
        raise UsageError("`concurrency` needs a function")
    function = _name(positional[0], "function")
    match positional[1:]:
        case []:
            return Command("concurrency", function)
        case ["reserve", n]:
            return Command("reserve", function, number=_count(n, "reserved concurrency"))
        case ["unreserve"]:
            return Command("unreserve", function)
        case ["provision", n]:
            if "alias" not in options:
                raise UsageError(
                    "`provision` needs `--alias A`: provisioned concurrency is set on an alias"
                )
            return Command(
                "provision",
                function,
                alias=_name(options["alias"], "alias"),
                number=_count(n, "provisioned concurrency", 1),
            )
        case ["unprovision"]:
            if "alias" not in options:
                raise UsageError("`unprovision` needs `--alias A`")
            return Command("unprovision", function, alias=_name(options["alias"], "alias"))
    raise UsageError(
        "`concurrency <function>` takes `reserve N`, `unreserve`, `provision N --alias A` "
        "or `unprovision --alias A`"
    )


def _alias(rest: list[str]) -> Command:
    if len(rest) < 2:
        raise UsageError("`alias` needs a function and an alias")
    function, alias = _name(rest[0], "function"), _name(rest[1], "alias")
    match rest[2:]:
        case []:
            return Command("alias", function, alias=alias)
        case ["to", version]:
            return Command("alias_to", function, alias=alias, version=_version(version))
        case ["rollback"]:
            return Command("rollback", function, alias=alias)
        case ["canary", version, percent]:
            return Command(
                "canary",
                function,
                alias=alias,
                version=_version(version),
                number=_count(percent.rstrip("%"), "canary percent", 0, 100),
            )
    raise UsageError(
        "`alias <function> <alias>` takes `to <version>`, `rollback` or `canary <version> <percent>`"
    )


def _version(value: str) -> str:
    if not value.isdigit():
        raise UsageError(
            f"{markup.code(value)} is not a published version number (aliases point to published versions)"
        )
    return value


def _setting(verb: str, unit: str, low: int, high: int) -> Callable[[list[str]], Command]:
    def parse_it(rest: list[str]) -> Command:
        if len(rest) != 2:
            raise UsageError(f"{markup.code(verb)} takes a function and a number of {unit}")
        value = rest[1].lower().removesuffix(unit.lower())
        return Command(verb, _name(rest[0], "function"), number=_count(value, verb, low, high))

    return parse_it


ALARM = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")  # CloudWatch alarm names: printable, ≤ 255
SNOOZE = re.compile(r"^(?P<n>\d{1,4})(?P<unit>m|min|h|d)$")
SNOOZE_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400}
MAX_SNOOZE_S = 15 * 86400  # a mute rule's longest window


def snooze_seconds(text: str) -> int | None:
    """`30m`, `4h`, `2d` in seconds; None for `tomorrow` (09:00 the next day)."""
    if text == "tomorrow":
        return None
    match = SNOOZE.match(text)
    if not match:
        raise UsageError(
            f"{markup.code(text)} is not a snooze duration: say `30m`, `1h`, `2d` or `tomorrow`"
        )
    seconds = int(match["n"]) * SNOOZE_UNITS[match["unit"]]
    if not 60 <= seconds <= MAX_SNOOZE_S:
        raise UsageError("a snooze lasts from 1 minute to 15 days (a mute rule's limits)")
    return seconds


def _snooze(rest: list[str]) -> Command:
    if len(rest) != 2:
        raise UsageError("`snooze` takes an alarm and a duration (quote an alarm name with spaces)")
    alarm, duration = rest[0], rest[1].lower()
    if not ALARM.match(alarm):
        raise UsageError(f"`{alarm[:60]}` is not a valid alarm name")
    snooze_seconds(duration)
    return Command("snooze", alarm, options={"for": duration})


def _audit(rest: list[str]) -> Command:
    if len(rest) > 1:
        raise UsageError("`audit` takes at most one filter")
    return Command("audit", rest[0] if rest else None)


def _history(rest: list[str]) -> Command:
    if len(rest) > 1:
        raise UsageError("`history` takes at most one function")
    return Command("history", _name(rest[0], "function") if rest else None)


RUNBOOK = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ARG = re.compile(r"^(?P<key>[a-z][a-z0-9_]{0,30})=(?P<value>.*)$", re.DOTALL)
# A value fills a placeholder of a step: never an option (`--…`), nothing unprintable.
ARG_VALUE = re.compile(r"^[^\x00-\x1f\x7f\s-][^\x00-\x1f\x7f]{0,254}$")


def _runbooks(rest: list[str]) -> Command:
    if rest:
        raise UsageError("`runbooks` takes nothing: `/ops runbook <name>` runs one")
    return Command("runbooks")


def _runbook(rest: list[str]) -> Command:
    """`runbook <name> [<arg>=<value> ...]`: the values fill the placeholders of its steps."""
    if not rest:
        raise UsageError("`runbook` needs a runbook's name; `/ops runbooks` lists them")
    name, args = rest[0], {}
    if not RUNBOOK.match(name):
        raise UsageError(
            f"{markup.code(name[:60])} is not a runbook name; `/ops runbooks` lists them"
        )
    for word in rest[1:]:
        matched = ARG.match(word)
        if not matched:
            raise UsageError(
                f"{markup.code(word[:60])} is not an argument: write `<arg>=<value>` "
                "(`function=orders`)"
            )
        key, value = matched["key"], matched["value"]
        if not ARG_VALUE.match(value):
            raise UsageError(
                f"{markup.code(value[:60])} is not a value for {markup.code(key)}: printable, "
                "not starting with `-` or a space, at most 255 characters"
            )
        if key in args:
            raise UsageError(f"{markup.code(key)} is given twice")
        args[key] = value
    return Command("runbook", name, options=args)


def _undo(rest: list[str]) -> Command:
    if len(rest) != 1:
        raise UsageError("`undo` takes one action id")
    return Command("undo", _name(rest[0], "action id"))


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "status": _one_target("status", "function"),
    "diagnose": _one_target("diagnose", "function"),
    "redrive": _redrive,
    "concurrency": _concurrency,
    "alias": _alias,
    "memory": _setting("memory", "MB", *MEMORY_MB),
    "timeout": _setting("timeout", "s", *TIMEOUT_S),
    "snooze": _snooze,
    "audit": _audit,
    "history": _history,
    "undo": _undo,
    "runbooks": _runbooks,
    "runbook": _runbook,
}
