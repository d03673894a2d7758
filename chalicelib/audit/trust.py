"""Who may assume a role, judged by what its trust policy allows: an open principal matters only
where it is allowed to assume the role, and a web-identity trust needs a subject."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.audit.catalogue import ActionSet, Catalogue, glob_regex
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


# A web-identity trust names its provider; without these the provider's every identity may assume
# the role (for GitHub Actions: every repository of every owner).
SUBJECT_KEYS = (":sub", ":aud", ":amr")


def assumes(s: Statement) -> bool:
    """Whether the statement allows assuming the role (its actions, or all but its NotActions)."""
    hit = [a for a in ASSUME if any(glob_regex(p.strip().lower()).fullmatch(a) for p in s.actions)]
    return len(hit) < len(ASSUME) if s.not_action else bool(hit)


def trust_raws(
    stmts: list[Statement], catalogue: Catalogue, shown: Callable[[ActionSet], tuple[str, ...]]
) -> list[Raw]:
    out = []
    for s in stmts:
        if s.effect != "Allow" or not assumes(s):
            continue  # a Principal "*" allowed only s3:GetObject lets nobody assume the role
        web = _unbound_web_identity(s)
        if web:
            actions = catalogue.union(tuple(a.strip().lower() for a in s.actions))
            out.append(Raw("trust_wildcard", "high", s.label, web, actions, shown(actions)))
            continue
        if not any(_anyone(p) for p in s.principals):
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


def _unbound_web_identity(s: Statement) -> str | None:
    """What is open about a web-identity trust with no subject condition, or None."""
    providers = [p.split(":", 1)[1] for p in s.principals if p.startswith("Federated:")]
    web = [p for p in providers if not p.endswith("saml-provider") and ":saml-provider/" not in p]
    if not web or not any(glob_regex(a.strip().lower()).fullmatch(ASSUME[1]) for a in s.actions):
        return None
    bound = [k for k in s.condition_keys if k.endswith(SUBJECT_KEYS)]
    if any(k.endswith(":sub") for k in bound) or (bound and "github" not in " ".join(web)):
        return None
    name = web[0].split("oidc-provider/", 1)[-1]
    return (
        f"Any identity of {name} may assume the role: AssumeRoleWithWebIdentity with no `sub` "
        "condition" + (" (every repository on GitHub)" if "githubusercontent" in name else "")
    )


def _anyone(principal: str) -> bool:
    if principal in ("*", "AWS:*"):
        return True
    if principal.startswith("AWS:"):
        parts = principal[4:].split(":")
        return len(parts) >= 5 and "*" in parts[4]  # arn:aws:iam::*:root, any account
    return False
