"""What an audit finds, declared once: the finding kinds of PRODUCT.md §6, a Finding, a Report.

Add kinds, never rename them. Pure data: the analyzer, the suppressions and the report words
all depend on this module, and it depends on none of them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Kind:
    id: str
    severity: str
    title: str


KINDS = {
    k.id: k
    for k in (
        Kind("full_admin", "critical", "Full admin: every action on every resource"),
        Kind("action_wildcard", "high", "Every action, on narrower resources"),
        Kind("service_wildcard", "medium", "Allow every action of a service"),
        Kind("resource_wildcard", "medium", "Write or permissions actions on every resource"),
        Kind("not_action", "high", "Allow with NotAction"),
        Kind("not_resource", "medium", "Allow with NotResource"),
        Kind("pass_role_wildcard", "high", "iam:PassRole on every role"),
        Kind("trust_wildcard", "critical", "Anyone may assume the role"),
        Kind("malformed_statement", "low", "A statement AWS would reject, not judged"),
        Kind("privilege_escalation", "high", "Its allowed actions complete an escalation path"),
    )
}


def lower(severity: str) -> str:
    """One step less severe (a condition narrows a grant without removing it); never below low."""
    i = SEVERITIES.index(severity)
    return SEVERITIES[min(i + 1, SEVERITIES.index("low"))] if severity != "info" else "info"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    severity: str
    principal: str  # "role/deploy-bot", "user/alice", "group/admins", "(unattached)"
    policy: str  # an inline policy's name, a managed policy's ARN, or "trust policy"
    statement: str  # the Sid, else "#<index>"
    detail: str
    actions: tuple[str, ...]  # the expanded actions that make it risky, at most SHOWN_ACTIONS
    actions_total: int

    @property
    def identity(self) -> str:
        """Where it is: the same statement of the same policy at the same principal."""
        return f"{self.kind}|{self.principal}|{self.policy}|{self.statement}"

    @property
    def key(self) -> str:
        """What identifies a finding from one run to the next (new / fixed): where it is and what
        it grants, so a narrowed statement is a change, not the same finding."""
        grants = hashlib.sha256(
            "\n".join([*sorted(self.actions), str(self.actions_total)]).encode()
        ).hexdigest()[:12]
        return f"{self.identity}|{grants}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "principal": self.principal,
            "policy": self.policy,
            "statement": self.statement,
            "detail": self.detail,
            "actions": list(self.actions),
            "actions_total": self.actions_total,
        }


@dataclass
class Report:
    findings: list[Finding]
    catalogue: str
    principals: dict[str, int]
    policies: int
    suppressed: int = 0
    expired_suppressions: int = 0
    unresolved: list[str] = field(default_factory=list)  # attached policies not in the input

    def summary(self) -> dict[str, Any]:
        by_kind = Counter(f.kind for f in self.findings)
        by_severity = Counter(f.severity for f in self.findings)
        return {
            "findings": len(self.findings),
            "by_severity": {s: by_severity[s] for s in SEVERITIES if by_severity[s]},
            "by_kind": {k: by_kind[k] for k in KINDS if by_kind[k]},
            "principals": self.principals,
            "policies": self.policies,
            "suppressed": self.suppressed,
            "expired_suppressions": self.expired_suppressions,
            "unresolved_policies": self.unresolved,
            "catalogue": self.catalogue,
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "findings": [f.to_json() for f in self.findings]}
