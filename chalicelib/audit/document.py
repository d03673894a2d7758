"""One policy document judged: its findings before they are placed at a principal. Pure.

Documents repeat (a managed policy held by hundreds of roles, an inline policy stamped out by one
template): each is judged once. A managed policy's judgement is kept for the run, by ARN; an inline
or trust document's is kept while it is among the most recently met, so identical documents share
one judgement and a unique one is let go once its principal is placed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chalicelib.audit import escalation
from chalicelib.audit.by_name import by_name, uncatalogued
from chalicelib.audit.catalogue import EMPTY, ActionSet, Catalogue
from chalicelib.audit.findings import KINDS, lower
from chalicelib.audit.graph import Admission, admissions
from chalicelib.audit.merge import SHOWN_ACTIONS
from chalicelib.audit.policy import Statement, statements
from chalicelib.audit.raw import Raw, listed
from chalicelib.audit.reach import covers_all, covers_all_roles
from chalicelib.audit.targets import Grant, grant
from chalicelib.audit.trust import trust_raws

RECENT = 2048  # inline and trust documents whose judgement is kept for reuse
T = TypeVar("T")


class Recent(Generic[T]):
    """The last `size` values by key (least recently used goes first)."""

    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self._values: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str, make: Callable[[], T]) -> T:
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
            return value
        value = self._values[key] = make()
        if len(self._values) > self.size:
            self._values.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class Analysis:
    raws: tuple[Raw, ...]
    denied: ActionSet  # what unconditional Denies on every resource remove
    allowed: ActionSet = EMPTY  # every action an unconditional Allow grants on every resource
    bounds: ActionSet = EMPTY  # as a permissions boundary: its Allows anywhere, less its Denies
    # Allows of escalation actions, scoped or conditioned: judged per path (escalation.py)
    grants: tuple[Grant, ...] = ()
    denies: tuple[Grant, ...] = ()  # Denies of escalation actions, scoped or conditioned


class Documents:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._inline: Recent[Analysis] = Recent()
        self._trusts: Recent[tuple[Raw, ...]] = Recent()
        self._admissions: Recent[tuple[tuple[Admission, ...], frozenset[str]]] = Recent()
        self._managed: dict[str, Analysis] = {}

    def analyse(self, doc: Any) -> Analysis:
        """An inline document's judgement (identical documents share one)."""
        key = doc if isinstance(doc, str) else repr(doc)
        return self._inline.get(key, lambda: self._analyse(statements(doc)))

    def managed(self, arn: str, doc: Any) -> Analysis:
        """A managed policy's judgement, kept by ARN for the run."""
        found = self._managed.get(arn)
        if found is None:
            found = self._managed[arn] = self._analyse(statements(doc))
        return found

    def trust(self, doc: Any) -> tuple[Raw, ...]:
        """A trust policy's findings; most roles share a handful of trust documents."""
        key = doc if isinstance(doc, str) else repr(doc)
        return self._trusts.get(
            key, lambda: tuple(trust_raws(statements(doc), self.catalogue, self.shown))
        )

    def admissions(self, doc: Any) -> tuple[tuple[Admission, ...], frozenset[str]]:
        """Who a trust policy lets assume the role, and the services it trusts (graph.py)."""
        key = doc if isinstance(doc, str) else repr(doc)
        return self._admissions.get(key, lambda: admissions(statements(doc)))

    def shown(self, actions: ActionSet) -> tuple[str, ...]:
        """Permissions management first, then write, tagging, read, list; at most SHOWN_ACTIONS."""
        return self.catalogue.first(actions, SHOWN_ACTIONS)

    def _analyse(self, stmts: list[Statement]) -> Analysis:
        raws: list[Raw] = []
        denied = allowed = anywhere = EMPTY
        grants: list[Grant] = []
        denies: list[Grant] = []
        relevant = escalation.load(self.catalogue).relevant
        for s in stmts:
            granted = self.granted(s)
            everywhere = not s.not_resource and covers_all(s.resources, self.catalogue)
            if s.effect == "Deny":
                if not s.condition_keys and everywhere:
                    denied |= granted
                elif s.effect == "Deny" and (paths := granted & relevant):
                    denies.append(
                        grant(paths, s.resources, s.not_resource, s.tests, self.catalogue)
                    )
                continue  # a Deny never produces a finding
            if s.malformed:
                detail = f"Statement {s.label} {s.malformed}; it grants nothing as written"
                raws.append(Raw("malformed_statement", "low", s.label, detail, EMPTY, ()))
                continue
            if s.effect != "Allow":
                continue
            missing = uncatalogued(s, self.catalogue)
            if granted or missing:
                raws.extend(self._allow(s, granted, missing))
            if everywhere and not s.condition_keys:
                allowed |= granted  # on every resource: what an escalation path needs
            elif paths := granted & relevant:
                grants.append(grant(paths, s.resources, s.not_resource, s.tests, self.catalogue))
            anywhere |= granted
        bounds = anywhere - denied if denied else anywhere
        return Analysis(
            tuple(raws),
            denied,
            allowed,
            allowed if bounds == allowed else bounds,
            tuple(grants),
            tuple(denies),
        )

    def _spelled(self, actions: tuple[str, ...]) -> tuple[str, ...]:
        """A statement's actions as AWS spells them (`IAM:passrole` is `iam:PassRole`)."""
        return tuple(self.catalogue.proper(a.strip()) for a in actions)

    def granted(self, s: Statement) -> ActionSet:
        """Every action the statement names (with NotAction, every other one)."""
        key = tuple(sorted(a.strip().lower() for a in s.actions))
        return self.catalogue.all_but(key) if s.not_action else self.catalogue.union(key)

    def _allow(self, s: Statement, granted: ActionSet, missing: tuple[str, ...]) -> Iterator[Raw]:
        reaches = covers_all(s.resources, self.catalogue)
        everything = s.not_resource or reaches
        where = "every resource" if reaches else listed(s.resources)
        star = any(a.strip() in ("*", "*:*") for a in s.actions) and not s.not_action
        conditioned = bool(s.condition_keys)
        note = (
            f"; condition on {', '.join(s.condition_keys)} lowers severity" if conditioned else ""
        )

        def raw(kind: str, detail: str, actions: ActionSet, severity: str | None = None) -> Raw:
            base = severity or KINDS[kind].severity
            return Raw(
                kind,
                lower(base) if conditioned else base,
                s.label,
                detail + note,
                actions,
                self.shown(actions),
            )

        if star and everything:
            yield raw("full_admin", "Allow * on *: every action on every resource", granted)
            return
        if star:
            yield raw(
                "action_wildcard",
                f"Allow every action on {where}",
                granted,
            )
        if s.not_action:
            yield raw(
                "not_action",
                f"Allow everything except {', '.join(s.actions)} on {where}: "
                f"{len(granted)} actions",
                granted,
                "high" if everything else "medium",
            )
        if s.not_resource:
            yield raw(
                "not_resource",
                f"Allow {listed(self._spelled(s.actions))} on every resource except {', '.join(s.resources)}",
                granted,
            )
        for pattern in s.actions if not (star or s.not_action) else ():
            service, _, action = pattern.partition(":")
            if action != "*" or not service or any(c in service for c in "*?"):
                continue
            actions = self.catalogue.of_service(service)
            if actions:  # a service the catalogue lacks is judged by name (by_name.py)
                perms = self.catalogue.has_perms(actions)
                yield raw(
                    "service_wildcard",
                    f"Allow {pattern}: all {len(actions)} actions of {service.lower()}",
                    actions,
                    "high" if perms else None,
                )
        if not star:
            yield from by_name(missing, granted, everything, self.catalogue, raw, where)
        passes_any_role = (
            self.catalogue.contains(granted, "iam:PassRole")
            and "iam:passedtoservice" not in s.condition_keys
            and (s.not_resource or any(covers_all_roles(r) for r in s.resources))
        )
        risky = self.catalogue.risky(granted) if everything and not star else EMPTY
        if passes_any_role:  # its own finding, below: not repeated as a resource wildcard
            risky = risky - self.catalogue.expand("iam:PassRole")
        # Actions that accept only `Resource: "*"` cannot be narrowed: counted, not reported.
        unscoped = self.catalogue.unscoped(risky)
        risky = risky - unscoped if unscoped else risky
        if risky:
            reads = self.catalogue.only_read_named(risky) and not (
                risky & escalation.load(self.catalogue).credentials
            )
            also = f'; {len(unscoped)} more accept only Resource "*"' if unscoped else ""
            also += "; all reads by name, which AWS labels Write or Permissions" if reads else ""
            yield raw(
                "resource_wildcard",
                f"{len(risky)} write/permissions actions ({listed(self._spelled(s.actions))}) on "
                f"{'every resource' if s.not_resource else where}{also}",
                risky,
                "low" if reads else "high" if self.catalogue.has_perms(risky) else None,
            )
        elif unscoped:  # all there is: counted where nothing pages, never left unsaid
            yield raw(
                "resource_wildcard",
                f"{len(unscoped)} write/permissions actions ({listed(self._spelled(s.actions))}) that accept "
                'only Resource "*": no resource can narrow them (a condition can)',
                unscoped,
                "info",
            )
        if passes_any_role:
            yield raw(
                "pass_role_wildcard",
                "iam:PassRole on every role without iam:PassedToService: whoever holds it can "
                "hand any role, admin included, to a service they control",
                self.catalogue.expand("iam:PassRole"),
            )
