"""Accepted findings, each with a reason and an expiry (`policies/audit-suppressions.json`).

    {"suppressions": [{"principal": "role/shepherd-*", "policy": "*", "kind": "resource_wildcard",
                       "reason": "...", "expires": "2027-05-31"}]}

`principal` and `policy` are globs; `kind` a finding kind or `*`. An expired suppression stops
hiding its findings, and the report counts both the suppressed findings and those only an
expired suppression would hide.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chalicelib.audit.findings import Finding
from chalicelib.errors import BadInput

SUPPRESSIONS_FILE = Path(__file__).resolve().parents[2] / "policies" / "audit-suppressions.json"


@dataclass(frozen=True)
class Suppression:
    principal: str
    policy: str
    kind: str
    reason: str
    expires: date

    def covers(self, f: Finding) -> bool:
        return (
            self.kind in ("*", f.kind)
            and fnmatch.fnmatchcase(f.principal, self.principal)
            and fnmatch.fnmatchcase(f.policy, self.policy)
        )


def load(path: Path = SUPPRESSIONS_FILE) -> tuple[Suppression, ...]:
    if not path.exists():
        return ()
    try:
        doc = json.loads(path.read_text())
        out = []
        for s in doc["suppressions"]:
            if not str(s.get("reason", "")).strip():
                raise ValueError(f"suppression of {s.get('principal')} has no reason")
            out.append(
                Suppression(
                    principal=str(s["principal"]),
                    policy=str(s.get("policy", "*")),
                    kind=str(s["kind"]),
                    reason=str(s["reason"]),
                    expires=date.fromisoformat(str(s["expires"])),
                )
            )
        return tuple(out)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path.name}: {exc}") from exc


def match(
    findings: list[Finding], suppressions: Iterable[Suppression], today: date
) -> tuple[list[Finding], int, int]:
    """(findings still reported, how many were suppressed, how many only an expired one covers)."""
    active = [s for s in suppressions if s.expires >= today]
    expired = [s for s in suppressions if s.expires < today]
    kept, suppressed, lapsed = [], 0, 0
    for f in findings:
        if any(s.covers(f) for s in active):
            suppressed += 1
            continue
        if any(s.covers(f) for s in expired):
            lapsed += 1
        kept.append(f)
    return kept, suppressed, lapsed
