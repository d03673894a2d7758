"""Shepherd and peer tools on the labelled escalation corpus (benchmarks/escalation_cases.py).

`python benchmarks/escalation_peers.py` builds build/bench/escalation-cases.json when it is
missing (or always, with --rebuild), runs each tool on it and prints, per tool, how many of the
"escalation" principals it flags and how many "clean" near misses it leaves alone, then the
principals each tool misses and falsely flags. "target" principals are not scored.

Tools:

- Shepherd (this checkout's working tree): `shepherd audit --input FILE --json`; a principal is
  flagged when a finding of kind privilege_escalation names it.
- cloudsplaining 0.9.1: `cloudsplaining scan`; a principal is flagged when a policy it holds
  (inline, attached, or through a group) has PrivilegeEscalation findings.
- pmapper (principalmapper 1.1.5): its graph is built by its own code
  (gathering.get_nodes_groups_and_policies, update_admin_status, edge checkers in offline mode)
  from the file through an in-memory IAM client: no access keys, no MFA, a console password only
  for users named admin-*. A principal is flagged when pmapper calls it an admin (pmapper counts
  self-escalation such as iam:PutRolePolicy on itself as admin) or can_privesc finds a path.
- Pacu 1.7.0 iam__privesc_scan --offline: its input, the confirmed_permissions files that
  iam__enum_permissions writes from live IAM calls, is written here with enum_permissions' own
  parse_document from the file's policies (default versions; a user's groups included). Pacu
  runs with HOME under build/, so nothing is written to the real home.

Each peer gets its own virtualenv under build/bench/peers/ (benchmark only, never a dependency of
Shepherd). A peer whose install or run fails is reported as not run, with the reason. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import escalation_cases

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
PEERS = BUILD / "peers"
CASES = BUILD / "escalation-cases.json"
LABELS = BUILD / "escalation-labels.json"
SHEPHERD = ROOT / ".venv" / "bin" / "shepherd"
CLOUDSPLAINING = "cloudsplaining==0.9.1"
PMAPPER = "principalmapper==1.1.5"
PACU = "pacu==1.7.0"


@dataclass
class Result:
    tool: str
    version: str = "-"
    flagged: set[str] = field(default_factory=set)
    why_not: str | None = None  # set when the tool did not run


def run(argv: list[str], timeout: int = 900, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def venv(name: str, requirement: str) -> Path:
    """The python of build/bench/peers/<name>, with `requirement` installed; raises with the
    reason when the install fails."""
    home = PEERS / name
    python = home / "bin" / "python"
    package = requirement.split("==")[0]
    if python.exists():
        have = run([str(python), "-m", "pip", "show", package])
        if have.returncode == 0 and f"Version: {requirement.split('==')[1]}" in have.stdout:
            return python
    print(f"installing {requirement} into {home} (benchmark only)…", file=sys.stderr, flush=True)
    made = run([sys.executable, "-m", "venv", str(home)])
    if made.returncode != 0:
        raise RuntimeError(f"python -m venv failed: {made.stderr.strip()[-300:]}")
    pip = run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement]
    )
    if pip.returncode != 0:
        lines = [ln for ln in pip.stderr.splitlines() if "WARNING: Location" not in ln]
        raise RuntimeError(f"pip install {requirement} failed: {' '.join(lines)[-300:]}")
    return python


def principal(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def members(details: dict[str, Any]) -> dict[str, list[str]]:
    """Group name -> the users in it."""
    out: dict[str, list[str]] = {}
    for u in details["UserDetailList"]:
        for g in u.get("GroupList", []):
            out.setdefault(g, []).append(u["UserName"])
    return out


# -- Shepherd -------------------------------------------------------------------------------------
def shepherd(path: Path) -> Result:
    r = Result("Shepherd")
    if not SHEPHERD.exists():
        r.why_not = f"{SHEPHERD} not found (make the project's venv first)"
        return r
    version = run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('shepherd'))",
        ]
    ).stdout.strip()
    head = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "chalicelib"]).stdout
    r.version = f"{version} ({head}{'+working tree' if dirty.strip() else ''})"
    done = run([str(SHEPHERD), "audit", "--input", str(path), "--json"])
    if done.returncode not in (0, 1):  # 1: findings
        r.why_not = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        return r
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as e:
        r.why_not = f"unreadable JSON ({e}); stderr: {done.stderr.strip()[-200:]}"
        return r
    r.flagged = {f["principal"] for f in report["findings"] if f["kind"] == "privilege_escalation"}
    return r


# -- cloudsplaining -------------------------------------------------------------------------------
def cloudsplaining(path: Path) -> Result:
    r = Result("cloudsplaining")
    try:
        python = venv("cloudsplaining", CLOUDSPLAINING)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        r.why_not = str(e)
        return r
    exe = python.parent / "cloudsplaining"
    r.version = run([str(exe), "--version"]).stdout.strip().rsplit(" ", 1)[-1] or "?"
    out = PEERS / "cloudsplaining-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    done = run(
        [str(exe), "scan", "--input-file", str(path), "--output", str(out), "--skip-open-report"]
    )
    results = sorted(out.glob("iam-results-*.json"))
    if done.returncode != 0 or not results:
        r.why_not = f"scan failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        return r
    data = json.loads(results[0].read_text())
    groups = members(json.loads(path.read_text()))
    for section in ("inline_policies", "customer_managed_policies", "aws_managed_policies"):
        for policy in data.get(section, {}).values():
            if not policy.get("PrivilegeEscalation", {}).get("findings"):
                continue
            held = policy.get("AttachedTo", {})
            r.flagged |= {principal("role", n) for n in held.get("roles", [])}
            r.flagged |= {principal("user", n) for n in held.get("users", [])}
            for g in held.get("groups", []):
                r.flagged |= {principal("user", n) for n in groups.get(g, [])}
    return r


# -- pmapper --------------------------------------------------------------------------------------
PMAPPER_RUN = r"""
import collections, collections.abc, json, logging, sys
# pmapper 1.1.5 imports Mapping/MutableMapping from collections, gone since Python 3.10.
collections.Mapping = collections.abc.Mapping
collections.MutableMapping = collections.abc.MutableMapping
logging.disable(logging.CRITICAL)
import principalmapper
from principalmapper.common import Graph
from principalmapper.graphing import edge_identification, gathering
from principalmapper.querying.presets.privesc import can_privesc

details = json.load(open(sys.argv[1]))

class Pages:
    def __init__(self, pages):
        self.pages = pages
    def paginate(self, **kw):
        return iter(self.pages)

class OfflineIAM:
    # The calls gathering.get_nodes_groups_and_policies makes, answered from the file.
    def get_paginator(self, name):
        if name == "get_account_authorization_details":
            return Pages([details])
        if name == "list_virtual_mfa_devices":
            return Pages([{"VirtualMFADevices": []}])
        raise NotImplementedError(name)
    def list_access_keys(self, UserName):
        return {"AccessKeyMetadata": []}
    def get_login_profile(self, UserName):
        if UserName.startswith("admin-"):
            return {"LoginProfile": {"UserName": UserName}}
        raise Exception("NoSuchEntity: no login profile")
    def list_mfa_devices(self, UserName):
        return {"MFADevices": []}

found = gathering.get_nodes_groups_and_policies(OfflineIAM())
gathering.update_admin_status(found["nodes"])
edges = edge_identification.obtain_edges(
    None, list(edge_identification.checker_map), found["nodes"]
)
graph = Graph(found["nodes"], edges, found["policies"], found["groups"],
              {"account_id": "111122223333", "pmapper_version": principalmapper.__version__})
flagged = {}
for node in graph.nodes:
    name = node.arn.split(":", 5)[5]
    if node.is_admin:
        flagged[name] = "admin"
        continue
    ok, path = can_privesc(graph, node)
    if ok:
        flagged[name] = " -> ".join(e.short_reason for e in path)
print(json.dumps({"version": principalmapper.__version__, "flagged": flagged}))
"""


def pmapper(path: Path) -> Result:
    r = Result("pmapper")
    try:
        python = venv("pmapper", PMAPPER)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        r.why_not = str(e)
        return r
    done = run([str(python), "-c", PMAPPER_RUN, str(path)])
    if done.returncode != 0:
        r.why_not = f"offline graph failed: {done.stderr.strip()[-300:]}"
        return r
    out = json.loads(done.stdout.strip().splitlines()[-1])
    r.version = f"{out['version']} (offline graph)"
    r.flagged = set(out["flagged"])
    return r


# -- Pacu -----------------------------------------------------------------------------------------
PACU_PREPARE = r"""
import copy, json, os, sys
from pacu.modules.iam__enum_permissions.main import parse_document

details = json.load(open(sys.argv[1]))
folder = sys.argv[2]
policies = {
    p["Arn"]: next(v["Document"] for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
    for p in details["Policies"]
}
groups = {g["GroupName"]: g for g in details["GroupDetailList"]}

def fill(who, entity, inline_key):
    for p in entity.get(inline_key, []):
        parse_document(copy.deepcopy(p["PolicyDocument"]), who)
    for a in entity.get("AttachedManagedPolicies", []):
        parse_document(copy.deepcopy(policies[a["PolicyArn"]]), who)

def listed(value):
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else value

def write(name, who):
    for effect in who["Permissions"].values():
        for entry in effect.values():
            entry["Resources"] = listed(entry["Resources"])
            entry["Conditions"] = [
                {k: listed(v) for k, v in c.items()} if isinstance(c, dict) else c
                for c in entry["Conditions"]
            ]
    with open(os.path.join(folder, name), "w") as f:
        json.dump(who, f, default=str)

for u in details["UserDetailList"]:
    who = {"UserName": u["UserName"], "Permissions": {"Allow": {}, "Deny": {}}}
    fill(who, u, "UserPolicyList")
    for g in u.get("GroupList", []):
        fill(who, groups[g], "GroupPolicyList")
    write("user-" + u["UserName"] + ".json", who)
for r in details["RoleDetailList"]:
    who = {"RoleName": r["RoleName"], "Permissions": {"Allow": {}, "Deny": {}}}
    fill(who, r, "RolePolicyList")
    write("role-" + r["RoleName"] + ".json", who)
"""


def pacu(path: Path) -> Result:
    r = Result("Pacu iam__privesc_scan")
    try:
        python = venv("pacu", PACU)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        r.why_not = str(e)
        return r
    home = PEERS / "pacu-home"  # pacu keeps its database and downloads under ~/.local/share/pacu
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "HOME": str(home)}
    folder = home / "confirmed_permissions"
    folder.mkdir()
    prepared = run([str(python), "-c", PACU_PREPARE, str(path), str(folder)], env=env)
    if prepared.returncode != 0:
        r.why_not = f"confirmed_permissions not written: {prepared.stderr.strip()[-300:]}"
        return r
    exe = str(python.parent / "pacu")
    r.version = run([str(python), "-m", "pip", "show", "pacu"]).stdout.split("Version: ")[-1]
    r.version = r.version.splitlines()[0] + " (offline scan)" if r.version else "?"
    steps = [
        [exe, "-q", "--new-session", "bench"],
        [
            exe,
            "-q",
            "--session",
            "bench",
            "--module-name",
            "iam__privesc_scan",
            f"--module-args=--offline --folder {folder}/",
            "--exec",
        ],
    ]
    for argv in steps:
        done = run(argv, env=env, stdin=subprocess.DEVNULL, timeout=300)
        if done.returncode != 0:
            r.why_not = f"{' '.join(argv[1:4])} failed: {(done.stderr or done.stdout)[-300:]}"
            return r
    # pacu 1.7.0 saves it under downloads/downloads/; look anywhere in its session folder
    saved = sorted(home.rglob("offline_privesc_scan_*.json"))
    if not saved:
        r.why_not = f"no offline_privesc_scan output; pacu said: {done.stdout.strip()[-300:]}"
        return r
    for who in json.loads(saved[-1].read_text()):
        kind, name = who.split(" ", 1)  # "(User) name" / "(Role) name"
        r.flagged.add(principal("user" if kind == "(User)" else "role", name))
    return r


# -- the table ------------------------------------------------------------------------------------
def main() -> None:
    if "--rebuild" in sys.argv or not CASES.exists() or not LABELS.exists():
        escalation_cases.main()
    labels = json.loads(LABELS.read_text())
    positives = [c["principal"] for c in labels if c["expected"] == "escalation"]
    negatives = [c["principal"] for c in labels if c["expected"] == "clean"]
    tools: list[Callable[[Path], Result]] = [shepherd, cloudsplaining, pmapper, pacu]
    results = []
    for tool in tools:
        try:
            results.append(tool(CASES))
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
            results.append(Result(tool.__name__, why_not=f"{type(e).__name__}: {e}"))

    print(f"IAM privilege escalation: {CASES.relative_to(ROOT)}")
    print(f"{len(positives)} escalation cases, {len(negatives)} near-miss (clean) cases\n")
    head = f"{'tool':<24} {'version':<28} {'escalations found':>18} {'near-misses clean':>18}"
    print(head)
    print("-" * len(head))
    for r in results:
        if r.why_not:
            print(f"{r.tool:<24} {r.version:<28} not run ({r.why_not})")
            continue
        found = sum(p in r.flagged for p in positives)
        clean = sum(n not in r.flagged for n in negatives)
        print(
            f"{r.tool:<24} {r.version:<28} {f'{found}/{len(positives)}':>18} "
            f"{f'{clean}/{len(negatives)}':>18}"
        )
    for r in results:
        if r.why_not:
            continue
        missed = [p.split("/", 1)[1] for p in positives if p not in r.flagged]
        false = [n.split("/", 1)[1] for n in negatives if n in r.flagged]
        print(f"\n{r.tool} misses ({len(missed)}): {', '.join(missed) or '-'}")
        print(f"{r.tool} flags clean ({len(false)}): {', '.join(false) or '-'}")


if __name__ == "__main__":
    main()
