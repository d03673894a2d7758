"""`/ops redrive <queue>`: a DLQ back to where its messages came from, losing nothing.

A DLQ that SQS queues dead-letter into goes back with SQS's message-move task (rate-capped,
followed and cancellable in `/ops status <queue>`). A Lambda async DLQ or a queue of on-failure
destination records is replayed into its functions (chalicelib/ops/replay.py). A redrive cannot
be undone: the messages are back at their source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from chalicelib.aws.errors import AwsError
from chalicelib.diagnosis.logs import redact
from chalicelib.errors import Refused, UsageError
from chalicelib.ops import lookups, replay
from chalicelib.ops.actions import Executed, FollowUp, Proposal
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

SAMPLES_SHOWN = 3
FAILURES_KEPT = 10
IDEMPOTENT = (
    "each message re-runs its function asynchronously with the original payload: "
    "the function must be idempotent (delivery is at least once)"
)


@dataclass(frozen=True)
class RedrivePlan:
    queue: str
    queue_arn: str
    queue_url: str
    mode: Literal["move", "replay"]
    depth: int
    destination: list[str]
    rate: int
    max: int | None = None  # replay only
    owner: str | None = None  # the function whose DLQ this is (replay only)


@dataclass(frozen=True)
class RedriveResult:
    task: str | None = None  # the message-move task's handle
    replayed: int = 0
    already_replayed: int = 0
    unroutable: int = 0
    failed: list[str] = field(default_factory=list)
    left: int = 0
    stopped_early: bool = False


def _quoted(names: list[str]) -> str:
    return "`" + "`, `".join(names) + "`"


class Redrive:
    kind = "redrive"
    verbs = ("redrive",)
    codec = Codec(RedrivePlan, RedriveResult)

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        queue = lookups.queue(ctx.sqs, command.target or "")
        if queue.depth == 0:
            raise Refused(f"`{queue.name}` is empty: nothing to redrive")
        rate = int(command.options.get("rate", replay.DEFAULT_RATE))
        bodies, _ = ctx.sqs.peek(queue.url)
        details = [f"Sample: `{redact(_sample(b))[:200]}`" for b in bodies[:SAMPLES_SHOWN]]
        sources = ctx.sqs.dead_letter_sources(queue.url)
        if sources:
            if "max" in command.options:
                raise UsageError(
                    "`--max` applies to replays into a function; a message-move task moves the "
                    f"whole of `{queue.name}` back to {_quoted(sources)}"
                )
            risks = []
            try:
                running = ctx.sqs.latest_move(queue.arn)
            except AwsError as exc:
                risks.append(f"could not check for a move task already running ({exc.code})")
            else:
                if running and running.status == "RUNNING":
                    raise Refused(
                        f"a message move out of `{queue.name}` is already running "
                        f"({running.moved} moved); see `/ops status {queue.name}`"
                    )
            plan = RedrivePlan(queue.name, queue.arn, queue.url, "move", queue.depth, sources, rate)
            return Proposal(
                target=queue.name,
                summary=f"Move {queue.depth} message(s) from `{queue.name}` back to "
                f"{_quoted(sources)} at most {rate}/s (SQS message-move task, cancellable)",
                plan=plan,
                risks=risks,
                details=details,
            )
        owner = next(iter(ctx.lam.dead_letter_functions(queue.arn)), None)
        targets = sorted(
            {
                t.function.split(":function:", 1)[-1]
                for t in (replay.target_of(b, owner) for b in bodies)
                if t is not None
            }
        )
        if not targets:
            raise Refused(
                f"cannot tell where the messages in `{queue.name}` came from: no queue "
                "dead-letters into it, no function's DLQ is it, and the messages are not Lambda "
                "destination records"
            )
        limit = int(command.options.get("max", queue.depth))
        return Proposal(
            target=queue.name,
            summary=f"Replay {min(limit, queue.depth)} of {queue.depth} message(s) from "
            f"`{queue.name}` into {_quoted(targets)} at most {rate}/s; each "
            "message is deleted only after Lambda accepted its replay",
            plan=RedrivePlan(
                queue.name, queue.arn, queue.url, "replay", queue.depth, targets, rate, limit, owner
            ),
            risks=[IDEMPOTENT],
            details=details,
        )

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        p: RedrivePlan = action.plan
        if p.mode == "move":
            return Executed(
                RedriveResult(task=ctx.sqs.start_move(p.queue_arn, p.rate)), "move task started"
            )
        noted = action

        def progress(so_far: replay.ReplayOutcome) -> None:
            nonlocal noted
            noted = ctx.log.note(noted, progress=so_far.handled)

        out = replay.replay(
            sqs=ctx.sqs,
            lam=ctx.lam,
            marks=ctx.replay_marks(p.queue_arn),
            queue_url=p.queue_url,
            owner=p.owner,
            limit=p.max if p.max is not None else p.depth,
            rate=p.rate,
            deadline=ctx.clock() + ctx.redrive_budget,
            clock=ctx.clock,
            progress=progress,
        )
        visible, in_flight = ctx.sqs.depth(p.queue_url)
        complete = not (out.stopped_early or out.unroutable or out.failed)
        return Executed(
            RedriveResult(
                replayed=out.replayed,
                already_replayed=out.already_replayed,
                unroutable=len(out.unroutable),
                failed=out.failed[:FAILURES_KEPT],
                left=visible + in_flight,
                stopped_early=out.stopped_early,
            ),
            "ok" if complete else "partial",
        )

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        raise Refused(
            f"a redrive cannot be undone: the messages of `{action.plan.queue}` went back to "
            "their source (a running message move can be cancelled from `/ops status`)"
        )

    def result_text(self, action: Action) -> str:
        p: RedrivePlan = action.plan
        r: RedriveResult = action.result
        if p.mode == "move":
            return (
                f"moving {p.depth} message(s) from `{p.queue}` back to {_quoted(p.destination)}; "
                f"progress in `/ops status {p.queue}`"
            )
        lines = [
            f"replayed {r.replayed} message(s) into {_quoted(p.destination)}"
            + (f", deleted {r.already_replayed} replayed earlier" if r.already_replayed else "")
        ]
        if r.unroutable:
            lines.append(f"{r.unroutable} message(s) name no function and stay in the queue")
        if r.failed:
            lines.append("Lambda refused: " + "; ".join(r.failed))
        if r.stopped_early:
            lines.append("Stopped at the time budget before the end")
        if r.left:
            lines.append(
                f"{r.left} message(s) left in `{p.queue}`; nothing was lost: run "
                f"`/ops redrive {p.queue}` again to go on"
            )
        return "\n".join(lines)

    def follow_up(self, action: Action) -> FollowUp | None:
        return "cancel_move" if action.plan.mode == "move" else None


def _sample(body: str) -> str:
    """A message as it would be replayed: a destination record's payload, else the body."""
    target = replay.target_of(body, "-")
    if target is None or isinstance(target.payload, str):
        return body
    return json.dumps(target.payload, separators=(",", ":"))


KIND = Redrive()
