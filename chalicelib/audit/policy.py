"""IAM policy documents as AWS accepts them, normalised: a statement or a list of them, `Action` /
`Resource` as a string or a list, documents as objects, JSON strings or URL-encoded JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from chalicelib.audit.conditions import Test, parse
from chalicelib.errors import BadInput

EXCLUSIVE = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principals: tuple[str, ...]  # trust policies: "*" or "AWS:<arn>", "Service:<name>", ...
    condition_keys: tuple[str, ...]  # lower-cased
    malformed: str | None = None  # why AWS would reject it (then it is not judged)
    tests: tuple[Test, ...] = ()  # the condition, as conditions.py judges it

    @property
    def label(self) -> str:
        return self.sid or f"#{self.index}"


def document(raw: Any) -> dict[str, Any]:
    """A policy document from any of the shapes AWS hands out."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        for text in (raw, unquote(raw)):
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            if isinstance(doc, dict):
                return doc
    raise BadInput(f"not a policy document: {str(raw)[:80]!r}")


def statements(raw: Any) -> list[Statement]:
    doc = document(raw)
    items = doc.get("Statement", [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise BadInput("a policy's Statement must be an object or a list")
    out = []
    for i, s in enumerate(items):
        if not isinstance(s, dict):
            raise BadInput(f"statement {i} is not an object")
        not_action = "NotAction" in s
        not_resource = "NotResource" in s
        clash = [f"{a} and {b}" for a, b in EXCLUSIVE if a in s and b in s]
        condition = s.get("Condition") or {}
        keys = tuple(
            sorted(
                {str(k).lower() for ops in condition.values() if isinstance(ops, dict) for k in ops}
            )
        )
        out.append(
            Statement(
                index=i,
                sid=s.get("Sid") or None,
                effect=str(s.get("Effect", "")).capitalize(),
                actions=_strings(s.get("NotAction" if not_action else "Action")),
                not_action=not_action,
                resources=_strings(s.get("NotResource" if not_resource else "Resource", "*")),
                not_resource=not_resource,
                principals=_principals(s.get("Principal")),
                condition_keys=keys,
                malformed=f"has both {clash[0]}: AWS rejects it" if clash else None,
                tests=parse(condition) if condition else (),
            )
        )
    return out


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise BadInput(f"expected a string or a list, not {type(value).__name__}")


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if value == "*":
        return ("*",)
    if isinstance(value, dict):
        return tuple(f"{kind}:{p}" for kind, ps in value.items() for p in _strings(ps))
    return tuple(_strings(value))
