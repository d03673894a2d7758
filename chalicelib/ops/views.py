"""The read-only answers of `/ops`: status, concurrency, alias, diagnose, audit, history, help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib import markup
from chalicelib.aws.cloudwatch import MetricQuery
from chalicelib.aws.errors import AwsError, NotFound
from chalicelib.aws.sqs import Queue
from chalicelib.errors import Refused, UsageError
from chalicelib.ops import lookups, repair
from chalicelib.ops.context import OpsContext
from chalicelib.ops.grammar import USAGE, Command
from chalicelib.ops.operators import Verdict
from chalicelib.ops.outcomes import Audited, Diagnosed, History, Outcome, Said
from chalicelib.ops.runbooks import Runbooks
from chalicelib.ops.viewers import Viewers, Where

LAST_HOUR = (
    MetricQuery("inv", "AWS/Lambda", "Invocations", {}, "Sum"),
    MetricQuery("err", "AWS/Lambda", "Errors", {}, "Sum"),
    MetricQuery("thr", "AWS/Lambda", "Throttles", {}, "Sum"),
    MetricQuery("max", "AWS/Lambda", "Duration", {}, "Maximum"),
)


@dataclass(frozen=True)
class Asker:
    user: str
    where: Where | None


class Views:
    def __init__(
        self, ctx: OpsContext, viewers: Viewers | None = None, runbooks: Runbooks | None = None
    ) -> None:
        self.ctx = ctx
        self.viewers = viewers  # None: everything is shown (the CLI, run by whoever has AWS)
        self.runbooks_of = runbooks or Runbooks()

    def show(self, c: Command, user: str = "", where: Where | None = None) -> Outcome:
        """The answer to a read-only command asked by `user` in `where` (in the account and
        region it names)."""
        views = self
        if c.account or c.region:
            scoped = self.ctx.scoped(c.account, c.region)
            member = scoped.accounts.get(scoped.account) if scoped.account else None
            viewers = self.viewers
            if viewers is not None and member is not None:
                viewers = viewers.for_account(member)
            views = Views(scoped, viewers, self.runbooks_of)
        view: Callable[[Command, Asker], Outcome] = getattr(views, c.verb)
        return view(c, Asker(user, where))

    def _may_see(self, asker: Asker) -> Verdict:
        if self.viewers is None:
            return Verdict(True, "no viewer rule")
        return self.viewers.check(asker.user, asker.where)

    def help(self, _: Command, _asker: Asker) -> Said:
        return Said(f"*Shepherd* — `/ops` commands\n{USAGE}")

    def concurrency(self, c: Command, _asker: Asker) -> Said:
        try:
            reserved = self.ctx.lam.reserved(c.target or "")
        except NotFound as exc:
            raise UsageError(
                f"no function {markup.code(c.target)} {lookups.where(self.ctx.lam.client)}"
            ) from exc
        shown = "none (shares the account's unreserved pool)" if reserved is None else str(reserved)
        return Said(f"*{c.target}* reserved concurrency: {shown}")

    def alias(self, c: Command, _asker: Asker) -> Said:
        alias = lookups.alias(self.ctx.lam, c.target or "", c.alias or "")
        canary = "".join(f", {float(w):.0%} to v{v}" for v, w in alias.weights.items())
        return Said(f"*{c.target}:{c.alias}* → version {alias.version}{canary}")

    def status(self, c: Command, _asker: Asker) -> Said:
        name = c.target or ""
        lam = self.ctx.lam
        try:
            config = lookups.function(lam, name)
        except UsageError:
            queue = self.ctx.sqs.queue(name)
            if queue is None:
                raise
            return self._queue_status(queue)
        aliases = lam.aliases(name)
        reserved = lam.reserved(name)
        lines = [
            f"*{name}* · {config.runtime} · {config.memory_mb} MB · timeout {config.timeout_s} s",
            f"Reserved concurrency: {'none' if reserved is None else reserved}",
            "Aliases: "
            + (", ".join(f"{markup.code(a)} → v{v}" for a, v in aliases.items()) or "none"),
        ]
        try:
            provisioned = lam.all_provisioned(name)
        except AwsError as exc:
            lines.append(f"Provisioned concurrency: could not check ({exc.code})")
        else:
            shown = ", ".join(
                f"{markup.code(p.qualifier)} {p.allocated}/{p.requested} {p.status}"
                for p in provisioned
            )
            lines.append(f"Provisioned concurrency: {shown or 'none'}")
        if config.dlq_arn:
            lines.append(f"DLQ: {markup.code(config.dlq_arn.rsplit(':', 1)[-1])}")
        on_failure: str | None = None
        try:
            on_failure = lam.on_failure_destination(name)
        except AwsError as exc:
            lines.append(f"On-failure destination: could not check ({exc.code})")
        if on_failure:
            service, target = on_failure.split(":")[2:3], on_failure.rsplit(":", 1)[-1]
            lines.append(
                f"On-failure destination: {markup.code(target)}"
                + (
                    f" (redrive: {markup.code(f'/ops redrive {target}')})"
                    if service == ["sqs"]
                    else ""
                )
            )
        if not config.dlq_arn and not on_failure:
            lines.append("DLQ: none (failed async events are dropped after their retries)")
        lines.append(self._last_hour(name))
        return Said("\n".join(lines))

    def _last_hour(self, function: str) -> str:
        """Invocations, errors (as a rate), throttles and the longest duration over the last hour."""
        end = datetime.now(UTC)
        queries = [
            MetricQuery(q.key, q.namespace, q.name, {"FunctionName": function}, q.stat)
            for q in LAST_HOUR
        ]
        try:
            series = self.ctx.cloudwatch.series(queries, end - timedelta(hours=1), end, 3600)
        except AwsError as exc:
            return f"Last hour: could not check ({exc.code})"
        values = {
            key: (max if key == "max" else sum)(v for _, v in points)
            for key, points in series.items()
            if points
        }
        invocations, errors = values.get("inv", 0.0), values.get("err", 0.0)
        rate = f" ({errors / invocations:.1%})" if invocations else ""
        longest = f" · longest {values['max']:.0f} ms" if values.get("max") else ""
        return (
            f"Last hour: {invocations:.0f} invocations · {errors:.0f} errors{rate} · "
            f"{values.get('thr', 0.0):.0f} throttles{longest}"
        )

    def _queue_status(self, queue: Queue) -> Said:
        sqs = self.ctx.sqs
        lines = [
            f"*{queue.name}* (queue) · {queue.depth} message(s) waiting, "
            f"{queue.in_flight} in flight",
        ]
        sources = sqs.dead_letter_sources(queue.url)
        if sources:
            lines.append("Dead-letter queue of: " + ", ".join(f"{markup.code(s)}" for s in sources))
        try:
            task = sqs.latest_move(queue.arn)
        except AwsError as exc:
            if sources:
                lines.append(f"Message moves: could not check ({exc.code})")
            task = None
        if task:
            lines.append(
                f"Message move: {task.status} · {task.moved}"
                + (f" of {task.to_move}" if task.to_move is not None else "")
                + f" moved at {task.rate}/s"
                + (f" · {task.failure}" if task.failure else "")
            )
        last = next(iter(self.ctx.log.history(queue.name, limit=1)), None)
        cancel = None
        if last:
            lines.append(
                f"Last redrive: {markup.code(last.id)} {last.status} · {last.outcome or ''}"
            )
            if task and task.status == "RUNNING" and getattr(last.plan, "mode", None) == "move":
                cancel = last.id
        return Said("\n".join(lines), cancel_move=cancel)

    def diagnose(self, c: Command, asker: Asker) -> Diagnosed:
        from chalicelib.diagnosis.gather import gather
        from chalicelib.diagnosis.rules import diagnose
        from chalicelib.events.ondemand import on_demand_alarm

        lookups.function(self.ctx.lam, c.target or "")
        # Where the command points (`--region`, `--account`), not Shepherd's own region.
        account = self.ctx.account or self.ctx.aws.home_account()
        alarm = on_demand_alarm(c.target or "", self.ctx.region or self.ctx.aws.region, account)
        diagnosis = diagnose(gather(alarm, self.ctx.aws))
        diagnosis.runbooks = self.runbooks_of.offered(diagnosis, self.ctx.accounts)
        return Diagnosed(diagnosis, reveal=self._may_see(asker).allowed)

    def runbooks(self, _: Command, _asker: Asker) -> Said:
        """`/ops runbooks`: each runbook, what offers it, its steps and links."""
        books = self.runbooks_of.books
        if not books:
            return Said(
                f"No runbooks are configured ({self.runbooks_of.source}; README: Runbooks)."
            )
        out = [f"*Runbooks* ({len(books)}, from {self.runbooks_of.source})"]
        for book in books:
            args = ", ".join(
                f"`{k}={v}`" if v is not None else f"`{k}=` (required)"
                for k, v in book.args.items()
            )
            lines = [
                f"*{book.name}*"
                + (f" — {markup.prose(book.description, 300)}" if book.description else "")
            ]
            lines.append(f"offered on: {book.match}")
            lines += [f"{n}. {markup.code('/ops ' + step)}" for n, step in enumerate(book.steps, 1)]
            if args:
                lines.append(f"args: {args}")
            lines += [
                f"link: {markup.code(link.label)} {markup.code(link.url)}" for link in book.links
            ]
            by_hand = " ".join(["/ops runbook", book.name, *(f"{p}=<{p}>" for p in book.asks)])
            lines.append(f"by hand: {markup.code(by_hand)} (and `--account`, `--region`)")
            out.append("\n".join(lines))
        return Said("\n\n".join(out))

    def audit(self, c: Command, asker: Asker) -> Audited:
        from chalicelib.audit import runs

        verdict = self._may_see(asker)
        if not verdict.allowed:
            raise Refused(f"IAM audit findings are shown to viewers only: {verdict.why}")
        result = runs.run(self.ctx.aws.iam(self.ctx.account), only=c.target)
        posted = self.viewers is None or self.viewers.in_channel(asker.where)
        member = self.ctx.accounts.get(self.ctx.account) if self.ctx.account else None
        title = (
            "IAM wildcard audit"
            + (f" of {member.name} ({member.id})" if member else "")
            + (f" · {c.target}" if c.target else "")
        )
        return Audited(result, title, posted)

    def history(self, c: Command, _asker: Asker) -> History:
        scope = f"{self.ctx.account}/{c.target}" if self.ctx.account and c.target else c.target
        found = self.ctx.log.history(scope)
        return History(
            [
                repair.settled(a, self.ctx.scoped(a.account or None, a.region or None))
                for a in found
            ],
            c.target,
        )
