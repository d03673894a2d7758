"""Cold starts as Lambda runs them, on the CPU share of each function's configured memory.

Each run is a fresh interpreter that does what Lambda does: import `app` (the init phase, which
also builds what the function always needs), then call the handler with the event AWS delivers.
It runs the built package (`make package`'s deployment.zip, unpacked like /var/task and never
written to), with boto3 from the environment as the Lambda runtime provides it.

- `/ops help` into `api_handler`: an API Gateway event carrying a signed slash command, through
  bolt's signature check, the ack and the lazy self-invoke (an async Invoke). Slack needs the ack
  within 3 s of sending, and that window also holds API Gateway and Lambda's own start.
- a first alarm into `on_alarm`: a seeded scenario's SNS event, diagnosed and posted to a local
  Slack stand-in, timed to the post (as Slack records it).

Every AWS call goes to a moto server through a front that adds BENCH_DELAY_MS (default 100) to
each answer, as AWS's own latency; AWS and Slack run in this process, outside the quota.

CPU: each function's `lambda_memory_size` (.chalice/config.json) / 1,769 MB of one core, by a
cgroup quota (benchmarks/lambda_cpu.py). Two models: the whole process held to that share
(what Lambda documents), and init on a full core with only the invoke held (what has been
observed of Lambda's init phase). Prints figures; asserts nothing. Run: `make bench`.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.lambda_cpu import CpuShare, memory_of, share_of

PACKAGE = ROOT / "build" / "package" / "deployment.zip"
UNPACKED = ROOT / "build" / "bench" / "task"
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "5"))
DELAY_MS = float(os.environ.get("BENCH_DELAY_MS", "100"))
WARM_RUNS = 50
SECRET = "bench-signing-secret"

# argv: cgroup procs file or "-" (hold the invoke only), then the path's own arguments.
LAMBDA = r"""
import time
t_start = time.time()
import json, os, sys
import app
t_init = time.time()
if sys.argv[1] != "-":
    with open(sys.argv[1], "w") as procs:
        procs.write(str(os.getpid()))

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"].rsplit("-", 1)[-1]
    aws_request_id = "bench"
    memory_limit_in_mb = 512
    def get_remaining_time_in_millis(self):
        return 60_000

handler, event, warm_runs = getattr(app, sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
if "ARN_SUFFIX" in sys.argv[5:]:  # each alarm run is a new alarm, not a duplicate delivery
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["AlarmArn"] += f"-{time.time_ns()}"
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
t_invoke = time.time()
result = handler(event, Context())
t_done = time.time()
warm = []
for _ in range(warm_runs):
    t = time.perf_counter()
    handler(event, Context())
    warm.append(time.perf_counter() - t)
print(json.dumps({"start": t_start, "init": t_init, "invoke": t_invoke, "done": t_done,
                  "warm": sorted(warm)[len(warm) // 2] if warm else None,
                  "status": result.get("statusCode") if isinstance(result, dict) else None,
                  "posted": result.get("posted") if isinstance(result, dict) else None}))
"""


def main() -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from devtools.aws_gaps import AwsGapsServer
    from devtools.fake_slack import FakeSlackServer
    from devtools.moto_config import lambda_without_docker

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    lambda_without_docker(f"http://{host}:{port}")
    with (
        AwsGapsServer(f"http://{host}:{port}") as front,
        FakeSlackServer() as slack,
    ):
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": front.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            # As deployed: both secrets in SSM, read through Powertools on the first request.
            "SLACK_BOT_TOKEN_PARAM": "/shepherd/slack-bot-token",
            "SLACK_SIGNING_SECRET_PARAM": "/shepherd/slack-signing-secret",
            "SLACK_API_URL": slack.url,
            "SHEPHERD_LOG_LEVEL": "ERROR",
            # Every run is the same account's first alarm: never the storm summary that many
            # alarms in a few minutes would open.
            "SHEPHERD_STORM_THRESHOLD": "1000000",
        }
        os.environ.update(env)
        ssm = boto3.client("ssm", endpoint_url=f"http://{host}:{port}")
        for name, value in (
            ("/shepherd/slack-bot-token", "xoxb-bench"),
            ("/shepherd/slack-signing-secret", SECRET),
        ):
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        alarm_event = _seed()
        task, bare_task = _unpack()
        if task is None:
            print(f"note: no {PACKAGE.relative_to(ROOT)} (`make package`): running the source tree")
        api_mb, alarm_mb = memory_of("api_handler"), memory_of("on_alarm")
        print(
            f"cold starts: {RUNS} fresh interpreters each; api_handler {api_mb} MB = "
            f"{share_of(api_mb):.0%} of a core, on_alarm {alarm_mb} MB = {share_of(alarm_mb):.0%}"
        )
        print(f"{'':<46}{'median ms':>10}{'worst ms':>10}")
        ack_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": "shepherd-bench-api_handler"}
        print(
            "/ops help, AWS on loopback (the self-invoke adds its in-region latency in the cloud)"
        )
        for model, share, where in _models(api_mb, task, bare_task):
            runs = _runs(ack_env, share, "app", _slash_event(slack.response_url()), where)
            print(f" {model}")
            _row("init (import app, build what it needs)", [r["init"] - r["start"] for r in runs])
            _row("first invoke to the ack", [r["done"] - r["invoke"] for r in runs])
            _row("fresh interpreter to the ack", [r["done"] - r["spawned"] for r in runs])
            if runs[0].get("warm") is not None:
                print(f"{'   warm ack (same container)':<46}{runs[0]['warm'] * 1000:>10.1f}")
        alarm_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": "shepherd-bench-on_alarm"}
        print(f"first alarm (throttling), {DELAY_MS:.0f} ms on every AWS call")
        for model, share, where in _models(alarm_mb, task, bare_task):
            delayed = _alarm_runs(front, slack, alarm_env, share, alarm_event, DELAY_MS, where)
            bare = _alarm_runs(front, slack, alarm_env, share, alarm_event, 0.0, where)
            print(f" {model}")
            _row(
                "init (import app, build what it needs)", [r["init"] - r["start"] for r in delayed]
            )
            after = [r["post"] - r["invoke"] for r in delayed]
            _row("first invoke to the post", after)
            _row(
                "  the same with no delay (emulator time)", [r["post"] - r["invoke"] for r in bare]
            )
            cost = statistics.median(after) - statistics.median(
                r["post"] - r["invoke"] for r in bare
            )
            print(f"{'   delay cost after init':<46}{cost * 1000 / DELAY_MS:>9.1f}×")
            _row("fresh interpreter to the post", [r["post"] - r["spawned"] for r in delayed])
    moto.stop()
    print("targets: ack ≤ 1500 ms median, ≤ 2000 ms worst from a fresh interpreter; warm ≤ 20 ms;")
    print("first post ≤ 3× the delay after init (init cost stated above)")


Model = tuple[str, tuple[float, bool] | None, Path | None]


def _models(memory_mb: int, task: Path | None, bare_task: Path | None) -> list[Model]:
    """Full core; the configured memory's share (whole process, and after init); 512 MB; and the
    package as `chalice package` leaves it, without the bytecode `make package` adds."""
    share = share_of(memory_mb)
    models: list[Model] = [
        ("full core", None, task),
        (f"{memory_mb} MB ({share:.0%} of a core), whole process", (share, False), task),
        (f"{memory_mb} MB ({share:.0%} of a core), invoke only", (share, True), task),
    ]
    for mb in (int(m) for m in os.environ.get("BENCH_ALSO_MB", "512").split(",") if m):
        if mb != memory_mb:
            models.append(
                (
                    f"{mb} MB ({share_of(mb):.0%} of a core), whole process",
                    (share_of(mb), False),
                    task,
                )
            )
    if bare_task is not None:
        models.append(
            (f"{memory_mb} MB, whole process, no bytecode shipped", (share, False), bare_task)
        )
    return models


def _unpack() -> tuple[Path | None, Path | None]:
    """The built package as Lambda's /var/task, and a copy without its bytecode."""
    import shutil
    import zipfile

    if not PACKAGE.exists():
        return None, None
    shutil.rmtree(UNPACKED.parent / "task", ignore_errors=True)
    shutil.rmtree(UNPACKED.parent / "task-no-bytecode", ignore_errors=True)
    with zipfile.ZipFile(PACKAGE) as z:
        z.extractall(UNPACKED)
    bare = UNPACKED.parent / "task-no-bytecode"
    shutil.copytree(UNPACKED, bare, ignore=shutil.ignore_patterns("__pycache__"))
    return UNPACKED, bare


def _alarm_runs(
    front: Any,
    slack: Any,
    env: dict[str, str],
    share: tuple[float, bool] | None,
    event: dict[str, Any],
    delay_ms: float,
    where: Path | None,
) -> list[dict[str, Any]]:
    """Runs of the first alarm; each with the time Slack recorded its post."""
    front.gaps.delay_s = delay_ms / 1000
    slack.fake.calls.clear()
    runs = _runs(env, share, "on_alarm", event, where, alarm=True)
    front.gaps.delay_s = 0.0
    posts = sorted(c.at for c in slack.fake.calls_to("chat.postMessage"))
    return [{**r, "post": p} for r, p in zip(runs, posts, strict=True)]


def _runs(
    env: dict[str, str],
    share: tuple[float, bool] | None,
    handler: str,
    event: dict[str, Any],
    where: Path | None,
    alarm: bool = False,
) -> list[dict[str, Any]]:
    """Fresh interpreters in `where` (an unpacked package: read-only to Python, as /var/task is)."""
    out = []
    if where is not None:
        env = {**env, "PYTHONPATH": str(where), "PYTHONDONTWRITEBYTECODE": "1"}
    with CpuShare(share[0] if share else 1.0) as cpu:
        if share is not None and not cpu.available:
            print(f"note: {cpu.note}; these are full-core figures")
        for i in range(RUNS):
            held_after_init = share is not None and share[1] and cpu.path is not None
            procs = str(cpu.path / "cgroup.procs") if held_after_init and cpu.path else "-"
            args = [procs, handler, json.dumps(event), str(WARM_RUNS if not (i or alarm) else 0)]
            spawned = time.time()
            done = subprocess.run(
                [sys.executable, "-c", LAMBDA, *args, *(["ARN_SUFFIX"] if alarm else [])],
                cwd=where or ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                preexec_fn=cpu.preexec() if share is not None and not share[1] else None,
            )
            if done.returncode:
                raise SystemExit(f"cold run failed:\n{done.stderr[-3000:]}")
            run = json.loads(done.stdout.strip().splitlines()[-1])
            if (alarm and run["posted"] != 1) or (not alarm and run["status"] != 200):
                raise SystemExit(f"cold run did not succeed: {run}")
            out.append({**run, "spawned": spawned})
    return out


def _row(label: str, seconds: list[float]) -> None:
    print(f"  {label:<42}{statistics.median(seconds) * 1000:>10.0f}{max(seconds) * 1000:>10.0f}")


def _slash_event(response_url: str) -> dict[str, Any]:
    """An API Gateway REST event carrying `/ops help`, signed as Slack signs it."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    body = urlencode(
        {
            "command": "/ops",
            "text": "help",
            "user_id": "U1",
            "team_id": "T1",
            "channel_id": "C1",
            "response_url": response_url,
            "trigger_id": "t",
        }
    )
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "resource": "/slack/events",
        "path": "/slack/events",
        "httpMethod": "POST",
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": ts,
            "x-slack-signature": f"v0={digest}",
        },
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "httpMethod": "POST",
            "resourcePath": "/slack/events",
            "path": "/api/slack/events",
            "stage": "api",
            "requestId": "bench",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _seed() -> dict[str, Any]:
    import boto3

    from chalicelib.aws.bootstrap import create_own_resources
    from chalicelib.aws.session import Aws
    from devtools import fleet

    session = boto3.Session(region_name="us-east-1")
    create_own_resources(
        Aws(session),
        table="shepherd-state",
        dead_letter_queue="shepherd-dlq",
        failure_queue="shepherd-failures",
        alarm_topic="shepherd-alarms",
    )
    _create_self(session)
    [scenario] = fleet.seed(["throttling"], session)
    return scenario.event


def _create_self(session: Any) -> None:
    """The function the lazy listener invokes; invoked once so moto's first-call cost is paid here."""
    import io
    import zipfile

    role = session.client("iam").create_role(
        RoleName="shepherd-bench",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    lam = session.client("lambda")
    lam.create_function(
        FunctionName="api_handler",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    lam.invoke(FunctionName="api_handler", InvocationType="Event", Payload=b"{}")


if __name__ == "__main__":
    main()
