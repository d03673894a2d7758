"""The runbooks file (`policies/runbooks.json`, or `SHEPHERD_RUNBOOKS_FILE`): read when Shepherd
starts and checked whole — every key known, every placeholder filled by something, every step a
change as the `/ops` grammar parses it, every kind, account and link real. A malformed file is an
error naming the runbook and what is wrong, never "no runbooks" (the shape: runbooks.py)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chalicelib import markup
from chalicelib.accounts import Accounts
from chalicelib.diagnosis.kinds import KINDS
from chalicelib.errors import BadInput, UsageError
from chalicelib.ops.grammar import ARG, NAME, RUNBOOK, parse
from chalicelib.ops.runbooks import (
    FROM_ALARM,
    HOME,
    MAX_LINKS,
    MAX_STEPS,
    PLACEHOLDER,
    WHERE,
    Link,
    Match,
    Runbook,
    Runbooks,
    fill,
)

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
        command = parse(shlex.join(fill(word, sample, str) for word in words))
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
