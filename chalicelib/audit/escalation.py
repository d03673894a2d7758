"""Privilege escalation: a principal whose allowed actions (after its Denies and its permissions
boundary) complete a known combination. The combinations are cloudsplaining's maintained list,
as data (`escalations.json`, built by devtools/build_escalations.py), each with its
pathfinding.cloud path."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from chalicelib.audit.catalogue import EMPTY, ActionSet, Catalogue, positions
from chalicelib.audit.findings import Finding
from chalicelib.audit.merge import SHOWN_ACTIONS

DATA = Path(__file__).with_name("escalations.json")


@dataclass(frozen=True)
class Method:
    name: str
    actions: tuple[str, ...]
    needs: ActionSet
    url: str | None


class Escalations:
    def __init__(self, doc: dict[str, object], catalogue: Catalogue) -> None:
        self.label = f"{doc['source']} {doc['version']}"
        methods = doc["methods"]
        assert isinstance(methods, dict)
        self.methods = [
            Method(name, tuple(m["actions"]), catalogue.union(tuple(m["actions"])), m.get("url"))
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


def findings(
    principal: str,
    grants: list[ActionSet],
    denied: ActionSet,
    cap: ActionSet | None,
    admin: bool,
    catalogue: Catalogue,
    lambda_role: bool,
) -> list[Finding]:
    """One finding per principal naming each escalation path its allowed actions complete: what
    its policies allow on every resource, less its Denies, within its permissions boundary. Not
    for a principal that is already an administrator, nor a policy nobody holds."""
    if admin or principal == "(unattached)":
        return []
    allowed = EMPTY
    for grant in grants:
        allowed = allowed | grant
    allowed = allowed - denied if denied else allowed
    if cap is not None:
        allowed = allowed & cap
    if not allowed:
        return []
    data = load(catalogue)
    done = data.completed(allowed)
    if not done:
        return []
    names = "; ".join(
        f"{m.name} ({' + '.join(m.actions)})" + (f" {m.url}" if m.url else "") for m in done[:5]
    )
    more = f" and {len(done) - 5} more" if len(done) > 5 else ""
    actions = tuple(dict.fromkeys(a for m in done for a in m.actions))
    who = "A Lambda execution role: it" if lambda_role else "It"
    detail = f"{who} can raise its own privileges: {names}{more} (combinations from {data.label})"
    return [
        Finding(
            "privilege_escalation",
            "critical" if lambda_role else "high",
            principal,
            "(all its policies)",
            "-",
            detail,
            actions[:SHOWN_ACTIONS],
            len(actions),
        )
    ]
