"""Shepherd's IAM audit against parliament's base run on the same synthetic accounts, at 2,000,
10,000 and 30,000 roles (`python benchmarks/iam_audit.py 10000` runs one size;
`--without-parliament` leaves the peer out).

Each account: roles and a quarter as many customer-managed policies (three versions each, only the
default counts), in the JSON shape `aws iam get-account-authorization-details` prints. Roles hold two
inline policies and three attached ones; documents mix lists and strings, lowercase and `?`
wildcards, partial wildcards, NotAction, Deny statements, conditions and wildcard trust.

parliament is installed into its own virtualenv under build/ for this benchmark only (it is not a
dependency of Shepherd). Each tool runs in a fresh process; wall time and peak RSS are printed.
The scheduled audit is also run as the Lambda runs it (paged from IAM, keys staged in the store)
on the CPU share of `nightly_iam_audit`'s memory setting, for its wall time and peak memory.
Prints figures; asserts nothing. Targets: ≥ 10× parliament's speed; < 256 MB at 10,000 roles and
< 512 MB at 30,000.
"""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.lambda_cpu import CpuShare, memory_of, share_of

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
PARLIAMENT = "parliament==1.6.4"
ROLES, POLICIES = 2_000, 500  # synthetic_account()'s size; main() sets each of SIZES
SIZES = ((2_000, 500), (10_000, 2_500), (30_000, 7_500))
ACCOUNT = "123456789012"

MEASURE = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{wall} {rss} {done.returncode}")
if done.returncode not in (0, 1):
    print(done.stderr[-2000:], file=sys.stderr)
"""


def synthetic_account(seed: int = 7) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from chalicelib.audit.catalogue import load

    rng = random.Random(seed)
    catalogue = load()
    actions = sorted(catalogue.levels)
    services = sorted({a.split(":")[0] for a in actions})
    spicy = [
        "s3:Put*",
        "iam:*Policy",
        "iam:Pass*",
        "*:Get*",
        "IAM:passrole",
        "ec2:Describe*",
        "dynamodb:*",
        "sqs:?endMessage",
        "lambda:Invoke*",
        "kms:Decrypt",
    ]

    def statement(i: int, scope: str) -> dict[str, object]:
        roll = rng.random()
        picked = rng.sample(actions, rng.randint(3, 10)) + (
            [rng.choice(spicy)] if roll < 0.5 else []
        )
        if rng.random() < 0.3:
            picked = [a.lower() for a in picked]
        s: dict[str, object] = {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Action": picked if len(picked) > 1 else picked[0],
            "Resource": "*" if rng.random() < 0.4 else f"arn:aws:s3:::{scope}-{i}/*",
        }
        if roll > 0.97:
            s["Action"] = "*"
        elif roll > 0.94:
            s.pop("Action")
            s["NotAction"] = [f"{rng.choice(services)}:*", "iam:*"]
        elif roll > 0.9:
            s["Effect"] = "Deny"
        if rng.random() < 0.15:
            s["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
        return s

    def document(scope: str) -> dict[str, object]:
        n = rng.randint(2, 5)
        stmts = [statement(i, scope) for i in range(n)]
        return {"Version": "2012-10-17", "Statement": stmts if n > 1 else stmts[0]}

    policies = []
    for p in range(POLICIES):
        name = f"team-{p:03d}"
        versions = [
            {"Document": document(f"{name}-v{v}"), "VersionId": f"v{v}", "IsDefaultVersion": v == 3}
            for v in (1, 2, 3)
        ]
        policies.append(
            {
                "PolicyName": name,
                "PolicyId": f"ANPA{p:017d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
                "Path": "/",
                "DefaultVersionId": "v3",
                "AttachmentCount": 0,
                "IsAttachable": True,
                "PolicyVersionList": versions,
            }
        )
    roles = []
    for r in range(ROLES):
        name = f"svc-{r:04d}"
        trusted = {"AWS": "*"} if rng.random() < 0.01 else {"Service": "lambda.amazonaws.com"}
        attached = rng.sample(policies, 3)
        for p in attached:
            p["AttachmentCount"] = int(p["AttachmentCount"]) + 1  # type: ignore[call-overload]
        roles.append(
            {
                "Path": "/",
                "RoleName": name,
                "RoleId": f"AROA{r:017d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                "CreateDate": "2026-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"}
                    ],
                },
                "InstanceProfileList": [],
                "RolePolicyList": [
                    {"PolicyName": f"inline-{i}", "PolicyDocument": document(f"{name}-{i}")}
                    for i in range(2)
                ],
                "AttachedManagedPolicies": [
                    {"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]} for p in attached
                ],
                "Tags": [],
                "RoleLastUsed": {},
            }
        )
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": policies,
    }


def measure(argv: list[str], cpu: CpuShare | None = None) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=cpu.preexec() if cpu else None,
    )
    if out.stderr:
        print(out.stderr, file=sys.stderr)
    wall, rss, code = out.stdout.split()
    return float(wall), float(rss), int(code)


def parliament() -> Path:
    venv = BUILD / "parliament-venv"
    exe = venv / "bin" / "parliament"
    if not exe.exists():
        print(f"installing {PARLIAMENT} into {venv} (benchmark only)…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PARLIAMENT,
            ],
            check=True,
        )
    return exe


class PagedIam:
    """GetAccountAuthorizationDetails over a file, a page of MaxItems at a time, as IAM pages it
    (Filter honoured, Marker the page number). The file is streamed: the fake holds one page."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open: dict[tuple[str, ...], Any] = {}

    def get_account_authorization_details(
        self, Filter: list[str], MaxItems: int = 100, Marker: str = ""
    ) -> dict[str, Any]:
        from chalicelib.audit import stream

        lists = {
            "Role": "RoleDetailList",
            "User": "UserDetailList",
            "Group": "GroupDetailList",
            "LocalManagedPolicy": "Policies",
            "AWSManagedPolicy": "Policies",
        }
        key = tuple(Filter)
        if not Marker:
            self._open[key] = stream.items(self.path, frozenset(lists[f] for f in Filter))
        page: dict[str, Any] = {}
        for name, item in itertools.islice(self._open[key], MaxItems):
            page.setdefault(name, []).append(item)
        full = sum(len(v) for v in page.values()) == MaxItems
        return {**page, "IsTruncated": full, **({"Marker": f"{Marker}+"} if full else {})}


class CountingSlack:
    def __init__(self) -> None:
        self.posts = 0

    def post(self, channel: str, text: str, blocks: Any = None, thread_ts: Any = None) -> Any:
        self.posts += 1
        return channel, "1.0"


def nightly(path: Path) -> None:
    """The scheduled audit as the Lambda runs it: paged from IAM, keys staged and promoted."""
    sys.path.insert(0, str(ROOT))
    from chalicelib.audit.runs import scheduled
    from chalicelib.aws.iam import IamApi
    from chalicelib.store.audit_runs import AuditRuns
    from chalicelib.store.memory import MemoryTable

    slack = CountingSlack()
    done = scheduled(IamApi(PagedIam(path)), AuditRuns(MemoryTable()), slack, "C1")  # type: ignore[arg-type]
    print(f"posted {done.posted} ({slack.posts} messages), {done.new} new", file=sys.stderr)


def account_file(roles: int, policies: int) -> Path:
    global ROLES, POLICIES
    ROLES, POLICIES = roles, policies
    path = BUILD / f"account-{roles}.json"
    started = time.perf_counter()
    path.write_text(json.dumps(synthetic_account()))
    print(
        f"synthetic account: {roles} roles, {policies} managed policies, "
        f"{path.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - started:.1f} s to build)",
        flush=True,
    )
    return path


def main() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    peers = "--without-parliament" not in sys.argv  # its 30,000-role run takes ~16 minutes
    sizes = [(r, p) for r, p in SIZES if not args or str(r) in args]
    memory = memory_of("nightly_iam_audit")
    rows = []
    for roles, policies in sizes:
        path = account_file(roles, policies)
        shepherd = [str(Path(sys.executable).parent / "shepherd"), "audit", "--input", str(path)]
        ours = min(measure([*shepherd, "--json"]) for _ in range(3 if roles <= 2_000 else 1))
        with CpuShare(share_of(memory)) as cpu:
            lambda_run = measure([sys.executable, __file__, "--nightly", str(path)], cpu)
        theirs = (
            measure([str(parliament()), "--auth-details-file", str(path), "--json"])
            if peers
            else (float("nan"), float("nan"), 0)
        )
        findings = json.loads(
            subprocess.run([*shepherd, "--json"], capture_output=True, text=True, check=True).stdout
        )["summary"]["findings"]
        rows.append((roles, ours, lambda_run, theirs, findings, cpu.note))
    print()
    print(
        f"{'roles':>7}{'findings':>10}{'shepherd s':>12}{'peak MB':>9}"
        f"{'nightly s':>11}{'peak MB':>9}{'parliament s':>14}{'peak MB':>9}{'speed-up':>10}"
    )
    for roles, ours, lam, theirs, findings, _ in rows:
        print(
            f"{roles:>7}{findings:>10}{ours[0]:>12.2f}{ours[1]:>9.0f}{lam[0]:>11.2f}{lam[1]:>9.0f}"
            f"{theirs[0]:>14.2f}{theirs[1]:>9.0f}{theirs[0] / ours[0]:>9.1f}×"
        )
    note = rows[0][5] if rows else ""
    print(
        f"shepherd: `shepherd audit --input … --json` on a full core (best of 3 at 2,000 roles). "
        f"nightly: the scheduled audit paged from IAM (1,000 a page), keys staged and promoted, "
        f"on the {memory} MB function's CPU share ({share_of(memory):.0%} of a core"
        + (f"; {note}: full core" if note else "")
        + "). Targets: ≥ 10× parliament; peak < 256 MB at 10,000 roles, < 512 MB at 30,000."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--nightly"]:
        nightly(Path(sys.argv[2]))
    else:
        main()
