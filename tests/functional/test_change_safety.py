"""What runs is what was previewed: stale and expired previews, guardrails at Confirm, undo that
will not discard a newer change, and outcomes told truthfully when the record cannot be written."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib import markup
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.store.memory import MemoryTable
from devtools import fleet
from devtools.fleet.seeder import Seeder
from tests.functional.conftest import SlackOps, answer_as_aws
from tests.functional.test_ops_commands import action_id

FN = "payments-capture"  # the throttling scenario: reserved concurrency 5
OPERATOR, OTHER = "UOPERATOR", "UOTHER"


def bot(aws: boto3.Session, **settings: Any) -> tuple[SlackOps, Container]:
    container = Container(Settings(operators=(OPERATOR, OTHER), **settings), aws)
    return SlackOps(container), container


def reserved(aws: boto3.Session, function: str = FN) -> int | None:
    found = aws.client("lambda").get_function_concurrency(FunctionName=function)
    value = found.get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


def preview(ops: SlackOps, text: str, user: str = OPERATOR) -> str:
    shown = ops.run(text, user)
    return action_id({"blocks": shown.blocks}, "ops_confirm")


def test_confirm_after_someone_else_changed_the_value_is_refused_and_the_newer_value_kept(
    aws: boto3.Session,
) -> None:
    fleet.seed(["throttling"], aws)
    ops, _ = bot(aws)
    stale = preview(ops, f"concurrency {FN} reserve 15")
    aws.client("lambda").put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=40)

    reply = ops.confirm(stale, OPERATOR)

    assert reserved(aws) == 40
    assert "was not run" in reply.text
    assert "is 40 now; the preview read 5" in reply.text
    assert "40 → 15" in reply.text  # the same command previewed afresh
    fresh = action_id({"blocks": reply.blocks}, "ops_confirm")
    assert fresh != stale
    recorded = ops.log.get(stale)
    assert recorded is not None and recorded.status == "stale"
    assert "stale" in ops.run("history", OPERATOR).text

    assert ":white_check_mark:" in ops.confirm(fresh, OPERATOR).text
    assert reserved(aws) == 15


def test_a_preview_expires(aws: boto3.Session) -> None:
    fleet.seed(["throttling"], aws)
    ops, container = bot(aws, preview_ttl_s=900)
    action = preview(ops, f"concurrency {FN} reserve 15")
    proposed = container.action_log.clock()
    container.action_log.clock = lambda: proposed + 901

    reply = ops.confirm(action, OPERATOR)

    assert "previews expire after 15 min" in reply.text
    assert reserved(aws) == 5


def test_a_guardrail_that_fails_by_confirm_time_refuses(aws: boto3.Session) -> None:
    fleet.seed(["throttling"], aws)
    ops, container = bot(aws)
    account = {
        "AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 995}
    }
    answer_as_aws(container.aws.client("lambda"), "GetAccountSettings", account)
    action = preview(ops, f"concurrency {FN} reserve 880")  # leaves 110 unreserved: within
    Seeder(aws).function("batch-importer", reserved=50)  # someone else took 50 meanwhile
    account["AccountLimit"] = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 945}

    reply = ops.confirm(action, OPERATOR)

    assert "Refused" in reply.text and "fewer than 100 unreserved" in reply.text
    assert reserved(aws) == 5
    recorded = ops.log.get(action)
    assert recorded is not None and recorded.status == "stale"


def test_undo_refuses_to_discard_a_newer_change_and_names_it(aws: boto3.Session) -> None:
    fleet.seed(["throttling"], aws)
    ops, _ = bot(aws)
    first = preview(ops, f"concurrency {FN} reserve 15")
    done = ops.confirm(first, OPERATOR)
    second = preview(ops, f"concurrency {FN} reserve 40", user=OTHER)
    ops.confirm(second, OTHER)

    reply = ops.run(f"undo {action_id({'blocks': done.blocks}, 'ops_undo')}", OPERATOR)

    assert "Refused" in reply.text
    assert "is 40 now, not 15" in reply.text
    assert f"by `{second}` (<@{OTHER}>" in markup.unmarked(reply.text)
    assert f"/ops concurrency {FN} reserve 5" in reply.text
    assert reserved(aws) == 40


def test_a_second_undo_says_it_was_undone_and_suggests_nothing_that_changes_nothing(
    aws: boto3.Session,
) -> None:
    fleet.seed(["throttling"], aws)
    ops, _ = bot(aws)
    action = preview(ops, f"concurrency {FN} reserve 15")
    ops.confirm(action, OPERATOR)
    undo = action_id({"blocks": ops.run(f"undo {action}", OPERATOR).blocks}, "ops_confirm")
    ops.confirm(undo, OPERATOR)

    again = ops.run(f"undo {action}", OPERATOR)

    assert "Refused" in again.text
    assert f"was already undone by `{undo}`" in again.text
    assert f"/ops undo {undo}" in again.text and "reserve 5" not in again.text
    assert reserved(aws) == 5


def test_undo_names_a_change_made_outside_shepherd(aws: boto3.Session) -> None:
    fleet.seed(["throttling"], aws)
    ops, _ = bot(aws)
    action = preview(ops, f"concurrency {FN} reserve 15")
    ops.confirm(action, OPERATOR)
    aws.client("lambda").delete_function_concurrency(FunctionName=FN)

    reply = ops.run(f"undo {action}", OPERATOR)

    assert "is unreserved now, not 15" in reply.text and "outside Shepherd" in reply.text
    assert reserved(aws) is None


class FailsOnDone(MemoryTable):
    """The action log's store, failing the write that records an action as done."""

    def put(self, item: dict[str, Any], condition: Any = None, *, return_old: bool = False) -> Any:
        if item.get("status") == "done" and str(item["pk"]).startswith("action#"):
            raise ConnectionError("DynamoDB unreachable")
        return super().put(item, condition, return_old=return_old)


def test_a_change_made_is_reported_done_when_its_record_fails_and_repaired_on_next_read(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet.seed(["throttling"], aws)
    ops, container = bot(aws)
    failing = FailsOnDone()
    monkeypatch.setattr(container.action_log, "table", failing)
    action = preview(ops, f"concurrency {FN} reserve 15")

    reply = ops.confirm(action, OPERATOR)

    assert reserved(aws) == 15
    assert ":white_check_mark:" in reply.text and "Shepherd failed" not in reply.text
    assert "action log could not be written" in reply.text
    stuck = ops.log.get(action)
    assert stuck is not None and stuck.status == "executing"
    assert f"`{action}` executing" in ops.run("history", OPERATOR).text  # not missing from it

    monkeypatch.setattr(
        failing,
        "put",
        lambda item, condition=None, **kw: MemoryTable.put(failing, item, condition, **kw),
    )
    later = container.action_log.clock() + 61
    container.action_log.clock = lambda: later
    history = ops.run("history", OPERATOR).text
    assert f"`{action}` done" in history
    repaired = ops.log.get(action)
    assert repaired is not None and repaired.status == "done"
    assert "recorded on repair" in (repaired.outcome or "")
    assert "15 → 5" in ops.run(f"undo {action}", OPERATOR).text


def test_a_stuck_action_whose_change_is_not_in_place_is_repaired_as_failed(
    aws: boto3.Session,
) -> None:
    fleet.seed(["throttling"], aws)
    ops, container = bot(aws)
    action = preview(ops, f"concurrency {FN} reserve 15")
    proposed = container.action_log.get(action)
    assert proposed is not None
    container.action_log.transition(proposed, "executing", confirmed_by=OPERATOR)  # then killed
    later = container.action_log.clock() + 61
    container.action_log.clock = lambda: later

    assert f"`{action}` failed" in ops.run("history", OPERATOR).text
    assert "only a completed action can be undone" in ops.run(f"undo {action}", OPERATOR).text


def test_a_refused_confirm_is_recorded(aws: boto3.Session) -> None:
    fleet.seed(["throttling"], aws)
    ops, _ = bot(aws)
    action = preview(ops, f"concurrency {FN} reserve 15")
    assert "not an operator" in ops.confirm(action, "USTRANGER").text
    history = ops.log.history(FN)
    assert any(
        a.status == "refused" and a.user == "USTRANGER" and "confirm refused" in (a.outcome or "")
        for a in history
    )
    assert reserved(aws) == 5


@pytest.mark.parametrize("change", ["reserve 0", "reserve 2"])
def test_shepherd_will_not_kill_or_throttle_its_own_functions(
    aws: boto3.Session, change: str
) -> None:
    own = "shepherd-prod-api_handler"
    Seeder(aws).function(own, reserved=20)
    ops, _ = bot(aws, own_prefix="shepherd-prod-")

    reply = ops.run(f"concurrency {own} {change}", OPERATOR)

    assert "Refused" in reply.text and "one of Shepherd's own functions" in reply.text
    assert reserved(aws, own) == 20


@pytest.mark.parametrize(
    "change",
    [
        "timeout {own} 1",
        "memory {own} 128",
        "alias {own} live rollback",
        "alias {own} live to 1",
        "concurrency {own} provision 5 --alias live",
        "concurrency {own} reserve 40",
    ],
)
def test_no_change_kind_reaches_shepherd_s_own_functions(aws: boto3.Session, change: str) -> None:
    """`/ops timeout shepherd-prod-api_handler 1` was offered for Confirm: Shepherd broken by a
    command. Every kind that changes a function's configuration is refused on its own."""
    own = "shepherd-prod-api_handler"
    s = Seeder(aws)
    s.function(own, reserved=20, timeout=301, memory=1024, publish=True)
    s.publish(own, (2,))  # version 2
    lam = aws.client("lambda")
    lam.create_alias(FunctionName=own, Name="live", FunctionVersion="2")
    ops, _ = bot(aws, own_prefix="shepherd-prod-")

    reply = ops.run(change.format(own=own), OPERATOR)

    assert "Refused" in reply.text and "one of Shepherd's own functions" in reply.text, reply.text
    assert "ops_confirm" not in json.dumps(reply.blocks or [])  # nothing offered to confirm
    config = lam.get_function_configuration(FunctionName=own)
    assert (config["Timeout"], config["MemorySize"]) == (301, 1024)
    assert lam.get_alias(FunctionName=own, Name="live")["FunctionVersion"] == "2"
    assert reserved(aws, own) == 20


def test_a_preview_made_before_the_guard_is_refused_at_confirm(aws: boto3.Session) -> None:
    """A proposal on a function that became Shepherd's (its prefix configured since) is not run."""
    own = "shepherd-prod-on_alarm"
    Seeder(aws).function(own, timeout=60)
    ops, _ = bot(aws)
    pending = preview(ops, f"timeout {own} 1")
    guarded, _ = bot(aws, own_prefix="shepherd-prod-")

    reply = guarded.confirm(pending, OPERATOR)

    assert "one of Shepherd's own functions" in reply.text
    assert aws.client("lambda").get_function_configuration(FunctionName=own)["Timeout"] == 60


def test_a_rollback_confirmed_after_someone_moved_the_alias_is_previewed_again(
    aws: boto3.Session,
) -> None:
    from chalicelib.aws.dynamodb import create_table

    create_table(aws.client("dynamodb", region_name="eu-west-1"), "shepherd-state")
    fleet.seed(["recent_deploy"], aws)  # checkout-api:live → v3, versions 1–3 published
    ops, _ = bot(aws, region="eu-west-1")
    lam = aws.client("lambda", region_name="eu-west-1")
    rollback = preview(ops, "alias checkout-api live rollback")  # v3 → v2
    lam.update_alias(FunctionName="checkout-api", Name="live", FunctionVersion="1")

    reply = ops.confirm(rollback, OPERATOR)

    assert "alias *checkout-api:live* is at v1 now; the preview read v3" in reply.text
    assert lam.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"] == "1"
