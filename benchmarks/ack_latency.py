"""How long Slack waits for the ack of `/ops`: warm (container reused) and from a cold process.

A signed slash command goes through the real handler: Chalice's request, bolt's signature check
and dispatch, the ack listener, and the lazy listener's self-invoke (an async Lambda Invoke sent to
a moto server on loopback, as Lambda would receive it). The lazy work itself runs after the ack
and is not counted. Cold = a fresh interpreter: imports, settings, bolt app, first request.
Prints figures; asserts nothing. Slack's limit is 3 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNS_WARM = 50
RUNS_COLD = 7
SECRET = "bench-signing-secret"

ONE_REQUEST = r"""
import time
t0 = time.perf_counter()
import hashlib, hmac, json, sys
from urllib.parse import urlencode
from chalice.test import Client
from app import app
body = urlencode({"command": "/ops", "text": "help", "user_id": "U1", "team_id": "T1",
                  "channel_id": "C1", "response_url": sys.argv[1], "trigger_id": "t"})
ts = str(int(time.time()))
sig = "v0=" + hmac.new(sys.argv[2].encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
headers = {"Content-Type": "application/x-www-form-urlencoded",
           "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
with Client(app) as client:
    t1 = time.perf_counter()
    response = client.http.post("/slack/events", headers=headers, body=body)
    t2 = time.perf_counter()
    assert response.status_code == 200, response.status_code
    for _ in range(int(sys.argv[3])):
        client.http.post("/slack/events", headers=headers, body=body)
    t3 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "first": t2 - t1, "warm": (t3 - t2) / max(1, int(sys.argv[3]))}))
"""


def main() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    from devtools.fake_slack import FakeSlackServer
    from devtools.moto_config import lambda_without_docker

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    lambda_without_docker(endpoint)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SHEPHERD_LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    _create_self(endpoint)
    with FakeSlackServer() as slack:
        env["SLACK_API_URL"] = slack.url
        cold_total, cold_first, warm = [], [], []
        for i in range(RUNS_COLD):
            started = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    ONE_REQUEST,
                    slack.response_url(),
                    SECRET,
                    "0" if i else str(RUNS_WARM),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            wall = time.perf_counter() - started
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            cold_total.append(wall)
            cold_first.append(figures["setup"] + figures["first"])
            if not i:
                warm.append(figures["warm"])
    moto.stop()
    print(f"{'ack of /ops help':<44}{'median ms':>10}{'worst ms':>10}")
    print(f"{'warm (same process, after the first)':<44}{warm[0] * 1000:>10.1f}{'':>10}")
    print(
        f"{'cold: imports + wiring + first request':<44}"
        f"{statistics.median(cold_first) * 1000:>10.1f}{max(cold_first) * 1000:>10.1f}"
    )
    print(
        f"{'cold: whole fresh interpreter, wall':<44}"
        f"{statistics.median(cold_total) * 1000:>10.1f}{max(cold_total) * 1000:>10.1f}"
    )
    print("limit: 3000 ms (Slack's ack window); the Lambda runtime's own init is not included")


def _create_self(endpoint: str) -> None:
    """The function bolt's lazy listener invokes (chalice.test names it api_handler)."""
    import io
    import zipfile

    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint)
    role = iam.create_role(
        RoleName="shepherd-bench",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", endpoint_url=endpoint).create_function(
        FunctionName="api_handler",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )


if __name__ == "__main__":
    main()
