"""Runbooks as data: the steps a team always takes for a known alarm, written down once.

`policies/runbooks.json` (or the file `SHEPHERD_RUNBOOKS_FILE` names):

    {"runbooks": [{
        "name": "throttled-consumer",
        "description": "Give the consumer room, then replay what it dropped",
        "match": {"alarms": ["*-throttles"], "kinds": ["throttling"],
                  "functions": ["orders-*"], "accounts": ["home"]},
        "args": {"reserve": "50"},
        "steps": ["concurrency {function} reserve {reserve}", "redrive {queue} --rate 10"],
        "links": [{"label": "Dashboard", "url": "https://grafana.example.com/d/{function}"}]}]}

A step is an `/ops` change (PRODUCT.md §4) with placeholders: `{function}`, `{queue}` and
`{alarm}` come from the alarm, or are given by hand (`/ops runbook throttled-consumer
function=orders`); `{account}` (a member's name, or `home`) and `{region}` are where it runs; the
runbook's own `args` have defaults (null: must be given). Every step runs where the runbook runs
(its `--account`/`--region`, or the alarm's), so a step names neither.

`match` says which alarms offer the runbook: every criterion given must hold, and a list holds
when one of its entries does — alarm-name and function-name globs, diagnosis kinds (the top cause,
or one at least 50% likely), accounts (a member's name or id, or `home`). Without `match` a
runbook is run by hand only.

The file is read and checked when Shepherd starts (runbook_file.py).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalicelib import markup
from chalicelib.accounts import Accounts
from chalicelib.errors import UsageError
from chalicelib.ops.grammar import ALARM, ARG_VALUE, NAME

if TYPE_CHECKING:  # read at every start: what only a diagnosis needs is imported with it
    from chalicelib.diagnosis.causes import Action, Diagnosis

FROM_ALARM = ("function", "queue", "alarm")  # what an alarm fills in
WHERE = ("account", "region")  # where the runbook runs
MAX_STEPS = 10
MAX_LINKS = 5
LIKELY = 0.5  # a diagnosis "names" a kind: its top cause, or one at least this likely
OFFERED = 2  # runbook buttons on one alarm's message
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
HOME = "home"


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # a template: placeholders filled (URL-quoted) when shown


@dataclass(frozen=True)
class Match:
    alarms: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.alarms or self.kinds or self.functions or self.accounts)

    def holds(self, facts: Mapping[str, str], kinds: set[str], account: tuple[str, ...]) -> bool:
        def globbed(value: str | None, globs: tuple[str, ...]) -> bool:
            return not globs or (
                value is not None and any(fnmatch.fnmatchcase(value, g) for g in globs)
            )

        return (
            globbed(facts.get("alarm"), self.alarms)
            and globbed(facts.get("function"), self.functions)
            and (not self.kinds or bool(kinds & set(self.kinds)))
            and (not self.accounts or bool(set(account) & set(self.accounts)))
        )

    def __str__(self) -> str:
        parts = [
            f"{what} {', '.join(markup.code(v) for v in values)}"
            for what, values in (
                ("alarms", self.alarms),
                ("kinds", self.kinds),
                ("functions", self.functions),
                ("accounts", self.accounts),
            )
            if values
        ]
        return "; ".join(parts) or "run by hand only"


@dataclass(frozen=True)
class Runbook:
    name: str
    steps: tuple[str, ...]  # `/ops` changes with placeholders
    verbs: tuple[str, ...] = ()  # the change each step makes, whatever fills it (grammar verbs)
    description: str = ""
    args: Mapping[str, str | None] = field(default_factory=dict)  # its own, with defaults
    match: Match = field(default_factory=Match)
    links: tuple[Link, ...] = ()

    @property
    def uses(self) -> list[str]:
        """The placeholders its steps use, in order of first use."""
        found = (p for step in self.steps for p in PLACEHOLDER.findall(step))
        return list(dict.fromkeys(found))

    @property
    def asks(self) -> list[str]:
        """What must be given for its steps, in order of use: what an alarm fills in, and its
        own args that have no default."""
        return [
            p for p in self.uses if p in FROM_ALARM or (p in self.args and self.args[p] is None)
        ]

    def values(self, given: Mapping[str, str], account: str, region: str) -> dict[str, str]:
        """Every placeholder's value: `given` over the defaults, and where it runs; UsageError
        naming what is unknown or missing."""
        takes = [*FROM_ALARM, *self.args]
        unknown = sorted(set(given) - set(takes))
        if unknown:
            raise UsageError(
                f"runbook {markup.code(self.name)} takes {', '.join(f'`{k}=`' for k in takes)}; "
                f"not {markup.code(unknown[0])}"
                + (" (say `--account`/`--region`)" if unknown[0] in WHERE else "")
            )
        values = {k: v for k, v in self.args.items() if v is not None}
        values.update(given)
        for key in FROM_ALARM:
            if key in values and not _valid(key, values[key]):
                shown = markup.code(values[key]) if key != "alarm" else "that"
                raise UsageError(f"{shown} is not a valid {key} name")
        values.update(account=account, region=region)
        missing = [p for p in self.uses if p not in values]
        if missing:
            asked = " ".join(f"`{p}=<{p}>`" for p in missing)
            raise UsageError(
                f"runbook {markup.code(self.name)} needs {asked}: its steps use "
                f"{', '.join('{' + p + '}' for p in missing)}"
            )
        return values

    def commands(self, values: Mapping[str, str]) -> list[str]:
        """Its steps with the values in: each placeholder filled inside its own word, so that no
        value (spaces, quotes, `--options` and all) can add a word to a step."""
        return [
            shlex.join(fill(word, values, str) for word in shlex.split(step)) for step in self.steps
        ]

    def links_for(self, values: Mapping[str, str]) -> list[Link]:
        """Its links with the values in (URL-quoted); a link some value is missing for is left
        out."""
        out = []
        for link in self.links:
            try:
                url = markup.https_url(fill(link.url, values, lambda v: quote(v, safe="")))
            except KeyError:
                continue
            if url:
                out.append(Link(link.label, url))
        return out


@dataclass(frozen=True)
class Runbooks:
    books: tuple[Runbook, ...] = ()
    source: str = "policies/runbooks.json"

    def get(self, name: str) -> Runbook | None:
        return next((b for b in self.books if b.name == name), None)

    def named(self, name: str) -> Runbook:
        found = self.get(name)
        if found is None:
            import difflib

            close = difflib.get_close_matches(name, [b.name for b in self.books], n=1)
            hint = f"; did you mean {markup.code(close[0])}?" if close else ""
            known = "" if close else " (`/ops runbooks` lists them)"
            raise UsageError(f"no runbook {markup.code(name)}{hint}{known}")
        return found

    def offered(self, d: Diagnosis, accounts: Accounts) -> list[Action]:
        """The runbooks a firing alarm's diagnosis matches, as buttons that run `/ops runbook`
        with what the alarm fills in (and where it is); at most OFFERED."""
        from chalicelib.diagnosis.causes import Action
        from chalicelib.events.signals import Alarm

        signal = d.evidence.signal
        if isinstance(signal, Alarm) and signal.state != "ALARM" and not signal.requested:
            return []
        facts = alarm_facts(d)
        member = accounts.get(d.evidence.member) if d.evidence.member else None
        names = (member.id, member.name) if member else (HOME,)
        kinds = {c.kind for i, c in enumerate(d.causes) if i == 0 or c.confidence >= LIKELY}
        out = []
        for book in self.books:
            if not book.match or not book.match.holds(facts, kinds, names):
                continue
            asks = book.asks
            if any(p not in facts for p in asks):
                continue  # the alarm does not say what a step needs, or only a person can
            words = [f"{p}={shlex.quote(facts[p])}" for p in asks]
            command = " ".join(["/ops runbook", book.name, *words]) + d.evidence.where
            out.append(Action(f"Run runbook: {book.name}", command))
        return out[:OFFERED]


def alarm_facts(d: Diagnosis) -> dict[str, str]:
    """What an alarm fills in: its function, the queue it is about (or its function's DLQ), its
    name."""
    from chalicelib.events.signals import Alarm

    ev = d.evidence
    facts: dict[str, str] = {}
    if ev.function is not None:
        facts["function"] = ev.function.name
    elif ev.resource.type == "function":
        facts["function"] = ev.resource.name
    if ev.resource.type == "queue":
        facts["queue"] = ev.resource.name
    elif ev.queue is not None:
        facts["queue"] = ev.queue.name
    elif ev.function is not None:
        dlq = ev.function.dlq_arn or ev.function.on_failure_arn or ""
        if dlq.startswith("arn:") and ":sqs:" in dlq:
            facts["queue"] = dlq.rsplit(":", 1)[-1]
    signal = ev.signal
    if isinstance(signal, Alarm) and not signal.requested:
        facts["alarm"] = signal.name
    # What a typed `k=v` may hold too, or its button would be refused.
    return {k: v for k, v in facts.items() if _valid(k, v) and ARG_VALUE.match(v)}


def _valid(key: str, value: str) -> bool:
    """A function or queue name, or an alarm name, as the `/ops` grammar takes them."""
    return bool((ALARM if key == "alarm" else NAME).match(value))


def fill(template: str, values: Mapping[str, str], quoted: Any) -> str:
    return PLACEHOLDER.sub(lambda m: quoted(values[m[1]]), template)
