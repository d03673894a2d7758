"""Find the wildcards in an account's IAM: `audit(details) -> Report`. Pure; no I/O.

Input is the shape of GetAccountAuthorizationDetails. Each policy document is analysed once
(results are cached by document), then its findings are placed at every principal that holds it,
after that principal's unconditional Denies have removed what they cover.
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from chalicelib.audit import escalation
from chalicelib.audit.by_name import by_name, uncatalogued
from chalicelib.audit.catalogue import EMPTY, ActionSet, Catalogue
from chalicelib.audit.findings import KINDS, SEVERITIES, Finding, Report, lower
from chalicelib.audit.merge import SHOWN_ACTIONS, merged
from chalicelib.audit.policy import Statement, statements
from chalicelib.audit.raw import Raw, listed
from chalicelib.audit.reach import covers_all, covers_all_roles
from chalicelib.audit.suppressions import Suppression, match
from chalicelib.audit.trust import trust_raws
from chalicelib.errors import BadInput

SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass(frozen=True)
class _Analysis:
    raws: tuple[Raw, ...]
    denied: ActionSet  # what unconditional Denies on every resource remove
    allowed: ActionSet = EMPTY  # every action an Allow grants on every resource


class Analyzer:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._cache: dict[str, _Analysis] = {}
        self._boundaries: dict[str, ActionSet] = {}
        self._trusts: dict[str, list[Raw]] = {}

    # --- one document ------------------------------------------------------------------------

    def analyse(self, doc: Any) -> _Analysis:
        key = doc if isinstance(doc, str) else repr(doc)  # same document, same findings
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._analyse(statements(doc))
        return cached

    def _analyse(self, stmts: list[Statement]) -> _Analysis:
        raws: list[Raw] = []
        denied = allowed = EMPTY
        for s in stmts:
            granted = self._granted(s)
            if s.effect == "Deny":
                if not s.condition_keys and not s.not_resource and covers_all(s.resources):
                    denied |= granted
                continue  # a Deny never produces a finding
            if s.malformed:
                detail = f"Statement {s.label} {s.malformed}; it grants nothing as written"
                raws.append(Raw("malformed_statement", "low", s.label, detail, EMPTY, ()))
                continue
            if s.effect == "Allow" and (granted or uncatalogued(s, self.catalogue)):
                raws.extend(self._allow(s, granted))
            if (
                s.effect == "Allow"
                and not s.malformed
                and (s.not_resource or covers_all(s.resources))
            ):
                allowed |= granted  # on every resource: what an escalation path needs
        return _Analysis(tuple(raws), denied, allowed)

    def _granted(self, s: Statement) -> ActionSet:
        key = tuple(sorted(a.strip().lower() for a in s.actions))
        return self.catalogue.all_but(key) if s.not_action else self.catalogue.union(key)

    def _allow(self, s: Statement, granted: ActionSet) -> Iterator[Raw]:
        everything = s.not_resource or covers_all(s.resources)
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
                self._shown(actions),
            )

        if star and everything:
            yield raw("full_admin", "Allow * on *: every action on every resource", granted)
            return
        if star:
            yield raw(
                "action_wildcard",
                f"Allow every action on {_resources(s)}",
                granted,
            )
        if s.not_action:
            yield raw(
                "not_action",
                f"Allow everything except {', '.join(s.actions)} on {_resources(s)}: "
                f"{len(granted)} actions",
                granted,
                "high" if everything else "medium",
            )
        if s.not_resource:
            yield raw(
                "not_resource",
                f"Allow {listed(s.actions)} on every resource except {', '.join(s.resources)}",
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
            yield from by_name(s, granted, everything, self.catalogue, raw, _resources(s))
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
            perms = self.catalogue.has_perms(risky)
            also = f'; {len(unscoped)} more accept only Resource "*"' if unscoped else ""
            yield raw(
                "resource_wildcard",
                f"{len(risky)} write/permissions actions ({listed(s.actions)}) on "
                f"{'every resource' if s.not_resource else _resources(s)}{also}",
                risky,
                "high" if perms else None,
            )
        if passes_any_role:
            yield raw(
                "pass_role_wildcard",
                "iam:PassRole on every role without iam:PassedToService: whoever holds it can "
                "hand any role, admin included, to a service they control",
                self.catalogue.expand("iam:PassRole"),
            )

    def trust(self, doc: Any) -> list[Raw]:
        """A trust policy's findings; most roles share a handful of trust documents: each is
        judged once."""
        key = doc if isinstance(doc, str) else repr(doc)
        if key not in self._trusts:
            self._trusts[key] = trust_raws(statements(doc), self.catalogue, self._shown)
        return self._trusts[key]

    # --- the account -------------------------------------------------------------------------

    def audit(
        self,
        details: dict[str, Any],
        suppressions: Iterable[Suppression] = (),
        today: date | None = None,
        only: str | None = None,
    ) -> Report:
        _check_shape(details)
        managed = {p["Arn"]: p for p in details.get("Policies", [])}
        unresolved: set[str] = set()
        attached: set[str] = set()
        findings: list[Finding] = []

        bounding: set[str] = set()  # managed policies used as permissions boundaries

        def boundary_of(principal: dict[str, Any]) -> Any:
            arn = (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if not arn:
                return None
            bounding.add(arn)
            policy = managed.get(arn)
            if policy is None:
                unresolved.add(arn)
                return None
            return _default_version(policy)

        def managed_doc(arn: str) -> Any:
            policy = managed.get(arn)
            if policy is None:
                unresolved.add(arn)
                return None
            attached.add(arn)
            return _default_version(policy)

        def holdings(
            inline: list[dict[str, Any]], arns: list[dict[str, Any]], prefix: str = ""
        ) -> list[tuple[str, Any]]:
            out = [(f"{prefix}{p['PolicyName']}", p["PolicyDocument"]) for p in inline]
            for a in arns:
                doc = managed_doc(a["PolicyArn"])
                if doc is not None:
                    out.append((a["PolicyArn"], doc))
            return out

        groups = {g["GroupName"]: g for g in details.get("GroupDetailList", [])}
        members: Counter[str] = Counter()
        for role in details.get("RoleDetailList", []):
            principal = f"role/{role['RoleName']}"
            held = holdings(role.get("RolePolicyList", []), role.get("AttachedManagedPolicies", []))
            linked = str(role.get("Path", "")).startswith(SERVICE_LINKED_PATH)
            runs_lambda = "lambda.amazonaws.com" in json.dumps(role.get("AssumeRolePolicyDocument"))
            placed = self._place(principal, held, boundary_of(role), runs_lambda)
            trust_doc = role.get("AssumeRolePolicyDocument")
            if trust_doc:
                placed += [
                    _finding(r, principal, "trust policy", r.shown, len(r.actions))
                    for r in self.trust(trust_doc)
                ]
            if linked:  # AWS owns these roles: worth knowing, not worth paging anyone
                placed = [_informational(f) for f in placed]
            findings += placed
        for user in details.get("UserDetailList", []):
            held = holdings(user.get("UserPolicyList", []), user.get("AttachedManagedPolicies", []))
            for name in user.get("GroupList", []):
                members[name] += 1
                group = groups.get(name)
                if group:
                    held += holdings(
                        group.get("GroupPolicyList", []),
                        group.get("AttachedManagedPolicies", []),
                        prefix=f"group {name}: ",
                    )
            findings += self._place(f"user/{user['UserName']}", held, boundary_of(user))
        for name, group in groups.items():
            if not members[name]:  # members carry their groups' findings; an empty group its own
                findings += self._place(
                    f"group/{name}",
                    holdings(
                        group.get("GroupPolicyList", []), group.get("AttachedManagedPolicies", [])
                    ),
                )
        for arn, policy in managed.items():
            if arn not in attached | bounding and not arn.startswith("arn:aws:iam::aws:"):
                loose = self._place("(unattached)", [(arn, _default_version(policy))])
                findings += [replace(f, severity="low") for f in loose]
        findings = merged(findings)
        if only:
            findings = [f for f in findings if _selected(f, only)]
        kept, suppressed, expired = match(findings, suppressions, today or date.today())
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        kept.sort(key=lambda f: (rank[f.severity], f.kind, f.principal, f.policy))
        return Report(
            findings=kept,
            catalogue=self.catalogue.label,
            principals={
                "roles": len(details.get("RoleDetailList", [])),
                "users": len(details.get("UserDetailList", [])),
                "groups": len(groups),
            },
            policies=len(managed),
            suppressed=suppressed,
            expired_suppressions=expired,
            unresolved=sorted(unresolved),
        )

    def _place(
        self,
        principal: str,
        held: list[tuple[str, Any]],
        boundary: Any = None,
        lambda_role: bool = False,
    ) -> list[Finding]:
        """The principal's findings after its unconditional Denies and, when it has one, capped
        by its permissions boundary (what the boundary does not allow, it does not have)."""
        analyses = [(label, self.analyse(doc)) for label, doc in held]
        denied = EMPTY
        for _, a in analyses:
            denied = denied | a.denied
        cap = self.allowed(boundary) if boundary is not None else None
        admin = any(r.kind == "full_admin" for _, a in analyses for r in a.raws)
        allowed = [a.allowed for _, a in analyses]
        out = escalation.findings(
            principal, allowed, denied, cap, admin, self.catalogue, lambda_role
        )
        for label, analysis in analyses:
            for r in analysis.raws:
                removed = r.actions & denied if denied else EMPTY
                outside = r.actions - cap - removed if cap is not None and r.actions else EMPTY
                if not removed and not outside:
                    out.append(_finding(r, principal, label, r.shown, len(r.actions)))
                    continue
                gone = removed | outside
                left = len(r.actions) - len(gone)
                if not left:
                    continue  # a Deny or the boundary takes back everything this grant gives
                shown = tuple(a for a in r.shown if not self.catalogue.contains(gone, a))
                if len(shown) < min(SHOWN_ACTIONS, left):
                    shown = self._shown(r.actions - gone)
                why = [f"{len(removed)} denied elsewhere"] if removed else []
                why += [f"{len(outside)} outside the permissions boundary"] if outside else []
                detail = f"{r.detail} ({', '.join(why)})"
                out.append(_finding(replace(r, detail=detail), principal, label, shown, left))
        return out

    def allowed(self, doc: Any) -> ActionSet:
        """What a permissions boundary lets through: its Allows, less its unconditional Denies."""
        key = doc if isinstance(doc, str) else repr(doc)
        if key not in self._boundaries:
            granted = EMPTY
            for s in statements(doc):
                if s.effect == "Allow" and not s.malformed:
                    granted = granted | self._granted(s)
            self._boundaries[key] = granted - self.analyse(doc).denied
        return self._boundaries[key]

    def _shown(self, actions: ActionSet) -> tuple[str, ...]:
        """Permissions management first, then write, tagging, read, list; at most SHOWN_ACTIONS."""
        return self.catalogue.first(actions, SHOWN_ACTIONS)


def _finding(r: Raw, principal: str, policy: str, shown: tuple[str, ...], total: int) -> Finding:
    return Finding(r.kind, r.severity, principal, policy, r.statement, r.detail, shown, total)


def _informational(f: Finding) -> Finding:
    return replace(f, severity="info", detail=f"{f.detail}; service-linked role (managed by AWS)")


def _selected(f: Finding, only: str) -> bool:
    if only in KINDS:
        return f.kind == only
    pattern = only if any(c in only for c in "*?") else f"*{only}*"
    return fnmatch.fnmatchcase(f.principal.lower(), pattern.lower()) or fnmatch.fnmatchcase(
        f.policy.lower(), pattern.lower()
    )


def _default_version(policy: dict[str, Any]) -> Any:
    versions = policy.get("PolicyVersionList", [])
    default = policy.get("DefaultVersionId")
    for v in versions:
        if v.get("IsDefaultVersion") or (default and v.get("VersionId") == default):
            return v.get("Document")
    raise BadInput(f"policy {policy.get('Arn')} has no default version in the input")


def _resources(s: Statement) -> str:
    return "every resource" if covers_all(s.resources) else listed(s.resources)


def _check_shape(details: Any) -> None:
    if not isinstance(details, dict) or not any(
        k in details for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
    ):
        raise BadInput(
            "not the output of get-account-authorization-details: expected an object with "
            "UserDetailList, GroupDetailList, RoleDetailList or Policies"
        )
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
        if not isinstance(details.get(key, []), list):
            raise BadInput(f"{key} must be a list")


def audit(
    details: dict[str, Any],
    catalogue: Catalogue | None = None,
    suppressions: Iterable[Suppression] = (),
    today: date | None = None,
    only: str | None = None,
) -> Report:
    """The wildcard findings of an account (GetAccountAuthorizationDetails shape)."""
    from chalicelib.audit.catalogue import load

    try:
        return Analyzer(catalogue or load()).audit(details, suppressions, today, only)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"malformed authorization details: {type(exc).__name__}: {exc}") from exc
