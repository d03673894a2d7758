"""Build Shepherd's privilege-escalation combinations from cloudsplaining's maintained list.

cloudsplaining (MIT) keeps `PRIVILEGE_ESCALATION_METHODS` (each method: the actions that together
let a principal raise its own privileges) and maps each to its pathfinding.cloud path; and
`ACTIONS_THAT_RETURN_CREDENTIALS` (a read by name that hands out a way in is not lowered). This reads
both from a cloudsplaining wheel, without installing it or its dependencies, and writes
`chalicelib/audit/escalations.json`:

    {"source": "cloudsplaining", "version": "0.9.1", "license": "MIT",
     "methods": {"PassExistingRoleToNewLambdaThenInvoke":
                 {"actions": ["iam:passrole", ...], "url": "https://pathfinding.cloud/..."}},
     "credentials": ["ecr:getauthorizationtoken", ...]}

Run `python -m devtools.build_escalations [VERSION]` (it downloads that wheel with pip).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "chalicelib" / "audit" / "escalations.json"
VERSION = "0.9.1"
CONSTANTS = "cloudsplaining/shared/constants.py"


def _literal(source: str, name: str) -> object:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def build(version: str = VERSION) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "-d",
                folder,
                f"cloudsplaining=={version}",
            ],
            check=True,
        )
        [wheel] = Path(folder).glob("cloudsplaining-*.whl")
        source = zipfile.ZipFile(wheel).read(CONSTANTS).decode()
    methods = _literal(source, "PRIVILEGE_ESCALATION_METHODS")
    urls = _literal(source, "PRIVILEGE_ESCALATION_PATHFINDING_PATHS")
    credentials = _literal(source, "ACTIONS_THAT_RETURN_CREDENTIALS")
    assert isinstance(methods, dict) and isinstance(urls, dict) and isinstance(credentials, list)
    return {
        "source": "cloudsplaining",
        "version": version,
        "license": "MIT",
        "methods": {
            name: {"actions": sorted(a.lower() for a in actions), "url": urls.get(name)}
            for name, actions in sorted(methods.items())
        },
        "credentials": sorted(a.lower() for a in credentials),
    }


def main() -> None:
    data = build(sys.argv[1] if len(sys.argv) > 1 else VERSION)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{OUT.name}: {len(data['methods'])} methods from cloudsplaining {data['version']}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
