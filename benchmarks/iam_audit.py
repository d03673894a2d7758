"""Shepherd's IAM audit against parliament's base run on the same synthetic account.

The account: 2,000 roles and 500 customer-managed policies (three versions each, only the default
counts), in the JSON shape `aws iam get-account-authorization-details` prints. Roles hold two
inline policies and three attached ones; documents mix lists and strings, lowercase and `?`
wildcards, partial wildcards, NotAction, Deny statements, conditions and wildcard trust.

parliament is installed into its own virtualenv under build/ for this benchmark only (it is not a
dependency of Shepherd). Each tool runs in a fresh process; wall time and peak RSS are printed.
Prints figures; asserts nothing. Target: ≥ 10× parliament's speed, < 512 MB.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
PARLIAMENT = "parliament==1.6.4"
ROLES, POLICIES = 2_000, 500
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


def measure(argv: list[str]) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True
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


def main() -> None:
    BUILD.mkdir(parents=True, exist_ok=True)
    path = BUILD / "account.json"
    started = time.perf_counter()
    path.write_text(json.dumps(synthetic_account()))
    print(
        f"synthetic account: {ROLES} roles, {POLICIES} managed policies, "
        f"{path.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - started:.1f} s to build)"
    )
    shepherd = [
        str(Path(sys.executable).parent / "shepherd"),
        "audit",
        "--input",
        str(path),
        "--json",
    ]
    runs = [measure(shepherd) for _ in range(3)]
    ours = min(runs)
    theirs = measure([str(parliament()), "--auth-details-file", str(path), "--json"])
    print(f"{'tool':<34}{'wall s':>9}{'peak MB':>10}{'exit':>6}")
    print(f"{'shepherd audit (best of 3)':<34}{ours[0]:>9.2f}{ours[1]:>10.0f}{ours[2]:>6}")
    print(
        f"{'parliament 1.6.4 (base checks)':<34}{theirs[0]:>9.2f}{theirs[1]:>10.0f}{theirs[2]:>6}"
    )
    print(
        f"speed-up: {theirs[0] / ours[0]:.1f}× (target ≥ 10×); shepherd peak {ours[1]:.0f} MB (target < 512)"
    )
    findings = json.loads(
        subprocess.run(shepherd, capture_output=True, text=True, check=True).stdout
    )["summary"]
    print(f"shepherd findings: {findings['findings']} {findings['by_kind']}")


if __name__ == "__main__":
    main()
