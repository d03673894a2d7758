"""The two-person rule: which changes a second operator must approve, and who may act alone.

Rules are words, comma-separated: `<change>[:<function glob>][@<account>]`, where a change is
`alias`, `reserve`, `reserve-0` (the kill switch: reserved concurrency set to 0, or lifted from 0), `provision`,
`redrive`, `memory`, `timeout` or `snooze`, and the account is a configured member's name or id,
or `home` for Shepherd's own. `SHEPHERD_APPROVALS="alias@prod,reserve-0"` makes every alias move in
`prod` and every `reserve 0` anywhere need a second operator. A member account in the accounts file
adds its own (`"approvals": ["alias", "redrive:orders-*"]`, for that account only).

Break-glass operators (`SHEPHERD_BREAK_GLASS`, or an account's `"break_glass"`; user and group ids)
may make such a change alone by giving a reason (`--break-glass "<reason>"`), which the preview,
the channel and the action log carry. A malformed rule is an error at start, never "no rule".
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from chalicelib import markup
from chalicelib.errors import BadInput

# The words of a rule -> the action kinds they name (chalicelib/ops/actions/).
CHANGES = {
    "alias": "alias",
    "reserve": "reserved_concurrency",
    "reserve-0": "reserved_concurrency",
    "provision": "provisioned",
    "redrive": "redrive",
    "memory": "memory",
    "timeout": "timeout",
    "snooze": "snooze",
}
RULE = re.compile(r"^(?P<change>[a-z0-9-]+)(?::(?P<glob>[^@\s]+))?(?:@(?P<account>[\w-]+))?$")
HOME = "home"


@dataclass(frozen=True)
class ApprovalRule:
    change: str  # a key of CHANGES
    functions: str = "*"
    account: str | None = None  # a member's name or id, `home`; None: every account
    source: str = "SHEPHERD_APPROVALS"

    def matches(self, kind: str, target: str, plan: Any, account: tuple[str, ...]) -> bool:
        if CHANGES[self.change] != kind or not fnmatch.fnmatchcase(target, self.functions):
            return False
        if self.change == "reserve-0" and 0 not in (
            getattr(plan, "target", None),
            getattr(plan, "before", None),
        ):
            return False  # the kill switch: setting it, or lifting it
        return self.account is None or self.account in account

    def __str__(self) -> str:
        where = f" in {markup.code(self.account)}" if self.account else ""
        on = f" on {markup.code(self.functions)}" if self.functions != "*" else ""
        return f"{markup.code(self.change)}{on}{where} needs a second operator ({self.source})"


def parse_rules(text: str, source: str, account: str | None = None) -> tuple[ApprovalRule, ...]:
    """`alias@prod,reserve-0` as rules; BadInput naming the first word that is not one."""
    rules = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        matched = RULE.match(word)
        if not matched or matched["change"] not in CHANGES:
            raise BadInput(
                f"{source}: `{word}` is not an approval rule: write `<change>[:<function glob>]"
                f"[@<account>]` with a change among {', '.join(CHANGES)}"
            )
        rules.append(
            ApprovalRule(
                matched["change"], matched["glob"] or "*", account or matched["account"], source
            )
        )
    return tuple(rules)


@dataclass(frozen=True)
class Approvals:
    rules: tuple[ApprovalRule, ...] = ()
    break_glass: tuple[str, ...] = ()  # user and group ids who may act alone, with a reason
    source: str = "SHEPHERD_BREAK_GLASS"  # where `break_glass` comes from, as a refusal names it

    def within(
        self, rules: tuple[ApprovalRule, ...], break_glass: tuple[str, ...], account: str
    ) -> Approvals:
        """In a member account: Shepherd's rules and its own; its break-glass list, else
        Shepherd's."""
        if break_glass:
            who = f"the break-glass operators of {markup.code(account)}"
            return Approvals(self.rules + rules, break_glass, who)
        return Approvals(self.rules + rules, self.break_glass, self.source)

    def needed(
        self, kind: str, target: str, plan: Any, account: tuple[str, ...]
    ) -> ApprovalRule | None:
        """The first rule the change falls under; `account`: the names it goes by (id, name, or
        `home`)."""
        return next((r for r in self.rules if r.matches(kind, target, plan, account)), None)
