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

The file is read when Shepherd starts: a malformed one is an error naming the runbook and what is
wrong, never "no runbooks".
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalicelib import markup
from chalicelib.accounts import Accounts
from chalicelib.diagnosis.kinds import KINDS
from chalicelib.errors import BadInput, UsageError
from chalicelib.ops.grammar import ALARM, ARG, ARG_VALUE, NAME, RUNBOOK, parse

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
        for key in ("function", "queue"):
            if key in values and not NAME.match(values[key]):
                raise UsageError(f"{markup.code(values[key])} is not a valid {key} name")
        if "alarm" in values and not ALARM.match(values["alarm"]):
            raise UsageError("that is not a valid alarm name")
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
            shlex.join(_fill(word, values, str) for word in shlex.split(step))
            for step in self.steps
        ]

    def links_for(self, values: Mapping[str, str]) -> list[Link]:
        """Its links with the values in (URL-quoted); a link some value is missing for is left
        out."""
        out = []
        for link in self.links:
            try:
                url = markup.https_url(_fill(link.url, values, lambda v: quote(v, safe="")))
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
            needed = [p for p in book.uses if p not in (*WHERE, *book.args)]
            if any(p not in facts for p in needed):
                continue  # the alarm does not say what a step needs
            missing = [p for p in book.uses if p in book.args and book.args[p] is None]
            if missing:
                continue  # it needs a value only a person can give
            words = [f"{p}={shlex.quote(facts[p])}" for p in needed]
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
    return {  # what a typed `k=v` may hold too, or its button would be refused
        k: v
        for k, v in facts.items()
        if (ALARM if k == "alarm" else NAME).match(v) and ARG_VALUE.match(v)
    }


def _fill(template: str, values: Mapping[str, str], quoted: Any) -> str:
    return PLACEHOLDER.sub(lambda m: quoted(values[m[1]]), template)


# --- the file ------------------------------------------------------------------------------

KEYS = {"name", "description", "match", "args", "steps", "links"}
MATCH_KEYS = {"alarms", "kinds", "functions", "accounts"}
SAMPLE = {"function": "sample-function", "queue": "sample-queue", "alarm": "sample 'alarm' --x"}


def load_runbooks(path: Path, accounts: Accounts | None = None) -> Runbooks:
    """The runbooks of `path` (none when there is no file); BadInput naming the runbook and
    what is wrong."""
    if not path.exists():
        return Runbooks(source=path.name)
    try:
        doc = json.loads(path.read_text())
    except ValueError as exc:
        raise BadInput(f"{path.name}: not JSON: {exc}") from exc
    if (
        not isinstance(doc, dict)
        or set(doc) - {"runbooks"}
        or not isinstance(doc.get("runbooks", []), list)
    ):
        raise BadInput(f'{path.name}: expected {{"runbooks": [...]}} and nothing else')
    books = []
    for i, raw in enumerate(doc.get("runbooks", []), start=1):
        label = f"runbook {i}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            label = f"runbook `{raw['name']}`"
        try:
            books.append(_runbook(raw, accounts or Accounts()))
        except (ValueError, TypeError, UsageError) as exc:
            reason = exc.shown() if isinstance(exc, UsageError) else str(exc)
            raise BadInput(f"{path.name}: {label}: {markup.unmarked(reason)}") from exc
    names = [b.name for b in books]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BadInput(f"{path.name}: runbook {', '.join(twice)} given twice")
    return Runbooks(tuple(books), path.name)


def _object(raw: Any, keys: set[str], what: str) -> dict[str, Any]:
    """`raw` as an object of some of `keys`; a misspelt key is an error, never ignored."""
    if not isinstance(raw, dict):
        raise TypeError(f"{what} is an object of {', '.join(sorted(keys))}")
    extra = sorted(set(raw) - keys)
    if extra:
        raise ValueError(f"unknown key `{extra[0]}` in {what} ({', '.join(sorted(keys))})")
    return raw


def _runbook(raw: Any, accounts: Accounts) -> Runbook:
    raw = _object(raw, KEYS, "a runbook")
    name = raw.get("name")
    if not isinstance(name, str) or not RUNBOOK.match(name):
        raise ValueError("`name` must be lower-case letters, digits and dashes (at most 63)")
    args = _args(raw.get("args", {}))
    steps = _strings(raw.get("steps"), "steps")
    if not 1 <= len(steps) <= MAX_STEPS:
        raise ValueError(f"`steps` must list 1 to {MAX_STEPS} `/ops` changes")
    known = {*FROM_ALARM, *WHERE, *args}
    verbs = tuple(_check_step(n, step, known, args) for n, step in enumerate(steps, start=1))
    book = Runbook(
        name=name,
        steps=tuple(steps),
        verbs=verbs,
        description=str(raw.get("description") or "")[:300],
        args=args,
        match=_match(raw.get("match", {}), accounts),
        links=_links(raw.get("links", []), known),
    )
    return book


def _check_step(n: int, step: str, known: set[str], args: Mapping[str, str | None]) -> str:
    """The change `step` makes (its grammar verb); ValueError saying what is wrong with it."""
    used = PLACEHOLDER.findall(step)
    unknown = [p for p in used if p not in known]
    if unknown:
        raise ValueError(
            f"step {n} uses `{{{unknown[0]}}}`, which is neither an alarm's "
            f"({', '.join('{' + k + '}' for k in (*FROM_ALARM, *WHERE))}) nor one of its `args`"
        )
    try:
        words = shlex.split(step)
    except ValueError as exc:
        raise ValueError(f"step {n} `{step}`: {exc}") from exc
    if not words or PLACEHOLDER.search(words[0]):
        raise ValueError(f"step {n} `{step}`: a step's command is written out, not a placeholder")
    sample = {**SAMPLE, "account": HOME, "region": "us-east-1"}
    sample.update({k: v if v is not None else "1" for k, v in args.items()})
    try:
        command = parse(shlex.join(_fill(word, sample, str) for word in words))
    except UsageError as exc:
        raise ValueError(f"step {n} `{step}`: {markup.unmarked(exc.shown())}") from exc
    if not command.mutating or command.verb in ("undo", "runbook"):
        raise ValueError(
            f"step {n} `{step}` is not a change: a step is an `/ops` change such as "
            "`concurrency {function} reserve 50` (not `undo`, nor another runbook)"
        )
    if command.account or command.region or command.break_glass:
        raise ValueError(
            f"step {n} `{step}`: a step runs where the runbook runs; leave out "
            "`--account`, `--region` and `--break-glass` (give them to the runbook)"
        )
    return command.verb


def _args(raw: Any) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        raise TypeError("`args` is an object: name → default (null: it must be given)")
    out: dict[str, str | None] = {}
    for key, default in raw.items():
        if not ARG.match(f"{key}=") or key in (*FROM_ALARM, *WHERE):
            raise ValueError(
                f"arg `{key}`: an arg is lower-case letters, digits and `_`, and not one of "
                f"{', '.join(FROM_ALARM + WHERE)}"
            )
        if default is not None and not (
            isinstance(default, str | int) and NAME.match(str(default))
        ):
            raise ValueError(f"arg `{key}`: its default must be a word such as `50` or `live`")
        out[key] = None if default is None else str(default)
    return out


def _match(raw: Any, accounts: Accounts) -> Match:
    raw = _object(raw, MATCH_KEYS, "`match`")
    kinds = _strings(raw.get("kinds", []), "match.kinds")
    wrong = [k for k in kinds if k not in KINDS]
    if wrong:
        raise ValueError(f"`{wrong[0]}` is not a diagnosis kind (PRODUCT.md §3)")
    where = _strings(raw.get("accounts", []), "match.accounts")
    for ref in where:
        if ref != HOME and accounts.get(ref) is None:
            known = ", ".join(a.name for a in accounts.members) or "none"
            raise ValueError(
                f"`{ref}` is not a configured account (configured: {known}; `home` is "
                "Shepherd's own)"
            )
    # An id and a name are the same account: match by either.
    expanded = {n for ref in where for n in _names(ref, accounts)}
    return Match(
        alarms=tuple(_strings(raw.get("alarms", []), "match.alarms")),
        kinds=tuple(kinds),
        functions=tuple(_strings(raw.get("functions", []), "match.functions")),
        accounts=tuple(sorted(expanded)),
    )


def _names(ref: str, accounts: Accounts) -> Iterable[str]:
    member = accounts.get(ref)
    return (member.id, member.name) if member else (ref,)


def _links(raw: Any, known: set[str]) -> tuple[Link, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_LINKS:
        raise TypeError(f"`links` is a list of at most {MAX_LINKS} {{label, url}}")
    out = []
    for link in raw:
        if not isinstance(link, dict) or set(link) != {"label", "url"}:
            raise TypeError('a link is {"label": "...", "url": "https://..."}')
        label, url = str(link["label"]), str(link["url"])
        unknown = [p for p in PLACEHOLDER.findall(url) if p not in known]
        if unknown:
            raise ValueError(f"link `{label}` uses `{{{unknown[0]}}}`, which nothing fills")
        sample = PLACEHOLDER.sub("x", url)
        if not label.strip() or markup.https_url(sample) is None:
            raise ValueError(f"link `{label}`: the url must be https to a host (`{url}`)")
        out.append(Link(label.strip()[:75], url))
    return tuple(out)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError(f"`{what}` must be a list of strings")
    return [v.strip() for v in value]
