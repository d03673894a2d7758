"""Diagnosis wall time with a fixed delay on every AWS call, as a multiple of that delay.

A serial diagnosis pays the delay once per call; a parallel one about once per wave of calls.
The emulator (moto, in-process) spends CPU of its own on each call under the same GIL, so the
same diagnosis is also timed with no delay, and the difference is what the delay cost.
Warm: a reused Lambda container keeps its clients; cold: the first diagnosis of a container,
whose clients its init phase built. Prints figures; asserts nothing.
Run: `make bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

from chalicelib.aws.session import Aws
from chalicelib.container import WARM_CLIENTS
from chalicelib.diagnosis.gather import gather
from chalicelib.diagnosis.rules import diagnose
from chalicelib.events.ingest import parse_event
from chalicelib.events.signals import Signal
from devtools import fleet

DELAY_S = float(os.environ.get("BENCH_DELAY_MS", "100")) / 1000
RUNS = 5
TRACED = ("deploy_fills_the_dlq", "redelivery_fills_the_dlq")


class Delay:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self.lock:
            self.calls += 1
        if self.seconds:
            time.sleep(self.seconds)


def timed(signal: Signal, delay_s: float) -> tuple[float, float, int]:
    """(cold seconds, warm median seconds, AWS calls per diagnosis)."""
    session = boto3.Session(region_name="us-east-1")
    delay = Delay(delay_s)
    session.events.register("before-send", delay)
    aws = Aws(session)
    for service in WARM_CLIENTS["on_alarm"]:  # what Lambda's init phase builds (app.py)
        aws.client(service)
    started = time.perf_counter()
    diagnose(gather(signal, aws))
    cold = time.perf_counter() - started
    calls = delay.calls
    warm = []
    for _ in range(RUNS):
        started = time.perf_counter()
        diagnose(gather(signal, aws))
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm), calls


def main() -> None:
    print(
        f"AWS call delay {DELAY_S * 1000:.0f} ms; warm = median of {RUNS} diagnoses with reused clients"
    )
    print(
        f"{'scenario':<24}{'calls':>6}{'serial ×':>9}{'warm ms':>9}{'emulator ms':>12}{'delay cost ×':>13}{'cold ×':>8}"
    )
    with mock_aws():
        scenarios = fleet.seed(list(fleet.SCENARIOS))
        traced = fleet.seed_compound(list(TRACED))  # DLQ alarms traced to what fills them
        costs, colds, traced_costs = [], [], []
        for scenario in [*scenarios, *traced]:
            signal = parse_event(scenario.event).signals[0]
            cold, warm, calls = timed(signal, DELAY_S)
            _, bare, _ = timed(signal, 0.0)
            cost = (warm - bare) / DELAY_S
            (traced_costs if scenario in traced else costs).append(cost)
            colds.append(cold / DELAY_S)
            print(
                f"{scenario.kind:<24}{calls:>6}{calls:>9}{warm * 1000:>9.0f}{bare * 1000:>12.0f}"
                f"{cost:>13.2f}{cold / DELAY_S:>8.2f}"
            )
    print(
        f"delay cost (wall with delay − wall without, in delays): worst {max(costs):.2f}×, "
        f"median {statistics.median(costs):.2f}× (target ≤ 3×; serial would be the call count)"
    )
    print(
        f"DLQ alarms traced to their source ({', '.join(TRACED)}): worst "
        f"{max(traced_costs):.2f}× (target ≤ 4×: the queue, its sources' consumers, then theirs)"
    )
    print(
        f"first diagnosis in a fresh container, after init: worst {max(colds):.2f}×, "
        f"median {statistics.median(colds):.2f}×"
    )


if __name__ == "__main__":
    main()
