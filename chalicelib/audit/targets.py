"""What a statement reaches, as escalation judges it: every resource of a type in the account,
or the principal itself (its ARN, its groups, a policy attached to it). Pure.

A `Grant` is judged here once per document (which kinds it reaches everywhere); whether it
reaches the principal itself is asked per principal (`where`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from chalicelib.audit.catalogue import ActionSet, Catalogue, glob_regex
from chalicelib.audit.conditions import Test

# IAM actions whose resource is a principal or a policy, by the type their ARN names.
ON_ROLE = {
    "iam:attachrolepolicy",
    "iam:putrolepolicy",
    "iam:updateassumerolepolicy",
    "iam:deleterolepermissionsboundary",
    "iam:putrolepermissionsboundary",
}
ON_USER = {
    "iam:attachuserpolicy",
    "iam:putuserpolicy",
    "iam:createaccesskey",
    "iam:deleteaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:deleteuserpermissionsboundary",
    "iam:putuserpermissionsboundary",
}
ON_GROUP = {"iam:attachgrouppolicy", "iam:putgrouppolicy", "iam:addusertogroup"}
ON_POLICY = {"iam:createpolicyversion", "iam:setdefaultpolicyversion"}
# On itself a principal gains by these; the others (a key or a password for itself, its own
# trust policy, joining a group it is in) give it nothing it has not got.
ON_ITSELF = (ON_ROLE | ON_USER | ON_GROUP | ON_POLICY) - {
    "iam:updateassumerolepolicy",
    "iam:createaccesskey",
    "iam:deleteaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:addusertogroup",
}


@dataclass(frozen=True, slots=True)
class Grant:
    """A statement on the actions escalation paths use, where its resources or its condition
    decide whether it completes a path (document.py keeps them; judged here, per path)."""

    actions: ActionSet
    resources: tuple[str, ...]
    not_resource: bool
    tests: tuple[Test, ...]
    # The kinds ("role/", "user/", "group/", "policy/", "service") of which it reaches every
    # resource but perhaps the principal itself: judged once per document, not per principal.
    every: frozenset[str] = frozenset()


KINDS = ("role/", "user/", "group/", "policy/")


def grant(
    actions: ActionSet,
    resources: tuple[str, ...],
    not_resource: bool,
    tests: tuple[Test, ...],
    catalogue: Catalogue,
) -> Grant:
    from chalicelib.audit.reach import covers_all

    covered = {k for k in KINDS if any(_every_of(r, k) for r in resources)}
    if covers_all(tuple(_any_place(r) for r in resources), catalogue):
        covered.add("service")
    every = frozenset({*KINDS, "service"} - covered) if not_resource else frozenset(covered)
    return Grant(actions, resources, not_resource, tests, every)


@dataclass(frozen=True)
class Roles:
    """Which roles a statement reaches: `patterns` (ARN globs), or all but `except_`."""

    patterns: tuple[str, ...] = ()
    except_: tuple[str, ...] | None = None  # NotResource

    def reach(self, arn: str) -> bool:
        if self.except_ is not None:
            return not any(arn_matches(p, arn) for p in self.except_)
        return any(arn_matches(p, arn) for p in self.patterns)


KIND_OF = {
    **dict.fromkeys(ON_ROLE, "role/"),
    **dict.fromkeys(ON_USER, "user/"),
    **dict.fromkeys(ON_GROUP, "group/"),
    **dict.fromkeys(ON_POLICY, "policy/"),
}


def where(g: Grant, action: str, itself: tuple[str, ...]) -> tuple[bool, bool]:
    """Whether a statement reaches the principal itself, and every resource of the type."""
    every = KIND_OF.get(action, "service") in g.every
    mine = bool(itself) and any(arn_matches(r, arn) for r in g.resources for arn in itself)
    if g.not_resource:
        return (bool(itself) and not mine, every)
    return (mine, every)


def _any_place(resource: str) -> str:
    """The ARN with any region and account: a type's every resource in one account is every
    resource of it an attacker in that account can use."""
    parts = resource.split(":")
    if len(parts) >= 6 and parts[0] == "arn":
        parts[3] = parts[3] and "*"
        parts[4] = parts[4] and "*"
    return ":".join(parts)


def _every_of(resource: str, kind: str) -> bool:
    if resource in ("*", "arn:*", "arn:aws:*"):
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or parts[2].lower() not in ("iam", "*"):
        return False
    return glob_regex(parts[5]).fullmatch(f"{kind}some/path/any-name") is not None


def every_role(pattern: str) -> bool:
    return _every_of(pattern, "role/")


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's glob, case-insensitive as the audit judges resources; most resource patterns are a
    literal or a literal and one trailing `*`, compared without a regex."""
    if pattern == "*":
        return True
    star = pattern.find("*")
    if "?" not in pattern and (star == -1 or star == len(pattern) - 1):
        p, a = pattern.lower(), arn.lower()
        return a == p if star == -1 else a.startswith(p[:-1])
    return _compiled(pattern).fullmatch(arn) is not None


_compiled = functools.lru_cache(maxsize=8192)(glob_regex)  # templated documents repeat them
