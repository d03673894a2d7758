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

To that list it adds the published paths cloudsplaining lacks (`PUBLISHED`, each with its
source), and gives every method that passes a role the service it passes it to (`passes_to`, the
value `iam:PassedToService` must allow for the path to work) and every method its `source`.

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

# Paths published since, or outside, cloudsplaining's list: an existing resource that already
# runs with a role is made to run the attacker's code (no iam:PassRole needed), or a role is
# passed on an update.
PUBLISHED: dict[str, dict[str, object]] = {
    "UpdateExistingAppRunnerService": {
        "actions": ["apprunner:updateservice"],
        "source": "pathfinding.cloud (App Runner: UpdateService on a service with an instance role)",
    },
    "PassRoleToUpdatedAppRunnerService": {
        "actions": ["apprunner:updateservice", "iam:passrole"],
        "source": "pathfinding.cloud (App Runner: UpdateService with a new instance role)",
    },
    "UpdateExistingCloudFormationStack": {
        "actions": ["cloudformation:updatestack"],
        "source": "pmapper 1.1.5 CloudFormationEdgeChecker (UpdateStack on a stack with a role)",
    },
    "PassRoleToUpdatedCloudFormationStack": {
        "actions": ["cloudformation:updatestack", "iam:passrole"],
        "source": "pmapper 1.1.5 CloudFormationEdgeChecker (UpdateStack passing a role)",
    },
    "StartCodeBuildWithBuildspecOverride": {
        "actions": ["codebuild:startbuild"],
        "source": "pmapper 1.1.5 CodeBuildEdgeChecker (StartBuild, buildspec override)",
    },
    "StartCodeBuildBatchWithBuildspecOverride": {
        "actions": ["codebuild:startbuildbatch"],
        "source": "pmapper 1.1.5 CodeBuildEdgeChecker (StartBuildBatch, buildspec override)",
    },
    "SendSSMCommandToInstanceWithRole": {
        "actions": ["ssm:sendcommand"],
        "source": "pmapper 1.1.5 SSMEdgeChecker (SendCommand to an instance with a profile)",
    },
    "PassRoleToNewAutoScalingLaunchConfiguration": {
        "actions": [
            "autoscaling:createautoscalinggroup",
            "autoscaling:createlaunchconfiguration",
            "iam:passrole",
        ],
        "passes_to": "ec2.amazonaws.com",
        "source": "pmapper 1.1.5 AutoScalingEdgeChecker (a launch configuration with a profile)",
    },
    "DeleteOwnRolePermissionsBoundary": {
        "actions": ["iam:deleterolepermissionsboundary"],
        "when": "bounded",
        "source": "AWS IAM User Guide, permissions boundaries (a bounded role that may remove its own)",
    },
    "ReplaceOwnRolePermissionsBoundary": {
        "actions": ["iam:putrolepermissionsboundary"],
        "when": "bounded",
        "source": "AWS IAM User Guide, permissions boundaries (a bounded role that may replace its own)",
    },
    "DeleteOwnUserPermissionsBoundary": {
        "actions": ["iam:deleteuserpermissionsboundary"],
        "when": "bounded",
        "source": "AWS IAM User Guide, permissions boundaries (a bounded user that may remove its own)",
    },
    "ReplaceOwnUserPermissionsBoundary": {
        "actions": ["iam:putuserpermissionsboundary"],
        "when": "bounded",
        "source": "AWS IAM User Guide, permissions boundaries (a bounded user that may replace its own)",
    },
    "StartSSMSessionOnInstanceWithRole": {
        "actions": ["ssm:startsession"],
        "source": "pmapper 1.1.5 SSMEdgeChecker (StartSession on an instance with a profile)",
    },
}
# The service principal a role is passed to, where it is not `<service>.amazonaws.com`.
SERVICE_PRINCIPAL = {
    "ecs": "ecs-tasks.amazonaws.com",
    "apprunner": "tasks.apprunner.amazonaws.com",
    "datapipeline": "datapipeline.amazonaws.com",
    "bedrock-agentcore": "bedrock-agentcore.amazonaws.com",
}


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
    listed = {
        name: {
            "actions": sorted(a.lower() for a in actions),
            "url": urls.get(name),
            "source": f"cloudsplaining {version}",
        }
        for name, actions in methods.items()
    }
    return extended(
        {
            "source": "cloudsplaining",
            "version": version,
            "license": "MIT",
            "methods": listed,
            "credentials": sorted(a.lower() for a in credentials),
        }
    )


def extended(data: dict[str, object]) -> dict[str, object]:
    """cloudsplaining's methods with the published ones added and each pass's service named."""
    methods = dict(data["methods"])  # type: ignore[call-overload]
    for name, method in PUBLISHED.items():
        methods[name] = {**method, "url": None}
    for method in methods.values():
        actions = method["actions"]
        if "iam:passrole" in actions and "passes_to" not in method:
            service = next(a.split(":")[0] for a in actions if not a.startswith("iam:"))
            method["passes_to"] = SERVICE_PRINCIPAL.get(service, f"{service}.amazonaws.com")
    return {**data, "methods": dict(sorted(methods.items()))}


def main() -> None:
    if sys.argv[1:] == ["--extend"]:  # the published rows again, without downloading
        data = json.loads(OUT.read_text())
        for method in data["methods"].values():
            method.setdefault("source", f"cloudsplaining {data['version']}")
        data = extended(data)
    else:
        data = build(sys.argv[1] if len(sys.argv) > 1 else VERSION)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{OUT.name}: {len(data['methods'])} methods from cloudsplaining {data['version']}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
