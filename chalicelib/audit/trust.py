"""Who may assume a role, judged by what its trust policy allows: an open principal matters only
where it is allowed to assume the role, and a web-identity trust needs a subject."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.audit.catalogue import ActionSet, Catalogue
from chalicelib.audit.findings import KINDS, lower
from chalicelib.audit.policy import Statement
from chalicelib.audit.raw import Raw, listed

RESTRICTING_TRUST_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "sts:externalid",
    }
)
ASSUME = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")


def trust_raws(
    stmts: list[Statement], catalogue: Catalogue, shown: Callable[[ActionSet], tuple[str, ...]]
) -> list[Raw]:
    out = []
    for s in stmts:
        if s.effect != "Allow" or not any(_anyone(p) for p in s.principals):
            continue
        restricting = sorted(RESTRICTING_TRUST_KEYS.intersection(s.condition_keys))
        if restricting:
            continue
        who = ", ".join(p for p in s.principals if _anyone(p))
        detail = f"Principal {who} may {listed(s.actions)} with no org, account, source or external-id condition"
        severity = KINDS["trust_wildcard"].severity
        if s.condition_keys:
            severity = lower(severity)
            detail += f"; condition on {', '.join(s.condition_keys)} lowers severity"
        actions = catalogue.union(tuple(a.strip().lower() for a in s.actions))
        out.append(Raw("trust_wildcard", severity, s.label, detail, actions, shown(actions)))
    return out


def _anyone(principal: str) -> bool:
    if principal in ("*", "AWS:*"):
        return True
    if principal.startswith("AWS:"):
        parts = principal[4:].split(":")
        return len(parts) >= 5 and "*" in parts[4]  # arn:aws:iam::*:root, any account
    return False
