"""What `/ops` does: read-only answers at once; every change previewed, confirmed, recorded, undoable."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.aws import Aws, error_code
from chalicelib.errors import Refused, UpstreamFailure, UsageError
from chalicelib.ops.grammar import USAGE, Command, parse
from chalicelib.state import ActionLog

KEEP_UNRESERVED = 100  # Lambda keeps 100 of the account's concurrency unreserved
CONFIRM, CANCEL, UNDO = "ops_confirm", "ops_cancel", "ops_undo"
NOT_YET = {
    "redrive": "redrive is not available in this version of Shepherd yet",
    "provision": "provisioned concurrency changes are not available in this version of Shepherd yet",
    "unprovision": "provisioned concurrency changes are not available in this version of Shepherd yet",
    "audit": "the IAM wildcard audit is not available in this version of Shepherd yet",
}


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None


class Ops:
    def __init__(self, aws: Aws, log: ActionLog, is_operator: Callable[[str], bool]) -> None:
        self.aws = aws
        self.log = log
        self.is_operator = is_operator

    @property
    def lam(self) -> Any:
        return self.aws.client("lambda")

    # --- entry points -----------------------------------------------------------------------

    def run(self, text: str, user: str) -> Reply:
        try:
            command = parse(text)
            if command.verb in NOT_YET:
                return Reply(f":construction: {NOT_YET[command.verb]}.")
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
        if not self.is_operator(user):
            return Reply(f":no_entry: Refused: <@{user}> is not an operator; nothing was changed.")
        action = self.log.transition(action_id, "proposed", "executing", confirmed_by=user)
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
        self.log.transition(action_id, "executing", "done", after=after, outcome="ok")
        text = f":white_check_mark: <@{user}> ran `{action['command']}` (`{action_id}`): {action['summary']}"
        return Reply(text, [_section(text), _buttons([("Undo", UNDO, action_id, None)])])

    def cancel(self, action_id: str, user: str) -> Reply:
        if self.log.transition(action_id, "proposed", "cancelled", cancelled_by=user) is None:
            return Reply(f"Action `{action_id}` can no longer be cancelled.")
        return Reply(f"Cancelled `{action_id}`; nothing was changed.")

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
        config = self._function(c.target)
        aliases = self.lam.list_aliases(FunctionName=c.target).get("Aliases", [])
        reserved = self._reserved(c.target)
        lines = [
            f"*{c.target}* · {config.get('Runtime')} · {config.get('MemorySize')} MB · timeout {config.get('Timeout')} s",
            f"Reserved concurrency: {'none' if reserved is None else reserved}",
            "Aliases: "
            + (", ".join(f"`{a['Name']}` → v{a['FunctionVersion']}" for a in aliases) or "none"),
        ]
        dlq = (config.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            lines.append(f"DLQ: `{dlq.rsplit(':', 1)[-1]}`")
        return Reply("\n".join(lines))

    def _show_diagnose(self, c: Command) -> Reply:
        from chalicelib.diagnosis.gather import gather
        from chalicelib.diagnosis.rules import diagnose
        from chalicelib.events.ondemand import on_demand_alarm
        from chalicelib.slack.render import headline, render

        self._function(c.target)
        diagnosis = diagnose(gather(on_demand_alarm(c.target or "", self.aws), self.aws))
        return Reply(headline(diagnosis), render(diagnosis))

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
        if not self.is_operator(user):
            self.log.record_refusal({**action, "outcome": "not an operator"})
            raise Refused(
                f"<@{user}> is not an operator (SHEPHERD_OPERATORS); nothing was changed."
            )
        self.log.create(action)
        risks = "".join(f"\n:warning: {r}" for r in plan["risks"])
        text_out = f"*Preview* `{action['id']}` · `{action['command']}`\n{plan['summary']}{risks}"
        buttons = [
            ("Confirm", CONFIRM, action["id"], "danger" if plan["risks"] else "primary"),
            ("Cancel", CANCEL, action["id"], None),
        ]
        return Reply(text_out, [_section(text_out), _buttons(buttons)])

    def _plan(self, c: Command) -> dict[str, Any]:
        function = c.target or ""
        self._function(function)
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

    def _undo_plan(self, c: Command) -> dict[str, Any]:
        done = self.log.get(c.target or "")
        if done is None:
            raise UsageError(f"no action `{c.target}`; see `/ops history`")
        if done["status"] != "done":
            raise Refused(
                f"action `{c.target}` is {done['status']}: only a completed action can be undone"
            )
        plan: dict[str, Any] = {k: done[k] for k in ("kind", "function") if k in done}
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

    # --- guardrails and lookups -------------------------------------------------------------

    def _reserve_risks(self, current: int | None, target: int | None) -> list[str]:
        risks = []
        if target == 0:
            risks.append(
                "`reserve 0` is a kill switch: the function stops running; async events go "
                "straight to its DLQ or on-failure destination, or are dropped if it has none"
            )
        if target:
            try:
                from chalicelib.diagnosis.gather import account_concurrency

                _, unreserved = account_concurrency(self.lam)
            except Exception as exc:
                risks.append(
                    f"could not read the account's unreserved pool ({error_code(exc)}): "
                    "the 100-execution headroom was not checked"
                )
            else:
                if (
                    unreserved is not None
                    and target > (current or 0) + unreserved - KEEP_UNRESERVED
                ):
                    raise Refused(
                        f"{target} would leave fewer than {KEEP_UNRESERVED} unreserved executions "
                        f"in the account (unreserved now: {unreserved})"
                    )
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
