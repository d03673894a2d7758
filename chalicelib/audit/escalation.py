"""Privilege escalation: a principal whose allowed actions complete a published path, judged as IAM
would judge the requests that path makes. Pure.

The paths are data (`escalations.json`, built by devtools/build_escalations.py): cloudsplaining's
maintained list and the published paths it lacks, each with its source. A path's action counts
when a statement grants it on a resource the path can use, under a condition that allows the
path's request, and no Deny takes it back:

- resources (targets.py): every resource of its type in the account, or the principal itself;
- conditions (conditions.py): `iam:PassedToService` must allow the service the path passes the role
  to, `iam:PolicyARN` an administrator's policy, `iam:PermissionsBoundary` a principal without a
  boundary; a condition on anything else keeps the path and says it is conditioned;
- Denies as IAM applies them: `NotResource`, scoped resources, conditions.

`iam:PassRole` limited to some roles is a path only if one of them is privileged and trusts the
path's service: that is known once every role has been read, so it is left `pending` for the
graph (graph.py), which also walks who can become whom through `sts:AssumeRole`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.audit.catalogue import EMPTY, ActionSet, Catalogue, positions
from chalicelib.audit.conditions import Test, judge
from chalicelib.audit.findings import Finding, lower
from chalicelib.audit.merge import SHOWN_ACTIONS
from chalicelib.audit.targets import (
    ON_GROUP,
    ON_ITSELF,
    ON_POLICY,
    ON_ROLE,
    ON_USER,
    Grant,
    Roles,
    arn_matches,
    every_role,
    where,
)

DATA = Path(__file__).with_name("escalations.json")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
BOUNDED = ON_ROLE | ON_USER | {"iam:createrole", "iam:createuser"}
PASS_ROLE, ASSUME_ROLE = "iam:passrole", "sts:assumerole"


@dataclass(frozen=True)
class Method:
    name: str
    actions: tuple[str, ...]
    needs: ActionSet
    url: str | None
    source: str
    passes_to: str | None = None  # the service principal a role is passed to
    when: str | None = None  # "bounded": a path only for a principal with a boundary, on itself

    @property
    def cited(self) -> str:
        return self.url or self.source


class Escalations:
    def __init__(self, doc: dict[str, object], catalogue: Catalogue) -> None:
        self.label = f"{doc['source']} {doc['version']} and published paths"
        methods = doc["methods"]
        assert isinstance(methods, dict)
        self.methods = [
            Method(
                name,
                tuple(catalogue.proper(a) for a in m["actions"]),
                catalogue.union(tuple(m["actions"])),
                m.get("url"),
                m.get("source", str(doc["source"])),
                m.get("passes_to"),
                m.get("when"),
            )
            for name, m in methods.items()
        ]
        self.methods = [m for m in self.methods if m.needs]
        credentials = doc.get("credentials", [])
        assert isinstance(credentials, list)
        self.credentials = catalogue.union(tuple(credentials))  # actions that return credentials
        self._any = 0  # every action some method needs
        for m in self.methods:
            self._any |= m.needs.mask
        self._bits = [frozenset(positions(m.needs.mask, len(m.needs))) for m in self.methods]
        # What a statement must be kept for, to be judged per path: the paths' actions and the
        # trust graph's.
        self.relevant = ActionSet(self._any) | catalogue.union((PASS_ROLE, ASSUME_ROLE))
        # What a grant on named resources can still serve: a pass to a privileged role, the
        # principal itself, a privileged group.
        self.targeted = catalogue.union((PASS_ROLE, "iam:addusertogroup", *sorted(ON_ITSELF)))

    def completed(self, allowed: ActionSet) -> list[Method]:
        """The methods whose every action `allowed` grants: compared on the few bits any method
        needs, not on whole 22,000-bit masks."""
        hit = allowed.mask & self._any
        if not hit:
            return []
        have = frozenset(positions(hit, hit.bit_count()))
        return [
            m
            for m, bits in zip(self.methods, self._bits, strict=True)
            if bits <= have and m.needs.unknown <= allowed.unknown
        ]


@functools.cache
def load(catalogue: Catalogue) -> Escalations:
    return Escalations(json.loads(DATA.read_text()), catalogue)


# --- who is asking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    name: str  # "role/deploy", "user/alice"
    arn: str  # its ARN (built from its name where the input lacks it)
    policies: tuple[str, ...] = ()  # managed policies attached to it, directly or by group
    groups: tuple[str, ...] = ()  # its groups' ARNs

    @property
    def account(self) -> str:
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    def itself(self, action: str) -> tuple[str, ...]:
        """The ARNs by which `action` would act on this principal."""
        if action in ON_POLICY:
            return self.policies
        if action in ON_GROUP:
            return self.groups
        kind = "role" if action in ON_ROLE else "user" if action in ON_USER else ""
        return (self.arn,) if kind and f":{kind}/" in self.arn else ()


@dataclass(frozen=True)
class Holdings:
    """What a principal's policies grant, as escalation judges it."""

    allowed: ActionSet  # unconditionally, on every resource, after unconditional Denies and cap
    grants: tuple[Grant, ...] = ()
    denies: tuple[Grant, ...] = ()
    cap: ActionSet | None = None
    privileged_groups: tuple[str, ...] = ()  # ARNs of the account's groups worth joining
    denied: ActionSet = EMPTY  # what its unconditional Denies on every resource remove


@dataclass(frozen=True)
class Reach:
    """Roles a principal may pass (for one path) or assume: what its Allows reach, less its
    Denies; `conditioned` when an Allow it relies on has a condition not judged."""

    allows: tuple[Roles, ...]
    denies: tuple[Roles, ...] = ()
    conditioned: bool = False

    def admits(self, arn: str) -> bool:
        return any(a.reach(arn) for a in self.allows) and not any(d.reach(arn) for d in self.denies)

    @property
    def every_role(self) -> bool:
        return not self.denies and any(
            a.except_ is None and any(every_role(p) for p in a.patterns) for a in self.allows
        )


@dataclass
class Judged:
    """A principal's paths: those complete, those that wait on which roles are privileged."""

    completed: list[tuple[Method, bool]] = field(default_factory=list)  # (method, conditioned)
    pending: list[tuple[Method, Reach]] = field(default_factory=list)  # PassRole to some roles
    assumes: Reach | None = None  # the roles its sts:AssumeRole reaches
    # A trust policy that names it by ARN lets it assume the role without an identity Allow (in
    # one account), unless a Deny says otherwise or, for a role, its boundary lacks the action.
    named_ok: bool = True


def judge_paths(
    principal: Principal, holdings: Holdings, catalogue: Catalogue, admin: bool
) -> Judged:
    data = load(catalogue)
    direct: dict[str, str | None] = {"aws:viaawsservice": "false"}
    out = Judged(assumes=_reach(principal, holdings, catalogue, ASSUME_ROLE, direct))
    out.named_ok = not catalogue.contains(holdings.denied, ASSUME_ROLE) and (
        holdings.cap is None
        or ":user/" in principal.arn  # a boundary does not limit what names a user itself
        or catalogue.contains(holdings.cap, ASSUME_ROLE)
    )
    if admin:
        return out
    possible = holdings.allowed
    for g in holdings.grants:  # a grant on named resources serves only passes and itself
        possible = possible | (g.actions if g.every else g.actions & data.targeted)
    if holdings.cap is not None:
        possible = possible & holdings.cap
    simple = not holdings.grants and not holdings.denies  # all on every resource, unconditioned
    can: dict[tuple[str, str | None], bool | None] = {}  # one verdict per action, not per path
    passing: dict[str | None, Reach | None] = {}
    for method in data.completed(possible):
        if method.when == "bounded" and holdings.cap is None:
            continue  # removing a boundary it does not have gains it nothing
        if simple:
            out.completed.append((method, False))
            continue
        conditioned, passes = False, None
        for action in (a.lower() for a in method.actions):
            if action == PASS_ROLE:
                if method.passes_to not in passing:
                    facts = {**direct, "iam:passedtoservice": method.passes_to}
                    passing[method.passes_to] = _reach(
                        principal, holdings, catalogue, PASS_ROLE, facts, method
                    )
                passes = passing[method.passes_to]
                if passes is None:
                    break
                conditioned |= passes.conditioned
                continue
            key = (action, method.when)
            if key not in can:
                can[key] = _can(principal, holdings, catalogue, action, method)
            verdict = can[key]
            if verdict is False:
                break
            conditioned |= verdict is None
        else:
            if passes is None or passes.every_role:
                out.completed.append((method, conditioned))
            else:
                out.pending.append((method, passes))
    return out


def _can(
    principal: Principal, holdings: Holdings, catalogue: Catalogue, action: str, method: Method
) -> bool | None:
    """True: granted where the path needs it; None: only under a condition not judged; False."""
    if holdings.cap is not None and not catalogue.contains(holdings.cap, action):
        return False
    allowed = catalogue.contains(holdings.allowed, action)
    denies = [d for d in holdings.denies if catalogue.contains(d.actions, action)]
    if allowed and not denies and method.when != "bounded":
        return True  # on every resource, unconditioned, nothing taking it back: the usual case
    facts = _facts(action)
    itself = principal.itself(action) if action in ON_ITSELF else ()
    verdict: bool | None = False
    if allowed:
        verdict = True
        self_ok, others_ok = True, True
    else:
        self_ok = others_ok = False
        for g in holdings.grants:
            if not catalogue.contains(g.actions, action):
                continue
            holds = _holds(g.tests, facts, method)
            if holds is False:
                continue
            s, o = where(g, action, itself)
            if action == "iam:addusertogroup" and not o:
                o = not g.not_resource and any(  # a named group worth joining, not its own
                    arn_matches(r, group)
                    for r in g.resources
                    for group in holdings.privileged_groups
                    if group not in principal.groups
                )
            if s or o:
                self_ok, others_ok = self_ok or s, others_ok or o
                verdict = True if holds else (verdict or None)
        if verdict is False:
            return False
    # What it may not call itself it may have CloudFormation call for it (with its own
    # credentials: aws:ViaAWSService is then true), if it may create stacks.
    via = catalogue.contains(holdings.allowed, "cloudformation:createstack")
    for d in denies:
        if _holds(d.tests, facts, method) is not True:
            continue  # a Deny under a condition not judged may not apply: the path stays
        if via and _holds(d.tests, {**facts, "aws:viaawsservice": "true"}, method) is not True:
            continue
        s, o = where(d, action, itself)
        self_ok, others_ok = self_ok and not s, others_ok and not o
    if method.when == "bounded":
        others_ok = False  # the path is its own boundary
    if not (others_ok or (self_ok and itself)):
        return False
    return verdict


def _reach(
    principal: Principal,
    holdings: Holdings,
    catalogue: Catalogue,
    action: str,
    facts: dict[str, str | None],
    method: Method | None = None,
) -> Reach | None:
    """The roles `action` (iam:PassRole, sts:AssumeRole) may be used on, or None."""
    if holdings.cap is not None and not catalogue.contains(holdings.cap, action):
        return None
    allows: list[Roles] = []
    conditioned = False
    if catalogue.contains(holdings.allowed, action):
        allows.append(Roles(("*",)))
    for g in holdings.grants:
        if catalogue.contains(g.actions, action):
            holds = _holds(g.tests, facts, method)
            if holds is not False:
                allows.append(_roles(g))
                conditioned |= holds is None
    if not allows:
        return None
    denies = tuple(
        _roles(d)
        for d in holdings.denies
        if catalogue.contains(d.actions, action) and _holds(d.tests, facts, method) is True
    )
    reach = Reach(tuple(allows), denies, conditioned)
    if denies and not any(a.except_ is not None or a.patterns for a in allows):
        return None
    return reach


def _roles(g: Grant) -> Roles:
    return Roles(except_=g.resources) if g.not_resource else Roles(g.resources)


def _holds(
    tests: tuple[Test, ...], facts: dict[str, str | None], method: Method | None
) -> bool | None:
    if not tests:
        return True
    if method is not None and method.passes_to:
        for t in tests:  # a role passed for use with another service's resources only
            if t.key == "iam:associatedresourcearn" and not t.negated and t.values:
                service = method.passes_to.split(".")[-3] if method.passes_to else ""
                if all(v.split(":")[2:3] not in ([service], ["*"]) for v in t.values):
                    return False
    return judge(tests, facts)


def _facts(action: str) -> dict[str, str | None]:
    """The request an escalation makes with `action`: an administrator's policy attached, no
    permissions boundary on what it changes."""
    facts: dict[str, str | None] = {"aws:viaawsservice": "false"}  # it calls IAM itself
    if action.startswith("iam:attach") and action.endswith("policy"):
        facts["iam:policyarn"] = ADMIN_POLICY
    if action in BOUNDED:
        facts["iam:permissionsboundary"] = None
    return facts


# --- findings --------------------------------------------------------------------------------


def findings(principal: str, judged: Judged, data: Escalations, lambda_role: bool) -> list[Finding]:
    """One finding per principal naming each path its allowed actions complete."""
    done = judged.completed
    if not done or principal == "(unattached)":
        return []
    named = "; ".join(
        f"{m.name} ({' + '.join(m.actions)}){' under a condition not judged' if c else ''} "
        f"{m.cited}"
        for m, c in done[:5]
    )
    more = f" and {len(done) - 5} more" if len(done) > 5 else ""
    # As the data spells them (lower case): what the daily diff's keys have always hashed.
    actions = tuple(dict.fromkeys(a.lower() for m, _ in done for a in m.actions))
    who = "A Lambda execution role: it" if lambda_role else "It"
    detail = f"{who} can raise its own privileges: {named}{more} (paths from {data.label})"
    severity = "critical" if lambda_role else "high"
    if all(c for _, c in done):
        severity = lower(severity)
    return [
        Finding(
            "privilege_escalation",
            severity,
            principal,
            "(all its policies)",
            "-",
            detail,
            actions[:SHOWN_ACTIONS],
            len(actions),
        )
    ]


def power(judged: Judged, admin: bool) -> str | None:
    """What makes a principal worth becoming, in words, or None."""
    if admin:
        return "is an administrator"
    sure = [m for m, c in judged.completed if not c]
    if not sure:
        return None
    m = sure[0]
    return f"can {m.name} ({' + '.join(m.actions)})"
