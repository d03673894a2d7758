"""`/ops redrive <queue>`: a DLQ back to where its messages came from, losing nothing.

A DLQ that SQS queues dead-letter into goes back with SQS's message-move task (rate-capped,
followed and cancellable in `/ops status <queue>`). A Lambda async DLQ or a queue of on-failure
destination records is replayed into its functions (chalicelib/ops/replay.py). A redrive cannot
be undone: the messages are back at their source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Literal

from chalicelib import markup
from chalicelib.aws.arns import split_arn
from chalicelib.aws.errors import AwsError
from chalicelib.diagnosis.logs import redact
from chalicelib.errors import Drifted, Refused, UsageError
from chalicelib.ops import lookups, replay
from chalicelib.ops.actions import NOT_APPLIED, Executed, FollowUp, Proposal
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import Command
from chalicelib.store.actions import Action, Codec

SAMPLES_SHOWN = 3
SCANNED = 50  # messages read for the preview's targets; any other target found later is left
FAILURES_KEPT = 10
PROGRESS_EVERY_S = 5.0  # a long replay's progress is written to its action this often
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
    account: str = ""  # the queue's account: replays go only to functions in it
    refused: list[str] = field(default_factory=list)  # functions the proposer may not replay into
    foreign: list[str] = field(default_factory=list)  # functions in other accounts (left)


@dataclass(frozen=True)
class RedriveResult:
    task: str | None = None  # the message-move task's handle
    replayed: int = 0
    already_replayed: int = 0
    unroutable: int = 0
    failed: list[str] = field(default_factory=list)
    left: int | None = 0  # in the queue afterwards (None: could not be read)
    stopped_early: bool = False
    unauthorised: int = 0  # left: their function was not previewed or not authorised
    foreign: int = 0  # left: their function is in another account
    deleted: int = 0  # of the replayed, deleted from the DLQ
    undeleted: int = 0  # replayed and marked, the delete failed: a rerun deletes them
    unmarked: int = 0  # replayed, marks not written: a rerun replays them again
    unsure: list[str] = field(default_factory=list)  # no answer from Lambda: left in the queue
    error: str | None = None  # the AWS failure that stopped the replay


def _quoted(names: list[str]) -> str:
    return "`" + "`, `".join(names) + "`"


class Redrive:
    kind = "redrive"
    verbs = ("redrive",)
    codec = Codec(RedrivePlan, RedriveResult)
    runs_for = 300.0  # the api_handler's timeout: a replay stops at its budget before

    def plan(self, command: Command, ctx: OpsContext) -> Proposal:
        queue = lookups.queue(ctx.sqs, command.target or "")
        if queue.depth == 0:
            raise Refused(f"{markup.code(queue.name)} is empty: nothing to redrive")
        if queue.live:
            raise Refused(
                f"{markup.code(queue.name)} is a live queue: its failures go to "
                f"{markup.code(split_arn(queue.dead_letter_target or '')['rest'])}, and reading it here "
                "would count toward sending its work there; redrive that queue instead"
            )
        rate = int(command.options.get("rate", replay.DEFAULT_RATE))
        bodies, _ = ctx.sqs.peek(queue.url, SCANNED)
        details = [
            f"Sample: {markup.code(redact(_sample(b)), 200)}" for b in bodies[:SAMPLES_SHOWN]
        ]
        sources = ctx.sqs.dead_letter_sources(queue.url)
        if sources:
            if "max" in command.options:
                raise UsageError(
                    "`--max` applies to replays into a function; a message-move task moves the "
                    f"whole of {markup.code(queue.name)} back to {_quoted(sources)}"
                )
            risks = []
            try:
                running = ctx.sqs.latest_move(queue.arn)
            except AwsError as exc:
                risks.append(f"could not check for a move task already running ({exc.code})")
            else:
                if running and running.status == "RUNNING":
                    raise Refused(
                        f"a message move out of {markup.code(queue.name)} is already running "
                        f"({running.moved} moved); see `/ops status {queue.name}`"
                    )
            plan = RedrivePlan(queue.name, queue.arn, queue.url, "move", queue.depth, sources, rate)
            return Proposal(
                target=queue.name,
                summary=f"Move {queue.depth} message(s) from {markup.code(queue.name)} back to "
                f"{_quoted(sources)} at most {rate}/s (SQS message-move task, cancellable)",
                plan=plan,
                risks=risks,
                details=details,
            )
        owner = next(iter(ctx.lam.dead_letter_functions(queue.arn)), None)
        home = split_arn(queue.arn)["account"]
        refs = {
            replay.ref(t.function, home)
            for t in (replay.target_of(b, owner) for b in bodies)
            if t is not None
        }
        targets = sorted(name for account, name in refs if account == home)
        foreign = sorted(f"{account}:{name}" for account, name in refs if account != home)
        if not targets:
            raise Refused(
                f"cannot tell where the messages in {markup.code(queue.name)} came from: no queue "
                "dead-letters into it, no function's DLQ is it, and the messages are not Lambda "
                "destination records of this account's functions"
                + (f" (they name {_quoted(foreign)})" if foreign else "")
            )
        limit = int(command.options.get("max", queue.depth))
        plan = RedrivePlan(
            queue.name,
            queue.arn,
            queue.url,
            "replay",
            queue.depth,
            targets,
            rate,
            limit,
            owner,
            account=home,
            foreign=foreign,
        )
        return self._replay_proposal(plan, details)

    def _replay_proposal(
        self, plan: RedrivePlan, details: list[str], refused: dict[str, str] | None = None
    ) -> Proposal:
        left = [
            f"Left in the queue: records for {markup.code(f)} (another account, not configured)"
            for f in plan.foreign
        ] + [
            f"Left in the queue: records for {markup.code(f)} ({why})"
            for f, why in (refused or {}).items()
        ]
        return Proposal(
            target=plan.queue,
            summary=f"Replay {min(plan.max or plan.depth, plan.depth)} of {plan.depth} message(s) "
            f"from {markup.code(plan.queue)} into {_quoted(plan.destination)} at most {plan.rate}/s; each "
            "message is deleted only after Lambda accepted its replay",
            plan=plan,
            risks=[IDEMPOTENT],
            details=details + left,
            also_acts_on=_functions(plan),
        )

    def acts_on(self, action: Action) -> list[str]:
        """A replay's destinations (a move sends back to queues, not into functions)."""
        plan: RedrivePlan = action.plan
        return _functions(plan) if plan.mode == "replay" else []

    def narrow(self, proposal: Proposal, refused: dict[str, str]) -> Proposal:
        """Only into the functions the proposer may change; the rest are named and left."""
        plan: RedrivePlan = proposal.plan
        kept = [d for d in plan.destination if d.split(":")[0] not in refused]
        if not kept:
            raise Refused(f"{next(iter(refused.values()))}; nothing was changed.")
        narrowed = replace(plan, destination=kept, refused=sorted(refused))
        samples = [d for d in proposal.details if d.startswith("Sample:")]
        narrowed_proposal = self._replay_proposal(narrowed, samples, refused)
        return replace(narrowed_proposal, also_acts_on=[])

    def recheck(self, action: Action, ctx: OpsContext) -> None:
        """The queue is still there and still a DLQ; no move started since the preview."""
        p: RedrivePlan = action.plan
        queue = ctx.sqs.queue(p.queue)
        if queue is None or queue.arn != p.queue_arn:
            raise Drifted(f"{markup.code(p.queue)} is not the queue the preview read any more")
        if queue.live:
            raise Drifted(
                f"{markup.code(p.queue)} has a dead-letter queue of its own now (a live queue)"
            )
        if queue.depth + queue.in_flight == 0:
            raise Drifted(f"{markup.code(p.queue)} is empty now: nothing to redrive")
        if p.mode == "move":
            running = ctx.sqs.latest_move(p.queue_arn)
            if running and running.status == "RUNNING":
                raise Refused(
                    f"a message move out of {markup.code(p.queue)} is already running ({running.moved} "
                    f"moved); see `/ops status {p.queue}`"
                )

    def execute(self, action: Action, ctx: OpsContext) -> Executed:
        p: RedrivePlan = action.plan
        if p.mode == "move":
            return Executed(
                RedriveResult(task=ctx.sqs.start_move(p.queue_arn, p.rate)), "move task started"
            )
        noted, last_note = action, ctx.clock()

        def progress(so_far: replay.ReplayOutcome) -> None:
            nonlocal noted, last_note
            if ctx.clock() - last_note >= PROGRESS_EVERY_S:
                noted, last_note = ctx.log.note(noted, progress=so_far.handled), ctx.clock()

        out = replay.replay(
            sqs=ctx.sqs,
            lam=ctx.invoker,
            marks=ctx.replay_marks(p.queue_arn),
            queue_url=p.queue_url,
            owner=p.owner,
            limit=p.max if p.max is not None else p.depth,
            allowed=set(p.destination),
            home_account=p.account,
            rate=p.rate,
            deadline=ctx.clock() + ctx.redrive_budget,
            clock=ctx.clock,
            progress=progress,
        )
        try:
            visible, in_flight = ctx.sqs.depth(p.queue_url)
            left: int | None = visible + in_flight
        except AwsError:
            left = None
        complete = not (out.stopped_early or out.error or out.skipped or out.undeleted)
        return Executed(
            RedriveResult(
                replayed=out.replayed,
                already_replayed=out.already_replayed,
                unroutable=len(out.unroutable),
                failed=out.failed[:FAILURES_KEPT],
                left=left,
                stopped_early=out.stopped_early,
                unauthorised=len(out.unauthorised),
                foreign=len(out.foreign),
                deleted=out.deleted,
                undeleted=out.undeleted,
                unmarked=out.unmarked,
                unsure=out.unsure[:FAILURES_KEPT],
                error=out.error,
            ),
            "ok" if complete else "partial",
        )

    def observed(self, action: Action, ctx: OpsContext) -> Executed | str:
        p: RedrivePlan = action.plan
        if p.mode == "move":
            running = ctx.sqs.latest_move(p.queue_arn)
            if running is not None and running.started >= action.at.get("executing", 0) - 5:
                return Executed(RedriveResult(task=running.handle), "move task started")
            return NOT_APPLIED
        return (
            f"interrupted after {action.progress or 0} message(s) handled; nothing was lost: "
            f"what was not replayed is still in {markup.code(p.queue)} (run `/ops redrive {p.queue}` to go on)"
        )

    def undo(self, action: Action, ctx: OpsContext) -> Proposal:
        raise Refused(
            f"a redrive cannot be undone: the messages of {markup.code(action.plan.queue)} went back to "
            "their source (a running message move can be cancelled from `/ops status`)"
        )

    def result_text(self, action: Action) -> str:
        p: RedrivePlan = action.plan
        r: RedriveResult = action.result
        if p.mode == "move":
            return (
                f"moving {p.depth} message(s) from {markup.code(p.queue)} back to {_quoted(p.destination)}; "
                f"progress in `/ops status {p.queue}`"
            )
        lines = [
            f"replayed {r.replayed} message(s) into {_quoted(p.destination)} and deleted "
            f"{r.deleted} of them from {markup.code(p.queue)}"
            + (
                f"; {r.already_replayed} more had been replayed by an earlier run and only "
                "needed deleting"
                if r.already_replayed
                else ""
            )
        ]
        if r.error:
            lines.append(f"Stopped by an AWS error ({r.error}) before the end")
        if r.unroutable:
            lines.append(f"Skipped {r.unroutable} message(s) that name no function (left)")
        if r.unauthorised:
            lines.append(
                f"Skipped {r.unauthorised} message(s) for functions not previewed or not "
                "authorised (left)"
            )
        if r.foreign:
            lines.append(f"Skipped {r.foreign} message(s) for another account's functions (left)")
        if r.failed:
            lines.append("Lambda refused (left): " + "; ".join(r.failed))
        if r.unsure:
            lines.append(
                "No answer from Lambda, not sent again (left; Lambda may have run them): "
                + "; ".join(r.unsure)
            )
        if r.undeleted:
            lines.append(
                f"{r.undeleted} replayed message(s) could not be deleted; a rerun deletes them "
                "without replaying them"
            )
        if r.unmarked:
            lines.append(
                f"{r.unmarked} replayed message(s) could not be marked; a rerun replays them again"
            )
        if r.stopped_early:
            lines.append("Stopped at the time budget before the end")
        if r.left is None:
            lines.append(f"Could not read how many are left in {markup.code(p.queue)}")
        elif r.left:
            lines.append(
                f"{r.left} message(s) left in {markup.code(p.queue)}; nothing was lost: run "
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


def _functions(plan: RedrivePlan) -> list[str]:
    """The functions a replay goes into, without their qualifiers."""
    return sorted({d.split(":")[0] for d in plan.destination})
