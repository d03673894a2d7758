"""Redrive throughput: 1,000 destination records replayed with a fixed delay on every AWS call.

Each AWS call (SQS, DynamoDB, Lambda Invoke) waits BENCH_DELAY_MS (default 30 ms, a normal
in-region latency) before it is answered. The replay marks are on moto's DynamoDB (in-process);
the queue and Lambda's Invoke are answered by a stand-in with SQS's visibility semantics, because
moto's ReceiveMessage spends ~250 ms of CPU per call on a 1,000-message queue, which would time
the emulator rather than Shepherd. Prints, for each rate cap asked, the rate achieved, the wall
time and the AWS calls per message by operation. Asserts nothing.
Run: `python benchmarks/redrive_rate.py` (also in `make bench`).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

from benchmarks.lambda_cpu import CpuShare, memory_of, share_of
from chalicelib.aws.dynamodb import create_table
from chalicelib.aws.session import Aws
from chalicelib.ops.replay import replay
from chalicelib.store.replay_marks import ReplayMarks
from devtools.fleet.events import destination_record

DELAY_S = float(os.environ.get("BENCH_DELAY_MS", "30")) / 1000
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
RATES = (100, 500)
FUNCTION = "invoice-mailer"


class Latency:
    """A delay before each call is answered, and a count of calls by operation."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.calls[model.name] += 1
        time.sleep(self.seconds)


class StandInQueue:
    """One SQS queue in memory: receive hides for the visibility timeout, batch delete by receipt."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = {f"m-{i}": body for i, body in enumerate(bodies)}
        self.hidden_until: dict[str, float] = {}
        self.lock = threading.Lock()

    def receive(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        params, now, out = sent(params), time.monotonic(), []
        with self.lock:
            for mid, body in self.messages.items():
                if self.hidden_until.get(mid, 0) <= now:
                    self.hidden_until[mid] = now + params.get("VisibilityTimeout", 30)
                    out.append({"MessageId": mid, "ReceiptHandle": mid, "Body": body})
                    if len(out) == params.get("MaxNumberOfMessages", 1):
                        break
        return ok({"Messages": out})

    def delete_batch(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        params = sent(params)
        with self.lock:
            for entry in params["Entries"]:
                self.messages.pop(entry["ReceiptHandle"], None)
        return ok({"Successful": [{"Id": e["Id"]} for e in params["Entries"]], "Failed": []})

    def attributes(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        with self.lock:
            hidden = sum(t > time.monotonic() for t in self.hidden_until.values())
            left = len(self.messages)
        return ok(
            {
                "Attributes": {
                    "ApproximateNumberOfMessages": str(left - hidden),
                    "ApproximateNumberOfMessagesNotVisible": str(hidden),
                }
            }
        )


def sent(request: dict[str, Any]) -> dict[str, Any]:
    """The API parameters of a serialized SQS request (the JSON protocol)."""
    return dict(json.loads(request["body"]))


def ok(response: dict[str, Any], status: int = 200) -> tuple[Any, dict[str, Any]]:
    return SimpleNamespace(status_code=status), {**response, "ResponseMetadata": {}}


def accepted(**_: Any) -> tuple[Any, dict[str, Any]]:
    return ok({"StatusCode": 202}, 202)


def run(rate: int) -> None:
    session = boto3.Session(region_name="us-east-1")
    at = datetime.now(UTC)
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:$LATEST"
    queue = StandInQueue(
        [
            json.dumps(
                destination_record(arn, {"invoiceId": f"INV-{n}"}, at, error="Rate exceeded.")
            )
            for n in range(MESSAGES)
        ]
    )
    latency = Latency(DELAY_S)
    aws = Aws(session)
    sqs, lam = aws.client("sqs"), aws.client("lambda", once=True)
    aws.client("dynamodb").meta.events.register("before-call", latency)
    for client, operation, answer in (
        (sqs, "sqs.ReceiveMessage", queue.receive),
        (sqs, "sqs.DeleteMessageBatch", queue.delete_batch),
        (sqs, "sqs.GetQueueAttributes", queue.attributes),
        (lam, "lambda.Invoke", accepted),
    ):
        client.meta.events.register_first(f"before-call.{operation}", latency)
        client.meta.events.register(f"before-call.{operation}", answer)
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/invoice-mailer-failed"
    started = time.perf_counter()
    out = replay(
        sqs=aws.sqs(),
        lam=aws.invoker(),
        marks=ReplayMarks(aws.table("shepherd-state"), f"arn:aws:sqs:us-east-1:123:q{rate}"),
        queue_url=url,
        owner=None,
        limit=MESSAGES,
        allowed={f"{FUNCTION}:$LATEST"},
        home_account="123456789012",
        rate=rate,
    )
    wall = time.perf_counter() - started
    total = sum(latency.calls.values())
    by_op = ", ".join(
        f"{op} {n / MESSAGES:.2f}" for op, n in sorted(latency.calls.items(), key=lambda kv: -kv[1])
    )
    print(
        f"--rate {rate:<5} replayed {out.replayed:>5} in {wall:6.1f} s = {out.replayed / wall:6.1f}/s"
        f" ({out.replayed / wall / rate:4.0%} of the cap) · {total / MESSAGES:.2f} AWS calls/message"
        f" · {len(queue.messages)} left"
    )
    print(f"             per message: {by_op}")
    if out.error or out.stopped_early:
        print(f"             stopped: {out.error or 'at the deadline'}")


def figures() -> None:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        create_table(boto3.client("dynamodb", region_name="us-east-1"), "shepherd-state")
        for rate in RATES:
            run(rate)


def main() -> None:
    if "--figures" in sys.argv:
        figures()
        return
    print(f"{MESSAGES} destination records, {DELAY_S * 1000:.0f} ms added to every AWS call")
    print("full core:")
    figures()
    memory = memory_of("api_handler")
    with CpuShare(share_of(memory)) as cpu:
        if not cpu.available:
            print(f"note: {cpu.note}; no figures on the api_handler's CPU share")
            return
        print(f"api_handler's share ({memory} MB = {share_of(memory):.0%} of a core):")
        sys.stdout.flush()
        subprocess.run(
            [sys.executable, __file__, "--figures"], check=True, preexec_fn=cpu.preexec()
        )


if __name__ == "__main__":
    main()
