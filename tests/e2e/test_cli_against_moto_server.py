"""`shepherd` as a user runs it: a real process, boto3 pointed at a moto server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from devtools import fleet
from tests.conftest import EVENTS

pytestmark = pytest.mark.e2e

# The one click that goes with each kind, where a kind has one.
ACTIONS = {
    "throttling": "/ops concurrency payments-capture reserve 15",
    # The deploy scenario is in eu-west-1, Shepherd here in us-east-1: its fix says where it acts.
    "recent_deploy": "/ops alias checkout-api live rollback --region eu-west-1",
    "dlq_backlog": "/ops redrive orders-dlq",
    "iterator_age": "/ops concurrency stream-indexer reserve 20",
    "timeout": "/ops timeout orders-processor 30",
    "out_of_memory": "/ops memory image-resizer 768",
    "over_provisioned_memory": "/ops memory thumbnailer 384",
    "cold_starts": "/ops concurrency search-api",
    "memory_pressure": "/ops memory pdf-render 1536",
    "event_source_failure": "/ops status ledger-consumer",
}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def env(moto_server: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture(scope="module")
def scenarios(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    os.environ["AWS_ENDPOINT_URL"] = moto_server
    try:
        seeded = fleet.seed(list(fleet.SCENARIOS), session)
        seeded += fleet.seed_compound(list(fleet.COMPOUND), session)
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    folder = tmp_path_factory.mktemp("events")
    files = {}
    for scenario in seeded:
        files[scenario.kind] = folder / f"{scenario.kind}.json"
        files[scenario.kind].write_text(json.dumps(scenario.event))
    return files


def shepherd(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", list(fleet.SCENARIOS))
def test_seeded_failure_is_diagnosed_as_its_kind_first(
    kind: str, env: dict[str, str], scenarios: dict[str, Path]
) -> None:
    result = shepherd(env, "diagnose", str(scenarios[kind]), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    top = out["causes"][0]
    assert top["kind"] == kind, [c["kind"] for c in out["causes"]]
    expected = ACTIONS.get(kind)
    assert (top["action"] or {}).get("command") == expected
    assert out["blocks"][0]["type"] == "header"


@pytest.mark.parametrize("name", list(fleet.COMPOUND))
def test_with_two_causes_present_the_root_ranks_first(
    name: str, env: dict[str, str], scenarios: dict[str, Path]
) -> None:
    cause, symptom = fleet.COMPOUND[name][1]
    result = shepherd(env, "diagnose", str(scenarios[f"{cause}+{symptom}"]), "--json")
    assert result.returncode == 0, result.stderr
    kinds = [c["kind"] for c in json.loads(result.stdout)["causes"]]
    assert kinds[:2] == [cause, symptom], kinds


def test_diagnose_prints_readable_text_without_json(
    env: dict[str, str], scenarios: dict[str, Path]
) -> None:
    result = shepherd(env, "diagnose", str(scenarios["timeout"]))
    assert result.returncode == 0, result.stderr
    assert "1. timeout" in result.stdout


def test_truncated_event_file_exits_2_with_a_clear_message(
    env: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"AlarmName": "x", ')
    result = shepherd(env, "diagnose", str(broken))
    assert result.returncode == 2
    assert "is not JSON" in result.stderr


def test_event_of_unknown_shape_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": "world"}')
    result = shepherd(env, "diagnose", str(odd))
    assert result.returncode == 2
    assert "no alarm or destination record" in result.stderr


def test_missing_file_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    assert shepherd(env, "diagnose", str(tmp_path / "nope.json")).returncode == 2


def test_local_setup_is_safe_to_run_twice(env: dict[str, str]) -> None:
    first = shepherd(env, "local-setup")
    second = shepherd(env, "local-setup")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "created" in first.stdout
    assert "exists" in second.stdout


def test_audit_of_the_account_reads_iam_through_boto3(env: dict[str, str]) -> None:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    os.environ["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
    try:
        fleet.iam_drift(session)
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    result = shepherd(env, "audit", "--json")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert {(f["principal"], f["kind"]) for f in findings} >= {
        ("role/legacy-deployer", "trust_wildcard"),
        ("role/legacy-deployer", "pass_role_wildcard"),
        ("role/reporting-etl", "resource_wildcard"),
    }
    readable = shepherd(env, "audit", "reporting-etl")
    assert "role/reporting-etl" in readable.stdout
    assert "legacy-deployer" not in readable.stdout


def test_a_success_destination_record_is_bad_input_that_says_what_it_is(
    env: dict[str, str],
) -> None:
    done = shepherd(
        env, "diagnose", str(EVENTS / "envelopes" / "lambda-destination-on-success.json")
    )
    assert done.returncode == 2
    assert "on-success destination record" in done.stderr and "not a failure" in done.stderr


def test_aws_unreachable_is_a_failure_not_a_diagnosis(env: dict[str, str]) -> None:
    """With nothing read there is nothing to diagnose: exit 1 and why, not `unknown` and 0."""
    unreachable = {**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # the discard port: closed
    done = shepherd(unreachable, "diagnose", str(EVENTS / "sns-lambda-errors-alarm.json"))
    assert done.returncode == 1, done.stdout
    assert "nothing could be read" in done.stderr and "EndpointConnectionError" in done.stderr
