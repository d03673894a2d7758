"""Who may change what: Slack user IDs and user group IDs, optionally per function-name pattern.

The baseline is `SHEPHERD_OPERATORS` (comma-separated `U…` user and `S…` user group IDs). A rules
file (`policies/operators.json`, shipped with the functions) narrows it for matching names:

    {"rules": [{"functions": ["payments-*"], "operators": ["S0PAYMENTS", "U0LEAD"],
                "reason": "payments on-call only"}]}

The first rule whose pattern matches decides; a name no rule matches falls back to the baseline.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import markup
from chalicelib.errors import BadInput

log = logging.getLogger(__name__)
RULES_FILE = Path(__file__).resolve().parents[2] / "policies" / "operators.json"
GROUP_TTL = 300.0  # seconds a user group's members are trusted before they are read again


@dataclass(frozen=True)
class Rule:
    patterns: tuple[str, ...]
    operators: tuple[str, ...]
    reason: str = ""

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    why: str


def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """The rules file, or no rules when it is absent; a malformed file is an error, not 'no rules'."""
    if not path.exists():
        return ()
    try:
        doc = json.loads(path.read_text())
        return tuple(
            Rule(
                patterns=tuple(_strings(r["functions"])),
                operators=tuple(_strings(r["operators"])),
                reason=str(r.get("reason", "")),
            )
            for r in doc.get("rules", [])
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"{path.name}: {exc}") from exc


def _strings(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in values):
        raise TypeError("patterns and operators must be strings")
    return values


class Operators:
    """Decides whether a Slack user may run a change on a function or queue."""

    def __init__(
        self,
        baseline: tuple[str, ...],
        rules: tuple[Rule, ...] = (),
        group_members: Callable[[str], set[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        source: str = "SHEPHERD_OPERATORS",
    ) -> None:
        self.baseline, self.rules = baseline, rules
        self.group_members = group_members
        self.clock = clock
        self.source = source  # where the baseline comes from, as a refusal names it
        self._groups: dict[str, tuple[float, set[str]]] = {}

    def with_baseline(self, baseline: tuple[str, ...], source: str) -> Operators:
        """The same rules and user-group cache, with another baseline (a member account's)."""
        other = Operators(baseline, self.rules, self.group_members, self.clock, source)
        other._groups = self._groups
        return other

    def check(self, user: str, name: str | None = None) -> Verdict:
        allowed, source = self.baseline, self.source
        for rule in self.rules if name else ():
            if rule.matches(name or ""):
                allowed = rule.operators
                source = f"the operators rule for `{'`, `'.join(rule.patterns)}`" + (
                    f" ({rule.reason})" if rule.reason else ""
                )
                break
        if user in allowed:
            return Verdict(True, f"listed in {source}")
        for group in (g for g in allowed if g.startswith("S")):
            if user in self._members(group):
                return Verdict(True, f"member of {markup.group(group)} in {source}")
        if not allowed:
            return Verdict(
                False,
                f"no operators are configured ({source} is empty), so no one may make changes: "
                "name them at deploy (`make deploy OPERATORS=U…,S…`)",
            )
        return Verdict(False, f"{markup.user(user)} is not an operator per {source}")

    def _members(self, group: str) -> set[str]:
        cached = self._groups.get(group)
        if cached and self.clock() - cached[0] < GROUP_TTL:
            return cached[1]
        if self.group_members is None:
            return set()
        try:
            members = self.group_members(group)
        except Exception:
            log.warning("could not read user group %s; its members are not operators", group)
            return cached[1] if cached else set()
        self._groups[group] = (self.clock(), members)
        return members


def slack_group_members(client: Any) -> Callable[[str], set[str]]:
    """usergroups.users.list through the bot's WebClient (scope usergroups:read)."""

    def members(group: str) -> set[str]:
        response = client.usergroups_users_list(usergroup=group)
        return set(response.get("users") or [])

    return members
