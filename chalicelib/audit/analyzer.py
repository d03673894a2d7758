"""Find the wildcards in an account's IAM: `audit(details) -> Report`. Pure; no I/O.

The details come from a source (source.py) in two passes: the managed policies and groups, then
one principal at a time. Each document is judged once (document.py); its findings are placed at
every principal that holds it, after that principal's unconditional Denies and permissions
boundary have removed what they cover. Only the findings outlive the principal they belong to.
"""

from __future__ import annotations

import fnmatch
import gc
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from chalicelib.audit import escalation
from chalicelib.audit.catalogue import EMPTY, ActionSet, Catalogue
from chalicelib.audit.document import Analysis, Documents
from chalicelib.audit.escalation import Holdings, Judged, Principal, Reach
from chalicelib.audit.findings import KINDS, SEVERITIES, Finding, Report
from chalicelib.audit.graph import Graph, Role, Source
from chalicelib.audit.merge import SHOWN_ACTIONS, merged
from chalicelib.audit.raw import Raw
from chalicelib.audit.source import Details, InMemory
from chalicelib.audit.suppressions import Suppression, match
from chalicelib.errors import BadInput

SERVICE_LINKED_PATH = "/aws-service-role/"
NO_REACH = Reach(())  # a principal whose policies allow no sts:AssumeRole
Held = list[tuple[str, Analysis]]  # (the policy's label, its judgement)


@dataclass
class _Account:
    """What the walk keeps: the managed documents until judged, the groups, the findings."""

    managed: dict[str, Any] = field(default_factory=dict)  # ARN -> its default document
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    attached: set[str] = field(default_factory=set)
    bounding: set[str] = field(default_factory=set)  # managed policies used as boundaries
    unresolved: set[str] = field(default_factory=set)
    members: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)
    account: str = "000000000000"  # from its policies' ARNs, for principals given without one


class Analyzer:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.documents = Documents(catalogue)
        self.privileged_groups: tuple[str, ...] = ()

    def audit(
        self,
        details: Details,
        suppressions: Iterable[Suppression] = (),
        today: date | None = None,
        only: str | None = None,
    ) -> Report:
        acct = _Account()
        for key, item in details.first():
            if key == "Policies":
                if _unused_aws_managed(item):
                    continue  # listed by the AWSManagedPolicy filter, held by nobody
                acct.managed[item["Arn"]] = _default_version(item)
                if not item["Arn"].startswith("arn:aws:iam::aws:"):
                    acct.account = item["Arn"].split(":")[4] or acct.account
            else:
                acct.groups[item["GroupName"]] = item
        self.privileged_groups = self._privileged_groups(acct)
        for key, item in details.then():
            if key == "RoleDetailList":
                acct.counts["roles"] += 1
                acct.findings += self._role(acct, item)
            else:
                acct.counts["users"] += 1
                acct.findings += self._user(acct, item)
        for name, group in acct.groups.items():
            if not acct.members[
                name
            ]:  # members carry their groups' findings; an empty group its own
                held = self._holdings(
                    acct, group.get("GroupPolicyList", []), group.get("AttachedManagedPolicies", [])
                )
                acct.findings += self._place(f"group/{name}", held)[0]
        acct.findings += acct.graph.findings()
        for arn in list(acct.managed):
            if arn not in acct.attached | acct.bounding and not arn.startswith("arn:aws:iam::aws:"):
                loose = self._place("(unattached)", [(arn, self._managed(acct, arn))])[0]
                acct.findings += [replace(f, severity="low") for f in loose]
        findings = merged(acct.findings)
        if only:
            findings = [f for f in findings if _selected(f, only)]
        kept, suppressed, expired = match(findings, suppressions, today or date.today())
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        kept.sort(key=lambda f: (rank[f.severity], f.kind, f.principal, f.policy))
        return Report(
            findings=kept,
            catalogue=self.catalogue.label,
            principals={
                "roles": acct.counts["roles"],
                "users": acct.counts["users"],
                "groups": len(acct.groups),
            },
            policies=len(acct.managed),
            suppressed=suppressed,
            expired_suppressions=expired,
            unresolved=sorted(acct.unresolved),
        )

    # --- principals --------------------------------------------------------------------------

    def _privileged_groups(self, acct: _Account) -> tuple[str, ...]:
        """The groups worth joining (an administrator's, or one whose policies complete a path):
        `iam:AddUserToGroup` on one of them is a path."""
        found = []
        for name, group in acct.groups.items():
            held = self._holdings(
                acct, group.get("GroupPolicyList", []), group.get("AttachedManagedPolicies", [])
            )
            arn = group.get("Arn") or f"arn:aws:iam::{acct.account}:group/{name}"
            _, judged, admin = self._place(f"group/{name}", held, who=Principal(name, arn))
            if escalation.power(judged, admin):
                found.append(arn)
        return tuple(found)

    def _role(self, acct: _Account, role: dict[str, Any]) -> list[Finding]:
        principal = f"role/{role['RoleName']}"
        held = self._holdings(
            acct, role.get("RolePolicyList", []), role.get("AttachedManagedPolicies", [])
        )
        trust_doc = role.get("AssumeRolePolicyDocument")
        runs_lambda = "lambda.amazonaws.com" in (
            trust_doc if isinstance(trust_doc, str) else repr(trust_doc)
        )
        arn = role.get("Arn") or (
            f"arn:aws:iam::{acct.account}:role{role.get('Path') or '/'}{role['RoleName']}"
        )
        who = Principal(principal, arn, _attached(role))
        placed, judged, admin = self._place(
            principal, held, self._boundary(acct, role), runs_lambda, who
        )
        trusts, services = self.documents.admissions(trust_doc) if trust_doc else ((), frozenset())
        power = escalation.power(judged, admin)
        if power or trusts or services:
            acct.graph.role(Role(arn, role["RoleName"], power, trusts, services))
        self._graph(acct, who, judged, runs_lambda)
        if trust_doc:
            placed += [
                _finding(r, principal, "trust policy", r.shown, len(r.actions))
                for r in self.documents.trust(trust_doc)
            ]
        if str(role.get("Path", "")).startswith(SERVICE_LINKED_PATH):
            placed = [_informational(f) for f in placed]  # AWS owns these: known, not paged
        return placed

    @staticmethod
    def _graph(acct: _Account, who: Principal, judged: Judged, lambda_role: bool) -> None:
        """What the trust graph needs of a principal: the roles it may assume, the paths that
        wait on which roles it may pass."""
        reach = judged.assumes or NO_REACH
        source = Source(who.name, who.arn, who.account, reach, lambda_role, judged.named_ok)
        acct.graph.source(source)  # every principal: a trust policy may name it
        for method, reach in judged.pending:
            acct.graph.pass_pending(source, method, reach)

    def _user(self, acct: _Account, user: dict[str, Any]) -> list[Finding]:
        held = self._holdings(
            acct, user.get("UserPolicyList", []), user.get("AttachedManagedPolicies", [])
        )
        policies, groups = list(_attached(user)), []
        for name in user.get("GroupList", []):
            acct.members[name] += 1
            group = acct.groups.get(name)
            if group:
                held += self._holdings(
                    acct,
                    group.get("GroupPolicyList", []),
                    group.get("AttachedManagedPolicies", []),
                    prefix=f"group {name}: ",
                )
                policies += _attached(group)
                groups.append(
                    group.get("Arn") or f"arn:aws:iam::{acct.account}:group/{group['GroupName']}"
                )
        principal = f"user/{user['UserName']}"
        arn = user.get("Arn") or (
            f"arn:aws:iam::{acct.account}:user{user.get('Path') or '/'}{user['UserName']}"
        )
        who = Principal(principal, arn, tuple(policies), tuple(groups))
        placed, judged, _ = self._place(principal, held, self._boundary(acct, user), False, who)
        self._graph(acct, who, judged, False)
        return placed

    def _holdings(
        self,
        acct: _Account,
        inline: list[dict[str, Any]],
        arns: list[dict[str, Any]],
        prefix: str = "",
    ) -> Held:
        out = [
            (f"{prefix}{p['PolicyName']}", self.documents.analyse(p["PolicyDocument"]))
            for p in inline
        ]
        for a in arns:
            arn = a["PolicyArn"]
            if arn not in acct.managed:
                acct.unresolved.add(arn)
                continue
            acct.attached.add(arn)
            out.append((arn, self._managed(acct, arn)))
        return out

    def _managed(self, acct: _Account, arn: str) -> Analysis:
        doc = acct.managed[arn]
        if isinstance(doc, BadInput):
            raise doc  # judged only when something holds it, as AWS would evaluate it
        return self.documents.managed(arn, doc)

    def _boundary(self, acct: _Account, principal: dict[str, Any]) -> Analysis | None:
        arn = (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if not arn:
            return None
        acct.bounding.add(arn)
        if arn not in acct.managed:
            acct.unresolved.add(arn)
            return None
        return self._managed(acct, arn)

    def _place(
        self,
        principal: str,
        held: Held,
        boundary: Analysis | None = None,
        lambda_role: bool = False,
        who: Principal | None = None,
    ) -> tuple[list[Finding], Judged, bool]:
        """The principal's findings after its unconditional Denies and, when it has one, capped
        by its permissions boundary (what the boundary does not allow, it does not have); with
        what escalation judged of it, and whether it is an administrator."""
        denied = EMPTY
        for _, a in held:
            if a.denied:
                denied = denied | a.denied
        cap = boundary.bounds if boundary is not None else None
        admin = any(r.kind == "full_admin" for _, a in held for r in a.raws) and (
            cap is None or not (self.catalogue.all - cap)  # a boundary may make it much less
        )
        allowed = EMPTY
        for _, a in held:
            allowed = allowed | a.allowed
        allowed = allowed - denied if denied else allowed
        if cap is not None:
            allowed = allowed & cap
        holdings = Holdings(
            allowed,
            tuple(g for _, a in held for g in a.grants),
            tuple(d for _, a in held for d in a.denies),
            cap,
            self.privileged_groups,
            denied,
        )
        judged = escalation.judge_paths(
            who or Principal(principal, ""), holdings, self.catalogue, admin
        )
        out = escalation.findings(principal, judged, escalation.load(self.catalogue), lambda_role)
        for label, analysis in held:
            for r in analysis.raws:
                f = self._placed(r, principal, label, denied, cap)
                if f is not None:
                    out.append(f)
        return out, judged, admin

    def _placed(
        self, r: Raw, principal: str, label: str, denied: ActionSet, cap: ActionSet | None
    ) -> Finding | None:
        """One statement's finding at a principal, less what its Denies and boundary take back."""
        removed = r.actions & denied if denied else EMPTY
        outside = r.actions - cap - removed if cap is not None and r.actions else EMPTY
        if not removed and not outside:
            return _finding(r, principal, label, r.shown, len(r.actions))
        gone = removed | outside
        left = len(r.actions) - len(gone)
        if not left:
            return None  # a Deny or the boundary takes back everything this grant gives
        shown = tuple(a for a in r.shown if not self.catalogue.contains(gone, a))
        if len(shown) < min(SHOWN_ACTIONS, left):
            shown = self.documents.shown(r.actions - gone)
        why = [f"{len(removed)} denied elsewhere"] if removed else []
        why += [f"{len(outside)} outside the permissions boundary"] if outside else []
        detail = f"{r.detail} ({', '.join(why)})"
        return _finding(replace(r, detail=detail), principal, label, shown, left)


def _attached(principal: dict[str, Any]) -> tuple[str, ...]:
    return tuple(a["PolicyArn"] for a in principal.get("AttachedManagedPolicies", []))


def _finding(r: Raw, principal: str, policy: str, shown: tuple[str, ...], total: int) -> Finding:
    return Finding(r.kind, r.severity, principal, policy, r.statement, r.detail, shown, total)


def _informational(f: Finding) -> Finding:
    return replace(f, severity="info", detail=f"{f.detail}; service-linked role (managed by AWS)")


def _selected(f: Finding, only: str) -> bool:
    if only in KINDS:
        return f.kind == only
    pattern = (only if any(c in only for c in "*?") else f"*{only}*").lower()
    name = f.principal.split("/", 1)[-1]  # `legacy-*` names roles as `/ops audit` users type them
    return any(
        fnmatch.fnmatchcase(candidate.lower(), pattern)
        for candidate in (f.principal, name, f.policy, f.policy.rsplit("/", 1)[-1])
    )


def _unused_aws_managed(policy: dict[str, Any]) -> bool:
    """An AWS managed policy IAM says nothing holds: never judged, so its document is not kept."""
    return (
        str(policy.get("Arn", "")).startswith("arn:aws:iam::aws:")
        and policy.get("AttachmentCount") == 0
        and not policy.get("PermissionsBoundaryUsageCount")
    )


def _default_version(policy: dict[str, Any]) -> Any:
    """The default version's document, or the error to raise if the policy is ever judged."""
    versions = policy.get("PolicyVersionList", [])
    default = policy.get("DefaultVersionId")
    for v in versions:
        if v.get("IsDefaultVersion") or (default and v.get("VersionId") == default):
            return v.get("Document")
    return BadInput(f"policy {policy.get('Arn')} has no default version in the input")


def audit(
    details: dict[str, Any] | Details,
    catalogue: Catalogue | None = None,
    suppressions: Iterable[Suppression] = (),
    today: date | None = None,
    only: str | None = None,
) -> Report:
    """The wildcard findings of an account (GetAccountAuthorizationDetails shape, or a source)."""
    from chalicelib.audit.catalogue import load

    source: Details = InMemory(details) if isinstance(details, dict) else details
    collecting = gc.isenabled()
    # The walk makes no reference cycles, only findings that live to the end: with the
    # collector on, each full collection walks every finding so far (at 30,000 roles, a
    # quarter of the run). Off for the walk, and back as it was.
    gc.disable()
    try:
        return Analyzer(catalogue or load()).audit(source, suppressions, today, only)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"malformed authorization details: {type(exc).__name__}: {exc}") from exc
    finally:
        if collecting:
            gc.enable()
