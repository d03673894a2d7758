"""What `/ops` does: read-only answers at once; every change previewed, confirmed, recorded, undoable."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws import Aws, error_code
from chalicelib.errors import Refused, UpstreamFailure, UsageError
from chalicelib.ops import redrive
from chalicelib.ops.grammar import USAGE, Command, parse
from chalicelib.ops.operators import Operators
from chalicelib.ops.provisioned import Provisioned
from chalicelib.state import ActionLog

KEEP_UNRESERVED = 100  # Lambda keeps 100 of the account's concurrency unreserved
CONFIRM, CANCEL, UNDO, CANCEL_MOVE = "ops_confirm", "ops_cancel", "ops_undo", "ops_cancel_move"
REDRIVE_BUDGET = 240.0  # seconds a replay may run in one invocation (api_handler timeout is 300)
SAMPLES_SHOWN = 3


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread: list[str] | None = None  # set: post in the channel, with these replies in its thread


class Ops:
    def __init__(
        self,
        aws: Aws,
        log: ActionLog,
        operators: Operators,
        *,
        redrive_budget: float = REDRIVE_BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.aws = aws
        self.log = log
        self.operators = operators
        self.redrive_budget = redrive_budget
        self.clock = clock

    @property
    def lam(self) -> Any:
        return self.aws.client("lambda")

    @property
    def sqs(self) -> Any:
        return self.aws.client("sqs")

    # --- entry points -----------------------------------------------------------------------

    def run(self, text: str, user: str) -> Reply:
        try:
            command = parse(text)
            if command.mutating:
                return self._propose(command, text, user)
            show: Callable[[Command], Reply] = getattr(self, f"_show_{command.verb}")
            return show(command)
        except UsageError as exc:
            return Reply(f":warning: {exc}\n\n*Usage*\n{USAGE}")
        except Refused as exc:
            return Reply(f":no_entry: Refused: {exc}")
        except UpstreamFailure as exc:
            return Reply(f":x: {exc}")

    def confirm(self, action_id: str, user: str) -> Reply:
        proposed = self.log.get(action_id)
        verdict = self.operators.check(user, (proposed or {}).get("function"))
        if not verdict.allowed:
            return Reply(f":no_entry: Refused: {verdict.why}; nothing was changed.")
        action = self.log.transition(
            action_id, "proposed", "executing", current=proposed, confirmed_by=user
        )
        if action is None:
            current = self.log.get(action_id)
            state = current["status"] if current else "unknown"
            return Reply(f"Action `{action_id}` is already {state}; nothing more was done.")
        try:
            after = self._execute(action)
        except Exception as exc:
            self.log.transition(
                action_id, "executing", "failed", outcome=f"{error_code(exc)}: {exc}"
            )
            return Reply(
                f":x: `{action_id}` failed: {error_code(exc)}: {exc}. Nothing else was changed."
            )
        outcome = after.pop("outcome", "ok")
        self.log.transition(action_id, "executing", "done", after=after, outcome=outcome)
        text = f":white_check_mark: <@{user}> ran `{action['command']}` (`{action_id}`): {action['summary']}"
        if action["kind"] == "redrive":
            text = _redrive_result(action, {**after, "outcome": outcome}, user)
            if action["mode"] == "move":
                return Reply(
                    text,
                    [_section(text), _buttons([("Cancel move", CANCEL_MOVE, action_id, None)])],
                )
            return Reply(text)
        return Reply(text, [_section(text), _buttons([("Undo", UNDO, action_id, None)])])

    def cancel(self, action_id: str, user: str) -> Reply:
        if self.log.transition(action_id, "proposed", "cancelled", cancelled_by=user) is None:
            return Reply(f"Action `{action_id}` can no longer be cancelled.")
        return Reply(f"Cancelled `{action_id}`; nothing was changed.")

    def cancel_move(self, action_id: str, user: str) -> Reply:
        """Stop a running message-move task; what was moved stays moved."""
        action = self.log.get(action_id)
        if action is None or action.get("mode") != "move" or action["status"] != "done":
            return Reply(f"`{action_id}` is not a started message move; nothing was changed.")
        verdict = self.operators.check(user, action.get("function"))
        if not verdict.allowed:
            return Reply(f":no_entry: Refused: {verdict.why}; nothing was changed.")
        try:
            moved = redrive.MessageMoves(self.sqs).cancel(action["after"]["task"])
        except Exception as exc:
            return Reply(f":x: could not cancel the move of `{action['queue']}`: {error_code(exc)}")
        self.log.note(action_id, cancelled_by=user, outcome=f"cancelled after {moved} moved")
        return Reply(
            f":octagonal_sign: <@{user}> cancelled the move of `{action['queue']}` "
            f"after {moved} message(s); the rest stay in the DLQ."
        )

    # --- read-only answers ------------------------------------------------------------------

    def _show_help(self, _: Command) -> Reply:
        return Reply(f"*Shepherd* — `/ops` commands\n{USAGE}")

    def _show_concurrency(self, c: Command) -> Reply:
        reserved = self._reserved(c.target)
        shown = "none (shares the account's unreserved pool)" if reserved is None else str(reserved)
        return Reply(f"*{c.target}* reserved concurrency: {shown}")

    def _show_alias(self, c: Command) -> Reply:
        alias = self._alias(c.target, c.alias)
        weights = _alias_state(alias)["weights"]
        canary = "".join(f", {float(w):.0%} to v{v}" for v, w in weights.items())
        return Reply(f"*{c.target}:{c.alias}* → version {alias['FunctionVersion']}{canary}")

    def _show_status(self, c: Command) -> Reply:
        try:
            config = self._function(c.target)
        except UsageError:
            found = self._find_queue(c.target or "")
            if found is None:
                raise
            return self._queue_status(found)
        aliases = self.lam.list_aliases(FunctionName=c.target).get("Aliases", [])
        reserved = self._reserved(c.target)
        lines = [
            f"*{c.target}* · {config.get('Runtime')} · {config.get('MemorySize')} MB · timeout {config.get('Timeout')} s",
            f"Reserved concurrency: {'none' if reserved is None else reserved}",
            "Aliases: "
            + (", ".join(f"`{a['Name']}` → v{a['FunctionVersion']}" for a in aliases) or "none"),
        ]
        try:
            provisioned = Provisioned(self.lam).all(c.target or "")
        except Exception as exc:
            lines.append(f"Provisioned concurrency: could not check ({error_code(exc)})")
        else:
            lines.append(
                "Provisioned concurrency: "
                + (
                    ", ".join(
                        f"`{p['qualifier']}` {p['allocated']}/{p['requested']} {p['status']}"
                        for p in provisioned
                    )
                    or "none"
                )
            )
        dlq = (config.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            lines.append(f"DLQ: `{dlq.rsplit(':', 1)[-1]}`")
        lines.append(self._last_hour(c.target or ""))
        return Reply("\n".join(lines))

    def _last_hour(self, function: str) -> str:
        """Invocations, errors (as a rate), throttles and the longest duration over the last hour."""
        end = datetime.now(UTC)
        queries = [
            ("inv", "Invocations", "Sum"),
            ("err", "Errors", "Sum"),
            ("thr", "Throttles", "Sum"),
            ("max", "Duration", "Maximum"),
        ]
        try:
            response = self.aws.client("cloudwatch").get_metric_data(
                MetricDataQueries=[
                    {
                        "Id": key,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/Lambda",
                                "MetricName": metric,
                                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                            },
                            "Period": 3600,
                            "Stat": stat,
                        },
                    }
                    for key, metric, stat in queries
                ],
                StartTime=end - timedelta(hours=1),
                EndTime=end,
            )
        except Exception as exc:
            return f"Last hour: could not check ({error_code(exc)})"
        values = {
            r["Id"]: (max if r["Id"] == "max" else sum)(r.get("Values") or [0.0])
            for r in response.get("MetricDataResults", [])
        }
        invocations, errors = values.get("inv", 0.0), values.get("err", 0.0)
        rate = f" ({errors / invocations:.1%})" if invocations else ""
        longest = f" · longest {values['max']:.0f} ms" if values.get("max") else ""
        return (
            f"Last hour: {invocations:.0f} invocations · {errors:.0f} errors{rate} · "
            f"{values.get('thr', 0.0):.0f} throttles{longest}"
        )

    def _queue_status(self, queue: dict[str, Any]) -> Reply:
        lines = [
            f"*{queue['name']}* (queue) · {queue['depth']} message(s) waiting, "
            f"{queue['in_flight']} in flight",
        ]
        sources = self._dlq_sources(queue["url"])
        if sources:
            lines.append("Dead-letter queue of: " + ", ".join(f"`{s}`" for s in sources))
        try:
            task = redrive.MessageMoves(self.sqs).latest(queue["arn"])
        except Exception as exc:
            if sources:
                lines.append(f"Message moves: could not check ({error_code(exc)})")
            task = None
        blocks = None
        if task:
            total = task["to_move"]
            lines.append(
                f"Message move: {task['status']} · {task['moved']}"
                + (f" of {total}" if total is not None else "")
                + f" moved at {task['rate']}/s"
                + (f" · {task['failure']}" if task.get("failure") else "")
            )
        last = next(iter(self.log.history(queue["name"], limit=1)), None)
        if last:
            lines.append(
                f"Last redrive: `{last['id']}` {last['status']} · {last.get('outcome', '')}"
            )
            if task and task["status"] == "RUNNING" and last.get("mode") == "move":
                blocks = [
                    _section("\n".join(lines)),
                    _buttons([("Cancel move", CANCEL_MOVE, last["id"], None)]),
                ]
        return Reply("\n".join(lines), blocks)

    def _show_diagnose(self, c: Command) -> Reply:
        from chalicelib.diagnosis.gather import gather
        from chalicelib.diagnosis.rules import diagnose
        from chalicelib.events.ondemand import on_demand_alarm
        from chalicelib.slack.render import headline, render

        self._function(c.target)
        diagnosis = diagnose(gather(on_demand_alarm(c.target or "", self.aws), self.aws))
        return Reply(headline(diagnosis), render(diagnosis))

    def _show_audit(self, c: Command) -> Reply:
        from chalicelib.audit import report, runs

        result = runs.run(self.aws.client("iam"), only=c.target)
        title = "IAM wildcard audit" + (f" · {c.target}" if c.target else "")
        blocks = report.summary_blocks(result, title)
        return Reply(
            f"{title}: {report.counts(result)}", blocks, report.thread_texts(result.findings)
        )

    def _show_history(self, c: Command) -> Reply:
        actions = self.log.history(c.target)
        if not actions:
            return Reply("No actions recorded" + (f" for {c.target}." if c.target else "."))
        lines = [
            f"`{a['id']}` {a['status']} · <@{a['user']}> · `{a['command']}` · {a.get('summary', '')}"
            for a in actions
        ]
        return Reply("*Recent actions*\n" + "\n".join(lines))

    # --- changes ----------------------------------------------------------------------------

    def _propose(self, c: Command, text: str, user: str) -> Reply:
        plan = self._undo_plan(c) if c.verb == "undo" else self._plan(c)
        action = {
            "id": secrets.token_hex(4),
            "user": user,
            "command": f"/ops {text.strip()}",
            **plan,
        }
        verdict = self.operators.check(user, plan.get("function"))
        if not verdict.allowed:
            self.log.record_refusal({**action, "outcome": verdict.why})
            raise Refused(f"{verdict.why}; nothing was changed.")
        self.log.create(action)
        risks = "".join(f"\n:warning: {r}" for r in plan["risks"])
        details = "".join(f"\n{line}" for line in plan.pop("details", []))
        text_out = (
            f"*Preview* `{action['id']}` · `{action['command']}`\n{plan['summary']}{details}{risks}"
        )
        buttons = [
            ("Confirm", CONFIRM, action["id"], "danger" if plan["risks"] else "primary"),
            ("Cancel", CANCEL, action["id"], None),
        ]
        return Reply(text_out, [_section(text_out), _buttons(buttons)])

    def _plan(self, c: Command) -> dict[str, Any]:
        if c.verb == "redrive":
            return self._redrive_plan(c)
        function = c.target or ""
        self._function(function)
        if c.verb in ("provision", "unprovision"):
            return self._provision_plan(function, c.alias or "", c.number)
        if c.verb in ("reserve", "unreserve"):
            current = self._reserved(function)
            target = c.number if c.verb == "reserve" else None
            risks = self._reserve_risks(current, target)
            return {
                "kind": "reserved_concurrency",
                "function": function,
                "before": {"reserved": current},
                "proposed": {"reserved": target},
                "risks": risks,
                "summary": f"Reserved concurrency of *{function}*: {_r(current)} → {_r(target)}",
            }
        alias = self._alias(function, c.alias)
        before = _alias_state(alias)
        risks = []
        if c.verb == "rollback":
            version = self._rollback_target(function, c.alias or "", before["version"])
            weights: dict[str, float] = {}
        elif c.verb == "canary":
            version = before["version"]
            if c.version == version:
                raise UsageError(f"version {c.version} already takes the alias's main traffic")
            self._published(function, c.version or "")
            weights = {c.version or "": (c.number or 0) / 100} if c.number else {}
            risks.append(f"{c.number}% of `{c.alias}` traffic goes to version {c.version}")
        else:
            version = self._published(function, c.version or "")
            weights = {}
        return {
            "kind": "alias",
            "function": function,
            "alias": c.alias,
            "before": before,
            "proposed": {"version": version, "weights": weights},
            "risks": risks,
            "summary": f"Alias *{function}:{c.alias}*: v{before['version']}{_w(before['weights'])} → v{version}{_w(weights)}",
        }

    def _redrive_plan(self, c: Command) -> dict[str, Any]:
        queue = self._queue(c.target or "")
        if queue["depth"] == 0:
            raise Refused(f"`{queue['name']}` is empty: nothing to redrive")
        rate = int(c.options.get("rate", redrive.DEFAULT_RATE))
        from chalicelib.diagnosis.gather import peek_messages
        from chalicelib.diagnosis.logs import redact

        bodies, _ = peek_messages(self.sqs, queue["url"])
        common = {
            "kind": "redrive",
            "function": queue["name"],  # history and authorisation go by the queue's name
            "queue": queue["name"],
            "queue_arn": queue["arn"],
            "queue_url": queue["url"],
            "details": [f"Sample: `{redact(_sample(b))[:200]}`" for b in bodies[:SAMPLES_SHOWN]],
        }
        sources = self._dlq_sources(queue["url"])
        if sources:
            if "max" in c.options:
                raise UsageError(
                    "`--max` applies to replays into a function; a message-move task moves the "
                    f"whole of `{queue['name']}` back to `{'`, `'.join(sources)}`"
                )
            risks = []
            try:
                running = redrive.MessageMoves(self.sqs).latest(queue["arn"])
            except Exception as exc:
                risks.append(f"could not check for a move task already running ({error_code(exc)})")
            else:
                if running and running["status"] == "RUNNING":
                    raise Refused(
                        f"a message move out of `{queue['name']}` is already running "
                        f"({running['moved']} moved); see `/ops status {queue['name']}`"
                    )
            return {
                **common,
                "mode": "move",
                "before": {"depth": queue["depth"]},
                "proposed": {"destination": sources, "rate": rate},
                "risks": risks,
                "summary": f"Move {queue['depth']} message(s) from `{queue['name']}` back to "
                f"`{'`, `'.join(sources)}` at most {rate}/s (SQS message-move task, cancellable)",
            }
        owner = redrive.dlq_owner(self.lam, queue["arn"])
        targets = {
            t.function.split(":function:", 1)[-1]
            for t in (redrive.target_of(b, owner) for b in bodies)
            if t is not None
        }
        if not targets:
            raise Refused(
                f"cannot tell where the messages in `{queue['name']}` came from: no queue "
                "dead-letters into it, no function's DLQ is it, and the messages are not Lambda "
                "destination records"
            )
        limit = int(c.options.get("max", queue["depth"]))
        return {
            **common,
            "mode": "replay",
            "owner": owner,
            "before": {"depth": queue["depth"]},
            "proposed": {"destination": sorted(targets), "rate": rate, "max": limit},
            "risks": [
                "each message re-runs its function asynchronously with the original payload: "
                "the function must be idempotent (delivery is at least once)",
            ],
            "summary": f"Replay {min(limit, queue['depth'])} of {queue['depth']} message(s) from "
            f"`{queue['name']}` into `{'`, `'.join(sorted(targets))}` at most {rate}/s; each "
            "message is deleted only after Lambda accepted its replay",
        }

    def _provision_plan(self, function: str, alias: str, target: int | None) -> dict[str, Any]:
        self._alias(function, alias)  # provisioned concurrency only on an alias or version
        provisioned = Provisioned(self.lam)
        risks: list[str] = []
        try:
            config = provisioned.get(function, alias)
        except Exception as exc:
            raise UpstreamFailure(
                "lambda",
                f"could not read the provisioned concurrency of {function}:{alias}; nothing was changed",
                error_code(exc),
            ) from exc
        current = config["requested"] if config else None
        if target is None and current is None:
            raise UsageError(f"*{function}:{alias}* has no provisioned concurrency")
        if target:
            reserved = self._reserved(function)
            if reserved is not None and target > reserved:
                raise Refused(
                    f"{target} provisioned is more than *{function}*'s reserved concurrency "
                    f"({reserved}); raise the reservation first"
                )
            if reserved is None:
                risks += self._pool_risks(target - (current or 0), "provisioned")
            risks.append(
                "provisioned concurrency is billed for every second it stays allocated, used or not"
            )
        return {
            "kind": "provisioned",
            "function": function,
            "alias": alias,
            "before": {"provisioned": current},
            "proposed": {"provisioned": target},
            "risks": risks,
            "summary": f"Provisioned concurrency of *{function}:{alias}*: {_p(current)} → {_p(target)}",
        }

    def _undo_plan(self, c: Command) -> dict[str, Any]:
        done = self.log.get(c.target or "")
        if done is None:
            raise UsageError(f"no action `{c.target}`; see `/ops history`")
        if done["status"] != "done":
            raise Refused(
                f"action `{c.target}` is {done['status']}: only a completed action can be undone"
            )
        if done["kind"] == "redrive":
            raise Refused(
                f"a redrive cannot be undone: the messages of `{done['queue']}` went back to "
                "their source (a running message move can be cancelled from `/ops status`)"
            )
        plan: dict[str, Any] = {k: done[k] for k in ("kind", "function") if k in done}
        if done["kind"] == "provisioned":
            undo = self._provision_plan(
                done["function"], done["alias"], done["before"]["provisioned"]
            )
            return {
                **undo,
                "undoes": done["id"],
                "summary": f"Undo `{done['id']}`: {undo['summary']}",
            }
        if done["kind"] == "reserved_concurrency":
            before = done["before"]["reserved"]
            current = self._reserved(done["function"])
            return {
                **plan,
                "before": {"reserved": current},
                "proposed": {"reserved": before},
                "risks": self._reserve_risks(current, before),
                "undoes": done["id"],
                "summary": f"Undo `{done['id']}`: reserved concurrency of *{done['function']}* {_r(current)} → {_r(before)}",
            }
        alias = self._alias(done["function"], done["alias"])
        live = _alias_state(alias)
        restore = {"version": done["before"]["version"], "weights": done["before"]["weights"]}
        return {
            **plan,
            "alias": done["alias"],
            "before": live,
            "proposed": restore,
            "risks": [],
            "undoes": done["id"],
            "summary": f"Undo `{done['id']}`: alias *{done['function']}:{done['alias']}* "
            f"v{live['version']}{_w(live['weights'])} → v{restore['version']}{_w(restore['weights'])}",
        }

    def _execute(self, action: dict[str, Any]) -> dict[str, Any]:
        function, proposed = action["function"], action["proposed"]
        if action["kind"] == "redrive":
            return self._execute_redrive(action)
        if action["kind"] == "provisioned":
            provisioned = Provisioned(self.lam)
            if proposed["provisioned"] is None:
                provisioned.delete(function, action["alias"])
                return {"provisioned": None}
            config = provisioned.put(function, action["alias"], proposed["provisioned"])
            return {"provisioned": config["requested"], "status": config["status"]}
        if action["kind"] == "reserved_concurrency":
            if proposed["reserved"] is None:
                self.lam.delete_function_concurrency(FunctionName=function)
            else:
                self.lam.put_function_concurrency(
                    FunctionName=function, ReservedConcurrentExecutions=proposed["reserved"]
                )
            return {"reserved": self._reserved(function)}
        kwargs: dict[str, Any] = {
            "FunctionName": function,
            "Name": action["alias"],
            "FunctionVersion": proposed["version"],
            "RoutingConfig": {"AdditionalVersionWeights": proposed["weights"]},
        }
        if action["before"].get("revision"):
            kwargs["RevisionId"] = action["before"][
                "revision"
            ]  # refuse if someone moved it meanwhile
        result = self.lam.update_alias(**kwargs)
        state = _alias_state(result)
        return {"version": state["version"], "weights": state["weights"]}

    def _execute_redrive(self, action: dict[str, Any]) -> dict[str, Any]:
        proposed = action["proposed"]
        if action["mode"] == "move":
            handle = redrive.MessageMoves(self.sqs).start(action["queue_arn"], proposed["rate"])
            return {"task": handle, "outcome": "move task started"}
        marks = redrive.ReplayMarks(self.log.client, self.log.table, action["queue_arn"])

        def progress(so_far: redrive.ReplayOutcome) -> None:
            self.log.note(action["id"], progress={"replayed": so_far.handled})

        result = redrive.replay(
            sqs=self.sqs,
            lam=self.lam,
            marks=marks,
            queue_url=action["queue_url"],
            owner=action.get("owner"),
            limit=proposed["max"],
            rate=proposed["rate"],
            deadline=self.clock() + self.redrive_budget,
            clock=self.clock,
            progress=progress,
        )
        left = self._queue(action["queue"])
        after = {
            "replayed": result.replayed,
            "already_replayed": result.already_replayed,
            "unroutable": len(result.unroutable),
            "failed": result.failed[:10],
            "left": left["depth"] + left["in_flight"],
            "stopped_early": result.stopped_early,
        }
        complete = not (result.stopped_early or result.unroutable or result.failed)
        after["outcome"] = "ok" if complete else "partial"
        return after

    # --- guardrails and lookups -------------------------------------------------------------

    def _pool_risks(self, extra: int, what: str) -> list[str]:
        """Refuse `extra` executions that would leave the account under 100 unreserved."""
        if extra <= 0:
            return []
        try:
            from chalicelib.diagnosis.gather import account_concurrency

            _, unreserved = account_concurrency(self.lam)
        except Exception as exc:
            return [
                f"could not read the account's unreserved pool ({error_code(exc)}): "
                "the 100-execution headroom was not checked"
            ]
        if unreserved is not None and extra > unreserved - KEEP_UNRESERVED:
            raise Refused(
                f"{extra} more {what} executions would leave fewer than {KEEP_UNRESERVED} "
                f"unreserved in the account (unreserved now: {unreserved})"
            )
        return []

    def _queue(self, name: str) -> dict[str, Any]:
        queue = self._find_queue(name)
        if queue is None:
            raise UsageError(f"no queue `{name}` in this account and region")
        return queue

    def _find_queue(self, name: str) -> dict[str, Any] | None:
        """Depth and identity of a queue by name; None when there is no such queue."""
        try:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "QueueArn",
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
        except Exception as exc:
            if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                return None
            raise UpstreamFailure("sqs", str(exc), error_code(exc)) from exc
        return {
            "name": name,
            "url": url,
            "arn": attrs["QueueArn"],
            "depth": int(attrs.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }

    def _dlq_sources(self, url: str) -> list[str]:
        from chalicelib.diagnosis.gather import dead_letter_sources

        return dead_letter_sources(self.sqs, url)

    def _reserve_risks(self, current: int | None, target: int | None) -> list[str]:
        risks = []
        if target == 0:
            risks.append(
                "`reserve 0` is a kill switch: the function stops running; async events go "
                "straight to its DLQ or on-failure destination, or are dropped if it has none"
            )
        if target:
            risks += self._pool_risks(target - (current or 0), "reserved")
        return risks

    def _rollback_target(self, function: str, alias: str, current: str) -> str:
        for past in self.log.history(function, limit=50):
            if (
                past.get("kind") == "alias"
                and past.get("alias") == alias
                and past["status"] == "done"
                and past["after"]["version"] == current
                and past["before"]["version"] != current
            ):
                return str(past["before"]["version"])
        versions = [int(v["Version"]) for v in self._versions(function) if v["Version"].isdigit()]
        older = [v for v in versions if current.isdigit() and v < int(current)]
        if not older:
            raise Refused(f"no published version older than v{current} to roll back to")
        return str(max(older))

    def _published(self, function: str, version: str) -> str:
        if version not in {v["Version"] for v in self._versions(function)}:
            raise UsageError(f"*{function}* has no published version {version}")
        return version

    def _versions(self, function: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=function
        ):
            out.extend(page.get("Versions", []))
        return out

    def _function(self, function: str | None) -> dict[str, Any]:
        try:
            return dict(self.lam.get_function(FunctionName=function)["Configuration"])
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise UsageError(f"no function `{function}` in this account and region") from exc
            raise UpstreamFailure("lambda", str(exc), error_code(exc)) from exc

    def _alias(self, function: str | None, alias: str | None) -> dict[str, Any]:
        try:
            return dict(self.lam.get_alias(FunctionName=function, Name=alias))
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise UsageError(f"*{function}* has no alias `{alias}`") from exc
            raise UpstreamFailure("lambda", str(exc), error_code(exc)) from exc

    def _reserved(self, function: str | None) -> int | None:
        value = self.lam.get_function_concurrency(FunctionName=function).get(
            "ReservedConcurrentExecutions"
        )
        return None if value is None else int(value)


def _alias_state(alias: dict[str, Any]) -> dict[str, Any]:
    """An alias (GetAlias/UpdateAlias response) as recorded: version, canary weights, revision."""
    return {
        "version": alias["FunctionVersion"],
        "weights": (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {},
        "revision": alias.get("RevisionId"),
    }


def _r(value: int | None) -> str:
    return "unreserved" if value is None else str(value)


def _p(value: int | None) -> str:
    return "none" if value is None else str(value)


def _sample(body: str) -> str:
    """A message as it would be replayed: a destination record's payload, else the body."""
    target = redrive.target_of(body, "-")
    if target is None or isinstance(target.payload, str):
        return body
    return json.dumps(target.payload, separators=(",", ":"))


def _redrive_result(action: dict[str, Any], after: dict[str, Any], user: str) -> str:
    head = f"<@{user}> ran `{action['command']}` (`{action['id']}`)"
    if action["mode"] == "move":
        return (
            f":white_check_mark: {head}: moving {action['before']['depth']} message(s) from "
            f"`{action['queue']}` back to `{'`, `'.join(action['proposed']['destination'])}`; "
            f"progress in `/ops status {action['queue']}`"
        )
    lines = [
        f"{head}: replayed {after['replayed']} message(s) into "
        f"`{'`, `'.join(action['proposed']['destination'])}`"
        + (
            f", deleted {after['already_replayed']} replayed earlier"
            if after["already_replayed"]
            else ""
        ),
    ]
    if after["unroutable"]:
        lines.append(f"{after['unroutable']} message(s) name no function and stay in the queue")
    if after["failed"]:
        lines.append("Lambda refused: " + "; ".join(after["failed"]))
    if after["stopped_early"]:
        lines.append("Stopped at the time budget before the end")
    if after.get("left"):
        lines.append(
            f"{after['left']} message(s) left in `{action['queue']}`; nothing was lost: run "
            f"`/ops redrive {action['queue']}` again to go on"
        )
    icon = ":white_check_mark:" if after["outcome"] == "ok" else ":warning:"
    return f"{icon} " + "\n".join(lines)


def _w(weights: dict[str, float]) -> str:
    return "".join(f" (+{float(w):.0%} to v{v})" for v, w in weights.items())


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _buttons(buttons: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    elements = []
    for label, action_id, value, style in buttons:
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "value": value,
            "text": {"type": "plain_text", "text": label},
        }
        if style:
            element["style"] = style
        elements.append(element)
    return {"type": "actions", "elements": elements}
