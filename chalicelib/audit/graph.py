"""Who can become whom: the trust graph an attacker walks. Pure.

An edge runs from a principal to a role when the principal's policies allow `sts:AssumeRole` on
the role (after its Denies) and the role's trust policy admits it: by its ARN, by its account's
root, or by anyone, under a condition that does not exclude it (`aws:PrincipalArn` is judged; any
other condition keeps the edge and marks the path conditioned). A path ends at a privileged role:
an administrator, or one whose own policies complete an escalation path.

Built for 30,000 roles without an all-pairs table: the walk goes backwards from the privileged
roles, one breadth-first pass. For each role it reaches, the principals that may assume it come
from indexes of what their `sts:AssumeRole` names (an exact ARN; every role; a pattern), and each
principal is settled once, with the next hop of its shortest path. The same indexes settle
`iam:PassRole` limited to some roles (escalation.py's pending paths): a path if one of the roles it
reaches is privileged and trusts the path's service.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.audit.conditions import Test, judge
from chalicelib.audit.escalation import Method, Reach
from chalicelib.audit.findings import Finding, lower
from chalicelib.audit.policy import Statement
from chalicelib.audit.trust import assumes


@dataclass(frozen=True, slots=True)
class Admission:
    """One Allow of a trust policy for sts:AssumeRole: who it names, under what condition."""

    arns: frozenset[str]  # principal ARNs, lower-cased
    accounts: frozenset[str]  # accounts whose every principal it admits (their root)
    anyone: bool
    tests: tuple[Test, ...]


def admissions(stmts: list[Statement]) -> tuple[tuple[Admission, ...], frozenset[str]]:
    """A trust policy's admissions of AWS principals, and the services it trusts."""
    out, services = [], set()
    for s in stmts:
        if s.effect != "Allow" or not assumes(s):
            continue
        arns, accounts, anyone = set(), set(), False
        for p in s.principals:
            kind, _, value = p.partition(":") if p != "*" else ("AWS", "", "*")
            if kind == "Service":
                services.add(value.lower())
            if kind != "AWS":
                continue
            if value == "*":
                anyone = True
            elif value.isdigit():
                accounts.add(value)
            elif value.endswith(":root"):
                accounts.add(value.split(":")[4])
            else:
                arns.add(value.lower())
        if arns or accounts or anyone:
            out.append(Admission(frozenset(arns), frozenset(accounts), anyone, s.tests))
    return tuple(out), frozenset(services)


@dataclass(slots=True)
class Role:
    arn: str
    name: str
    power: str | None  # what makes it worth becoming, or None
    trusts: tuple[Admission, ...]
    services: frozenset[str]

    def admits(self, arn: str, account: str) -> tuple[bool | None, bool]:
        """True, None (under a condition not judged), or False; and whether it names `arn`
        itself (which needs no Allow of the principal's own)."""
        verdict: bool | None = False
        named = False
        for a in self.trusts:
            if a.anyone or account in a.accounts or arn.lower() in a.arns:
                held = judge(a.tests, {"aws:principalarn": arn}) if a.tests else True
                if held is not False:
                    named |= arn.lower() in a.arns
                if held:
                    verdict = True
                elif held is None and verdict is False:
                    verdict = None
        return verdict, named


@dataclass(slots=True)
class Source:
    name: str  # "role/ci-runner"
    arn: str
    account: str
    reach: Reach
    lambda_role: bool = False
    named_ok: bool = True  # see escalation.Judged.named_ok


@dataclass
class Graph:
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN, lower-cased
    sources: dict[str, Source] = field(default_factory=dict)
    pending: list[tuple[Source, Method, Reach]] = field(default_factory=list)

    def role(self, role: Role) -> None:
        self.roles[role.arn.lower()] = role

    def source(self, source: Source) -> None:
        self.sources[source.arn.lower()] = source

    def pass_pending(self, source: Source, method: Method, reach: Reach) -> None:
        self.pending.append((source, method, reach))

    # --- the walk ----------------------------------------------------------------------------

    def paths(self) -> dict[str, tuple[list[str], bool]]:
        """Each source that can become a privileged role: the role ARNs on its shortest path
        (the last one privileged), and whether a condition not judged lies on it."""
        exact: dict[str, list[Source]] = {}
        every: dict[str, dict[str, Source]] = {}  # account → unsettled sources reaching all roles
        patterned: dict[str, list[Source]] = {}  # by what its patterns say before a wildcard
        for s in self.sources.values():
            if s.reach.every_role:
                every.setdefault(s.account, {})[s.arn.lower()] = s
                continue
            for a in s.reach.allows:
                if a.except_ is not None:  # all but some: a candidate for every role
                    patterned.setdefault("", []).append(s)
                    continue
                for p in a.patterns:
                    if _wild((p,)):
                        prefix = p.lower().split("*", 1)[0].split("?", 1)[0]
                        patterned.setdefault(prefix, []).append(s)
                    else:
                        exact.setdefault(p.lower(), []).append(s)
        hop: dict[str, tuple[str, bool]] = {}  # source ARN → (next role ARN, conditioned)
        queue = deque(arn for arn, r in self.roles.items() if r.power)
        while queue:
            target = self.roles[queue.popleft()]
            for s in self._candidates(target, exact, every, patterned, self.sources):
                key = s.arn.lower()
                if key in hop or key == target.arn.lower():
                    continue
                admitted, named = target.admits(s.arn, s.account)
                if admitted is False:
                    continue
                if not s.reach.admits(target.arn) and not (
                    named and s.named_ok and not any(d.reach(target.arn) for d in s.reach.denies)
                ):
                    continue
                onward = hop.get(target.arn.lower(), ("", False))[1]
                hop[key] = (target.arn.lower(), admitted is None or s.reach.conditioned or onward)
                every.get(s.account, {}).pop(key, None)
                if key in self.roles and not self.roles[key].power:
                    queue.append(key)
        out = {}
        for key in hop:
            path: list[str] = []
            conditioned, at = False, key
            while at in hop and len(path) < 50:
                at, c = hop[at]
                path.append(at)
                conditioned |= c
                if self.roles[at].power:
                    break
            out[key] = (path, conditioned)
        return out

    @staticmethod
    def _candidates(
        target: Role,
        exact: dict[str, list[Source]],
        every: dict[str, dict[str, Source]],
        patterned: dict[str, list[Source]],
        everyone: dict[str, Source],
    ) -> Iterator[Source]:
        """Who may ask to assume `target`, before its trust and their Denies are checked."""
        yield from exact.get(target.arn.lower(), ())
        for a in target.trusts:
            yield from (everyone[arn] for arn in a.arns if arn in everyone)
            accounts = every.keys() if a.anyone else a.accounts
            for account in list(accounts):
                yield from list(every.get(account, {}).values())
            for arn in a.arns:
                for sources in every.values():
                    if arn in sources:
                        yield sources[arn]
        arn = target.arn.lower()
        for end in range(len(arn) + 1):  # the patterns whose literal start it has
            yield from patterned.get(arn[:end], ())

    # --- findings ----------------------------------------------------------------------------

    def findings(self) -> list[Finding]:
        out = []
        for key, (path, conditioned) in self.paths().items():
            source = self.sources[key]
            if key in self.roles and self.roles[key].power:
                continue  # privileged already: its own finding says how
            last = self.roles[path[-1]]
            steps = " → ".join(f"assumes `{self.roles[a].name}`" for a in path)
            detail = (
                f"It can become `{last.name}`, which {last.power}: "
                f"`{source.name.split('/', 1)[-1]}` → {steps}"
                + ("; a condition on the way is not judged" if conditioned else "")
            )
            severity = "critical" if source.lambda_role else "high"
            out.append(
                Finding(
                    "privilege_escalation",
                    lower(severity) if conditioned else severity,
                    source.name,
                    "(assumes roles)",
                    "-",
                    detail,
                    ("sts:AssumeRole",),
                    len(path),
                )
            )
        privileged: dict[str, list[tuple[str, Role]]] = {}  # service → its privileged roles
        for r in self.roles.values():
            for service in r.services if r.power else ():
                privileged.setdefault(service, []).append((r.arn.lower(), r))
        for roles in privileged.values():
            roles.sort(key=lambda pair: pair[0])
        for source, method, reach in self.pending:
            role = _passable(privileged.get(method.passes_to or "", []), reach, source.arn)
            if role is None:
                continue
            detail = (
                f"It can pass `{role.name}`, which {role.power}, to {method.passes_to}: "
                f"{method.name} ({' + '.join(method.actions)}) {method.cited}"
                + ("; under a condition not judged" if reach.conditioned else "")
            )
            severity = "critical" if source.lambda_role else "high"
            out.append(
                Finding(
                    "privilege_escalation",
                    lower(severity) if reach.conditioned else severity,
                    source.name,
                    "(passes roles)",
                    method.name,
                    detail,
                    tuple(method.actions),
                    len(method.actions),
                )
            )
        return out


def _passable(roles: list[tuple[str, Role]], reach: Reach, source: str) -> Role | None:
    """A privileged role (of `roles`, sorted by ARN) that `reach` may pass, other than the
    source: only the roles whose ARN starts as a pattern's literal part are tried."""
    if any(a.except_ is not None for a in reach.allows):
        ranges = [roles]
    else:
        ranges = []
        for a in reach.allows:
            for pattern in a.patterns:
                literal = pattern.lower().split("*", 1)[0].split("?", 1)[0]
                start = bisect.bisect_left(roles, literal, key=lambda pair: pair[0])
                end = start
                while end < len(roles) and roles[end][0].startswith(literal):
                    end += 1
                ranges.append(roles[start:end])
    for candidates in ranges:
        for arn, role in candidates:
            if arn != source.lower() and reach.admits(role.arn):
                return role
    return None


def _wild(patterns: tuple[str, ...]) -> bool:
    return any("*" in p or "?" in p for p in patterns)
