"""The deployed names and limits Shepherd's own policies and guards rely on."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
MERGED = json.loads((ROOT / ".chalice" / "resources.json").read_text())["Resources"]


def logical_id(function: str) -> str:
    """Chalice's CloudFormation name for a function: `on_alarm` → `OnAlarm`."""
    return "APIHandler" if function == "api_handler" else function.title().replace("_", "")


def test_every_function_is_deployed_under_the_name_chalice_deploy_gives_it() -> None:
    for function in CONFIG["lambda_functions"]:
        named = MERGED[logical_id(function)]["Properties"]["FunctionName"]
        assert named == f"shepherd-prod-{function}"
        settings = Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": named})
        assert settings.function == function  # what the init phase warms goes by it
        assert settings.own_prefix == "shepherd-prod-"  # what the self-throttle guard goes by


def test_the_self_invoke_statement_names_the_deployed_api_function() -> None:
    policy = json.loads((ROOT / "policies" / "api_handler.json").read_text())
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "LazyListenersInvokeSelf"]
    deployed = MERGED["APIHandler"]["Properties"]["FunctionName"]
    arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{deployed}"
    assert fnmatch.fnmatchcase(arn, statement["Resource"])
    assert not fnmatch.fnmatchcase(
        "arn:aws:lambda:eu-west-1:123456789012:function:payments-capture", statement["Resource"]
    )


def test_unsigned_traffic_cannot_take_the_fleet_s_concurrency() -> None:
    parameters = json.loads((ROOT / ".chalice" / "resources.json").read_text())["Parameters"]
    assert parameters["APIHandlerReserved"]["Default"] > 0  # unless the account's quota is small
    [throttle] = MERGED["RestAPI"]["Properties"]["MethodSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] > 0


def test_every_function_gets_the_powertools_layer_of_the_locked_version() -> None:
    lock = (ROOT / "requirements-dev.lock").read_text()
    [locked] = [
        line.split("==")[1]
        for line in lock.splitlines()
        if line.startswith("aws-lambda-powertools==")
    ]
    runtime = "python3.11"
    layer = f"{{{{resolve:ssm:/aws/service/powertools/python/x86_64/{runtime}/{locked}}}}}"
    for function in CONFIG["lambda_functions"]:
        assert MERGED[logical_id(function)]["Properties"]["Layers"] == [layer]
    shipped = (ROOT / "requirements.txt").read_text()
    assert "powertools" not in shipped  # from the layer, not in the deployment package


def test_the_deny_on_shepherd_s_own_functions_names_every_deployed_function() -> None:
    policy = json.loads((ROOT / "policies" / "api_handler.json").read_text())
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    for function in CONFIG["lambda_functions"]:
        deployed = MERGED[logical_id(function)]["Properties"]["FunctionName"]
        arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{deployed}"
        assert fnmatch.fnmatchcase(arn, deny["Resource"])
        assert fnmatch.fnmatchcase(f"{arn}:live", deny["Resource"])  # its aliases and versions
    assert not fnmatch.fnmatchcase(
        "arn:aws:lambda:eu-west-1:123456789012:function:payments-capture", deny["Resource"]
    )


def test_the_package_keeps_metadata_headers_and_drops_long_descriptions() -> None:
    """importlib.metadata reads the headers (versions, requirements); the README body is weight."""
    from devtools.precompile import headers_only

    metadata = (
        b"Metadata-Version: 2.4\nName: pydantic\nVersion: 2.14.3\n\n# Pydantic\n" + b"x" * 5000
    )
    assert headers_only(metadata) == b"Metadata-Version: 2.4\nName: pydantic\nVersion: 2.14.3\n"
    assert headers_only(b"Name: a\nVersion: 1") == b"Name: a\nVersion: 1"


def test_the_parts_of_the_slack_sdks_left_out_are_never_loaded() -> None:
    """What `make package` prunes (other Slack APIs, other frameworks' adapters): nothing
    Shepherd runs imports it, not Bolt's app nor the chalice handler."""
    import subprocess
    import sys

    from devtools.precompile import UNUSED, unused

    probe = (
        "import sys, app, chalicelib.slack.app, chalicelib.container, slack_sdk.web;"
        "print('\\n'.join(m.replace('.', '/') + '/' for m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if unused(m) or m.startswith(UNUSED)] == []
    assert unused("slack_bolt/adapter/flask/handler.py")
    assert not unused("slack_bolt/adapter/aws_lambda/chalice_handler.py")
    assert not unused("slack_bolt/adapter/__init__.py")
