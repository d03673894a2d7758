"""One finding per place: the same statement reached several ways is one finding."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.audit.findings import SEVERITIES, Finding

SHOWN_ACTIONS = 50  # the actions a finding names (the riskiest first)


def merged(findings: list[Finding]) -> list[Finding]:
    """One finding per place (principal, policy, statement, kind): a policy held two ways (directly
    and through a group) is one finding that says so; several `svc:*` of one statement, one."""
    by_place: dict[str, list[Finding]] = {}
    for f in findings:
        by_place.setdefault(f.identity, []).append(f)
    out = []
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    for same in by_place.values():
        if len(same) == 1:
            out.append(same[0])
            continue
        details = list(dict.fromkeys(f.detail for f in same))
        actions = tuple(dict.fromkeys(a for f in same for a in f.actions))[:SHOWN_ACTIONS]
        distinct = {(f.detail, f.actions) for f in same}
        total = same[0].actions_total if len(distinct) == 1 else sum(f.actions_total for f in same)
        detail = "; ".join(details) + (f" (granted {len(same)} ways)" if len(distinct) == 1 else "")
        worst = min(same, key=lambda f: rank[f.severity])
        out.append(replace(worst, detail=detail, actions=actions, actions_total=total))
    return out
