"""Deliveries as Lambda makes them to an async-invoked function: concurrent, each retried twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alarms.delivery import AlarmDeps, Attempt, on_event
from chalicelib.store.memory import MemoryTable

RETRIES = 2  # Lambda's default for asynchronous invocations
TIMEOUT_S = 60.0  # the alarm functions' timeout


@dataclass
class Delivered:
    retried: list[str] = field(default_factory=list)  # why an attempt failed (it was retried)
    dead: list[str] = field(default_factory=list)  # failed every attempt: the bot's DLQ


def deliver_all(events: list[dict[str, Any]], deps: AlarmDeps, concurrency: int = 10) -> Delivered:
    """Every event through the alarm handler, `concurrency` at a time (its reserved concurrency)."""
    out = Delivered()

    def deliver(i: int, event: dict[str, Any]) -> None:
        for attempt in range(1 + RETRIES):
            try:
                on_event(event, deps, Attempt(f"req-{i}-{attempt}", time.time() + TIMEOUT_S))
                return
            except Exception as exc:
                out.retried.append(f"{i}: {type(exc).__name__}: {exc}")
        out.dead.append(f"{i}: {out.retried[-1]}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(deliver, range(len(events)), events))
    return out


def on_the_twin(deps: AlarmDeps) -> AlarmDeps:
    """The alarm path's state on the store's twin, for concurrent deliveries: moto's in-process
    DynamoDB does not make a conditional write atomic across threads, as DynamoDB does and the
    twin does."""
    deps.deliveries.table = deps.states.table = deps.storms.storms.table = MemoryTable()
    return deps
