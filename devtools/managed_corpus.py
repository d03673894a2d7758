"""The audit over every AWS managed policy, as z0ph/MAMIP tracks them: runs clean, and every
statement that bears a `*` is accounted for.

    python -m devtools.managed_corpus PATH   # a MAMIP checkout, or its bare git directory

Each policy becomes one role's attached AWS managed policy in an authorization-details file, which
`shepherd audit --input` reads as it reads any (streamed). Then each Allow statement with a `*` in
its Action, NotAction, Resource or NotResource is either reported at its role, or judged harmless
for a reason printed here (it grants only reads on `*`, its actions accept only `Resource: "*"`,
its resource is narrower than every resource…). Whatever is neither is listed as unaccounted.
Also printed: the findings of the policies the issue names, ReadOnlyAccess and its kin at most
*low*, AdministratorAccess and its kin keeping theirs. Prints; asserts nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from chalicelib.audit import analyzer, source
from chalicelib.audit.catalogue import load
from chalicelib.audit.document import Documents
from chalicelib.audit.policy import statements
from chalicelib.audit.reach import covers_all

WATCHED_LOW = ("ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit")
WATCHED_HIGH = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")


def policies(path: Path) -> dict[str, Any]:
    """Name -> default document, from the checkout's (or git directory's) `policies/`."""
    git = ["git", "--git-dir", str(path / ".git" if (path / ".git").exists() else path)]
    names = subprocess.run(
        [*git, "ls-tree", "--name-only", "HEAD", "policies/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input="".join(f"HEAD:{n}\n" for n in names).encode(),
        capture_output=True,
        check=True,
    ).stdout
    out: dict[str, Any] = {}
    pos = 0
    for name in names:
        header_end = batch.index(b"\n", pos)
        header = batch[pos:header_end].split()
        if header[-1] == b"missing":  # a snapshot may lack a blob
            pos = header_end + 1
            continue
        size = int(header[2])
        body = batch[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        try:
            out[name.split("/", 1)[1]] = json.loads(body)["PolicyVersion"]["Document"]
        except (ValueError, KeyError):
            print(f"skipped {name}: not a policy version ({body[:40]!r})", file=sys.stderr)
    return out


def details(docs: dict[str, Any]) -> dict[str, Any]:
    arn = "arn:aws:iam::aws:policy/{}".format
    return {
        "RoleDetailList": [
            {
                "RoleName": name,
                "Path": "/",
                "AssumeRolePolicyDocument": {"Statement": []},
                "RolePolicyList": [],
                "AttachedManagedPolicies": [{"PolicyName": name, "PolicyArn": arn(name)}],
            }
            for name in docs
        ],
        "Policies": [
            {
                "PolicyName": name,
                "Arn": arn(name),
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": d}],
            }
            for name, d in docs.items()
        ],
    }


def harmless(s: Any, docs: Documents) -> str | None:
    """Why a `*`-bearing Allow statement with no finding needs none, or None."""
    cat = docs.catalogue
    granted = docs.granted(s)  # the same expansion the audit used
    risky = cat.risky(granted)
    if not granted and not s.actions:
        return "grants nothing"
    if not (s.not_resource or covers_all(s.resources, cat)):
        return "its resources are narrower than every resource"
    if not risky and not granted.unknown:
        return "grants only reads, lists and tagging on *"
    if not (risky - cat.unscoped(risky)):
        return 'its write actions accept only Resource "*" (counted, not reported)'
    if cat.contains(granted, "iam:PassRole") and "iam:passedtoservice" in s.condition_keys:
        return "iam:PassRole held to named services (iam:PassedToService)"
    return None


def main(path: Path) -> None:
    started = time.perf_counter()
    docs = policies(path)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "managed.json"
        file.write_text(json.dumps(details(docs)))
        report = analyzer.audit(source.File(file))
    took = time.perf_counter() - started
    found = {(f.principal, f.statement) for f in report.findings}
    judge = Documents(load())
    stars = 0
    reasons: Counter[str] = Counter()
    unaccounted: list[str] = []
    for name, doc in docs.items():
        for s in statements(doc):
            fields = (*s.actions, *s.resources)
            if s.effect != "Allow" or not any("*" in v for v in fields):
                continue
            stars += 1
            if (f"role/{name}", s.label) in found:
                reasons["reported"] += 1
                continue
            why = harmless(s, judge)
            if why is None:
                unaccounted.append(f"{name} [{s.label}]: {', '.join(s.actions)[:120]}")
            else:
                reasons[why] += 1
    summary = report.summary()
    print(f"{len(docs)} AWS managed policies (MAMIP at {path}); audited in {took:.1f} s")
    print(f"findings: {summary['findings']} {summary['by_severity']}")
    print(f"          {summary['by_kind']}")
    print(f"statements bearing *: {stars}")
    for why, n in reasons.most_common():
        print(f"  {n:>6}  {why}")
    print(f"  {len(unaccounted):>6}  unaccounted")
    for line in unaccounted[:20]:
        print(f"          {line}")
    for group, names in (("at most low", WATCHED_LOW), ("kept", WATCHED_HIGH)):
        for name in names:
            mine = [f for f in report.findings if f.principal == f"role/{name}"]
            kinds = sorted({f"{f.kind} ({f.severity})" for f in mine}) or ["none"]
            print(f"{group:>12}: {name}: {', '.join(kinds)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
