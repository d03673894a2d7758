"""A storm through the real alarm handler: Slack calls, AWS calls and time to the first post.

N alarms on N/4 functions within a minute (devtools/fleet `storm`: one throttled DynamoDB table
behind them all), delivered by 10 concurrent workers (the alarm functions' reserved
concurrency), each retried twice on failure as Lambda does. AWS is moto in-process; Slack is the
local stand-in held to one post a second per channel, as Slack holds a bot. The alarm state is on
the store's twin (moto's in-process DynamoDB does not make conditional writes atomic across
threads). Prints figures; asserts nothing. Run: `make bench`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    SLACK_BOT_TOKEN="xoxb-bench",
    SLACK_SIGNING_SECRET="bench",
    SHEPHERD_LOG_LEVEL="ERROR",
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

from chalicelib.aws.dynamodb import create_table
from chalicelib.config import Settings
from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlackServer
from devtools.lambda_async import deliver_all, on_the_twin

SIZES = [int(n) for n in os.environ.get("BENCH_STORM_SIZES", "50,120,300").split(",")]
WORKERS = 10


def run(alarms: int) -> dict[str, Any]:
    with mock_aws(config={"lambda": {"use_docker": False}}), FakeSlackServer() as slack:
        session = boto3.Session(region_name="us-east-1")
        create_table(session.client("dynamodb"), "shepherd-state")
        events = fleet.storm(session, functions=max(1, alarms // 4), alarms=alarms)
        slack.fake.post_interval_s = 1.0
        calls: Counter[str] = Counter()
        lock = threading.Lock()

        def count(model: Any, **_: Any) -> None:
            with lock:
                calls[model.service_model.service_name] += 1

        session.events.register("before-call", count)
        container = Container(
            Settings.from_env({**os.environ, "SLACK_API_URL": slack.url}), session
        )
        deps = on_the_twin(container.alarm_deps)
        started = time.time()
        delivered = deliver_all(events, deps, WORKERS)
        wall = time.time() - started
        made = slack.fake.calls
        tried = [c for c in made if c.method == "chat.postMessage"]
        channel = len(slack.fake.channel_messages())
        thread = sum(1 for m in slack.fake.messages.values() if m.thread_ts)
        return {
            "alarms": alarms,
            "channel": channel,
            "thread": thread,
            "limited": len(tried) - channel - thread,
            "retried": len(delivered.retried),
            "updates": sum(c.method == "chat.update" for c in made),
            "slack": len(made),
            "aws": sum(calls.values()),
            "first": (min(c.at for c in tried) - started) if tried else float("nan"),
            "wall": wall,
            "failed": len(delivered.dead),
        }


def main() -> None:
    logging.disable(logging.ERROR)  # the retried attempts' tracebacks; counted instead
    print(
        f"alarm storms: {WORKERS} concurrent deliveries, Slack at 1 post/s per channel, "
        "AWS on moto in-process"
    )
    print(
        f"{'alarms':>7}{'channel':>8}{'thread':>7}{'updates':>8}{'429s':>6}{'Slack calls':>12}"
        f"{'AWS calls':>10}{'/alarm':>7}{'1st post s':>11}{'all s':>6}{'retried':>8}{'failed':>7}"
    )
    for n in SIZES:
        r = run(n)
        print(
            f"{r['alarms']:>7}{r['channel']:>8}{r['thread']:>7}{r['updates']:>8}{r['limited']:>6}"
            f"{r['slack']:>12}{r['aws']:>10}{r['aws'] / n:>7.1f}{r['first']:>11.1f}"
            f"{r['wall']:>6.0f}{r['retried']:>8}{r['failed']:>7}"
        )
    print("targets: ≤ 5 channel-level messages for 120 alarms on 30 functions; none failed")


if __name__ == "__main__":
    main()
