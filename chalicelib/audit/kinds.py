"""The finding kinds of PRODUCT.md §6, declared once: id, base severity, title. Add, never rename."""

from __future__ import annotations

from dataclasses import dataclass

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
    )
}


def lower(severity: str) -> str:
    """One step less severe (a condition narrows a grant without removing it); never below low."""
    i = SEVERITIES.index(severity)
    return SEVERITIES[min(i + 1, SEVERITIES.index("low"))] if severity != "info" else "info"


def raise_to(severity: str, floor: str) -> str:
    return SEVERITIES[min(SEVERITIES.index(severity), SEVERITIES.index(floor))]
