"""Redrive loses nothing: replays deleted only once accepted; a killed run is finished by a rerun."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.exceptions
from chalice.test import Client

from chalicelib.aws.session import Aws
from chalicelib.container import Container
from chalicelib.ops.replay import replay
from chalicelib.store.replay_marks import ReplayMarks
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import answer_as_aws
from tests.functional.test_ops_commands import action_id, answers, click, slash

QUEUE = "invoice-mailer-failed"


class Killed(Exception):
    """The bot's process dying half-way (a Lambda timeout, a crash)."""


def record_invokes(lam: Any) -> list[dict[str, Any]]:
    """Every payload the bot sent to Lambda's Invoke, seen through botocore's own event hooks."""
    sent: list[dict[str, Any]] = []

    def on_invoke(request: Any, **_: Any) -> None:
        assert request.headers["X-Amz-Invocation-Type"] == b"Event"
        sent.append(json.loads(request.body))

    lam.meta.events.register("before-send.lambda.Invoke", on_invoke)
    return sent


class Death:
    """The process dying at its n-th AWS call: that call and every later one never happen."""

    def __init__(self, clients: list[Any], at: int) -> None:
        self.at, self.calls, self.lock = at, 0, threading.Lock()
        self.killed_at: str | None = None
        for client in clients:
            client.meta.events.register("before-call", self.before_call)

    def before_call(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.calls += 1
            if self.calls == self.at:
                self.killed_at = model.name
            if self.calls >= self.at:
                raise Killed(model.name)


def function_gone(**_: Any) -> tuple[Any, dict[str, Any]]:
    """Lambda's answer when the function was deleted since it failed (moto's stub accepts all)."""
    error = {"Code": "ResourceNotFoundException", "Message": "Function not found"}
    return SimpleNamespace(status_code=404), {"Error": error, "ResponseMetadata": {}}


def depth(aws: boto3.Session, queue: str) -> int:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def run_replay(
    session: boto3.Session, visibility: int = 1, queue: str = QUEUE, **hooks: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """One replay by a fresh process (its own clients); (outcome or None if it died, payloads sent)."""
    aws = Aws(session)
    sent = record_invokes(aws.client("lambda", once=True))
    if "lose_answers" in hooks:
        lam = aws.client("lambda", once=True)
        lam.meta.events.register("before-send.lambda.Invoke", hooks["lose_answers"])
    if hooks.get("refuse"):
        aws.client("lambda", once=True).meta.events.register(
            "before-call.lambda.Invoke", function_gone
        )
    found = aws.sqs().queue(queue)
    assert found is not None
    marks = ReplayMarks(aws.table("shepherd-state"), found.arn)
    if "die_at" in hooks:
        hooks["deaths"].append(
            Death(
                [aws.client("lambda", once=True), aws.client("sqs"), aws.client("dynamodb")],
                hooks["die_at"],
            )
        )
    try:
        outcome = replay(
            sqs=aws.sqs(),
            lam=aws.invoker(),
            marks=marks,
            queue_url=found.url,
            owner=None,
            limit=100,
            allowed={"invoice-mailer:$LATEST"},
            home_account="123456789012",
            rate=500,
            visibility=visibility,
        )
    except Killed:
        outcome = None
    return outcome, sent


def marked(session: boto3.Session, queue: str) -> int:
    found = Aws(session).sqs().queue(queue)
    assert found is not None
    pk = f"replayed#{found.arn}"
    return len(Aws(session).table("shepherd-state").query(pk, 1000))


CALLS_FOR_12 = 22  # receive, marks read, 10 invokes, marks write, delete; then 2 + the second batch


def test_a_replay_killed_at_every_step_loses_nothing_and_repeats_only_the_unmarked(
    aws: boto3.Session,
) -> None:
    """A run dies at its k-th AWS call, for every k; a rerun finishes. Nothing is ever lost, and
    a payload is replayed twice only when Lambda had accepted it but the process died before its
    batch's marks were written (the one window at-least-once leaves): a marked replay never."""
    queues = {k: f"invoice-mailer-failed-{k}" for k in range(1, CALLS_FOR_12 + 1)}
    payloads = {k: fleet.failed_deliveries(aws, queue=q, count=12) for k, q in queues.items()}
    deaths: list[Death] = []
    first = {k: run_replay(aws, queue=q, die_at=k, deaths=deaths) for k, q in queues.items()}
    unmarked = {k: len(first[k][1]) - marked(aws, q) for k, q in queues.items()}
    time.sleep(1.2)  # the dead runs' in-flight messages become visible again
    for k, q in queues.items():
        second, sent_again = run_replay(aws, queue=q)
        assert second is not None
        assert depth(aws, q) == 0, f"died at call {k}: messages left"
        everything = [p["invoiceId"] for p in first[k][1] + sent_again]
        assert set(everything) == {p["invoiceId"] for p in payloads[k]}, f"lost at call {k}"
        doubled = len(everything) - len(set(everything))
        died_at = deaths[k - 1].killed_at
        assert doubled <= unmarked[k], f"died at {died_at} (call {k}): a marked replay sent again"
        if k <= 2:  # before the first invoke: nothing was accepted, nothing may come twice
            assert doubled == 0, f"died at {died_at} (call {k}): replayed twice"


def test_a_lost_answer_from_lambda_is_never_sent_again_by_botocore(aws: boto3.Session) -> None:
    fleet.failed_deliveries(aws, count=3)

    def answer_lost(request: Any, **_: Any) -> None:
        raise botocore.exceptions.ReadTimeoutError(endpoint_url=request.url)

    outcome, sent = run_replay(aws, lose_answers=answer_lost)
    assert len(sent) == 3  # one send per message: no retry of a non-idempotent invoke
    assert len(outcome.unsure) == 3 and outcome.replayed == 0
    time.sleep(1.2)
    assert depth(aws, QUEUE) == 3  # left in the queue, not lost


def test_a_refused_replay_keeps_its_message(aws: boto3.Session) -> None:
    fleet.failed_deliveries(aws, count=3)
    outcome, _ = run_replay(aws, refuse=True)
    assert outcome.replayed == 0
    assert len(outcome.failed) == 3
    assert all("ResourceNotFoundException" in f for f in outcome.failed)
    time.sleep(1.2)
    assert depth(aws, QUEUE) == 3


def test_redrive_of_destination_records_previews_then_replays_every_message(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    bot_env: Container,
) -> None:
    payloads = fleet.failed_deliveries(aws, count=6)
    slash(client, slack_url, f"redrive {QUEUE} --rate 50")
    preview = answers(slack)[0]
    assert "Replay 6 of 6" in preview["text"]
    assert "invoice-mailer" in preview["text"]
    assert "INV-209" in preview["text"]  # sample messages are shown
    assert depth(aws, QUEUE) == 6  # the preview changed nothing
    sent = record_invokes(bot_env.aws.client("lambda", once=True))
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    result = answers(slack)[1]
    assert "replayed 6 message(s)" in result["text"]
    assert depth(aws, QUEUE) == 0
    assert sorted(p["invoiceId"] for p in sent) == sorted(p["invoiceId"] for p in payloads)
    slash(client, slack_url, f"history {QUEUE}")
    assert "done" in answers(slack)[2]["text"]


def test_redrive_max_limits_the_replay_and_says_what_is_left(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.failed_deliveries(aws, count=5)
    slash(client, slack_url, f"redrive {QUEUE} --max 2 --rate 50")
    click(client, slack_url, "ops_confirm", action_id(answers(slack)[0], "ops_confirm"))
    result = answers(slack)[1]["text"]
    assert "replayed 2 message(s)" in result
    assert "3 message(s) left" in result
    assert depth(aws, QUEUE) == 3


def test_redrive_of_a_queue_dlq_uses_a_message_move_back_to_its_source(
    client: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
    bot_env: Container,
) -> None:
    fleet.seed(["dlq_backlog"], aws)
    sqs = bot_env.aws.client("sqs")
    started: list[dict[str, Any]] = []

    # moto lacks message-move tasks: answer these calls as SQS would
    answer_as_aws(sqs, "ListMessageMoveTasks", {"Results": []})
    answer_as_aws(sqs, "StartMessageMoveTask", {"TaskHandle": "task-1"})
    sqs.meta.events.register(
        "provide-client-params.sqs.StartMessageMoveTask", lambda params, **_: started.append(params)
    )
    slash(client, slack_url, "redrive orders-dlq --rate 20")
    preview = answers(slack)[0]
    assert "Move 23 message(s) from `orders-dlq` back to `orders-queue`" in preview["text"]
    click(client, slack_url, "ops_confirm", action_id(preview, "ops_confirm"))
    assert started and started[0]["MaxNumberOfMessagesPerSecond"] == 20
    assert action_id(answers(slack)[1], "ops_cancel_move")


def test_redrive_max_on_a_queue_dlq_is_a_usage_error(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.seed(["dlq_backlog"], aws)
    slash(client, slack_url, "redrive orders-dlq --max 5")
    assert "`--max` applies to replays" in answers(slack)[0]["text"]


def test_redrive_of_an_unknown_queue_is_a_clear_answer(
    client: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(client, slack_url, "redrive ghost-dlq")
    assert "no queue `ghost-dlq`" in answers(slack)[0]["text"]


def test_redrive_by_a_stranger_is_refused_and_nothing_moves(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.failed_deliveries(aws, count=2)
    slash(client, slack_url, f"redrive {QUEUE}", user="USTRANGER")
    assert "Refused" in answers(slack)[0]["text"]
    assert depth(aws, QUEUE) == 2


def test_a_redrive_cannot_be_undone_and_says_why(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    fleet.failed_deliveries(aws, count=1)
    slash(client, slack_url, f"redrive {QUEUE}")
    action = action_id(answers(slack)[0], "ops_confirm")
    click(client, slack_url, "ops_confirm", action)
    slash(client, slack_url, f"undo {action}")
    assert "cannot be undone" in answers(slack)[2]["text"]


def test_a_mixed_dlq_replays_only_into_the_functions_previewed_and_authorised(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    from chalicelib.ops.operators import Rule
    from devtools.fleet.events import destination_record

    payloads = fleet.failed_deliveries(aws, count=4)  # invoice-mailer: the operator may
    fleet.seed(["throttling"], aws)  # payments-capture: only the payments on-call may
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    elsewhere = "arn:aws:lambda:us-east-1:999999999999:function:invoice-mailer:$LATEST"
    payments = "arn:aws:lambda:us-east-1:123456789012:function:payments-capture:$LATEST"
    for arn, n in ((payments, 3), (elsewhere, 2)):
        for i in range(n):
            record = destination_record(arn, {"n": i}, datetime.now(UTC), error="boom")
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    bot_env.operators.rules = (Rule(("payments-*",), ("UPAYMENTS",), "payments on-call"),)
    sent = record_invokes(bot_env.aws.client("lambda", once=True))

    slash(client, slack_url, f"redrive {QUEUE} --rate 100")
    preview = answers(slack)[0]["text"]
    assert "into `invoice-mailer:$LATEST`" in preview
    assert "Left in the queue: records for `payments-capture`" in preview
    assert "999999999999:invoice-mailer:$LATEST` (another account" in preview
    click(client, slack_url, "ops_confirm", action_id(answers(slack)[0], "ops_confirm"))
    result = answers(slack)[1]["text"]
    assert sorted(p["invoiceId"] for p in sent) == sorted(p["invoiceId"] for p in payloads)
    assert "3 message(s) for functions not previewed or not authorised" in result
    assert "2 message(s) for another account's functions" in result
    time.sleep(1.2)
    assert depth(aws, QUEUE) == 5  # the refused and the foreign records, none lost


def test_a_refused_redrive_reads_no_message(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    fleet.failed_deliveries(aws, count=2)
    receives: list[str] = []
    bot_env.aws.client("sqs").meta.events.register(
        "before-call.sqs.ReceiveMessage", lambda **_: receives.append("receive")
    )
    slash(client, slack_url, f"redrive {QUEUE}", user="USTRANGER")
    assert "Refused" in answers(slack)[0]["text"]
    assert receives == []  # not even a peek: a live queue's receive counts would move


def test_a_live_queue_is_never_peeked_by_redrive_or_by_a_depth_alarm(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    [scenario] = fleet.seed(["dlq_backlog"], aws)  # orders-queue sends its failures to orders-dlq
    sqs = aws.client("sqs")
    live = sqs.get_queue_url(QueueName="orders-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=live, MessageBody='{"orderId": "O-1"}')
    receives: list[Any] = []
    bot_env.aws.client("sqs").meta.events.register(
        "provide-client-params.sqs.ReceiveMessage",
        lambda params, **_: receives.append(params["QueueUrl"]),
    )
    slash(client, slack_url, "redrive orders-queue")
    assert "is a live queue" in answers(slack)[0]["text"]
    message = json.loads(scenario.event["Records"][0]["Sns"]["Message"])
    message["Trigger"]["Dimensions"] = [{"name": "QueueName", "value": "orders-queue"}]
    message["AlarmName"] = "orders-queue-depth"
    client.lambda_.invoke("on_alarm", fleet.sns_event(message))
    assert [u for u in receives if u.endswith("/orders-queue")] == []


def test_a_redrive_stopped_part_way_says_what_was_replayed_deleted_and_left(
    client: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session, bot_env: Container
) -> None:
    fleet.failed_deliveries(aws, count=12)
    deletes = [0]

    def sqs_down_after_the_first_delete(**_: Any) -> tuple[Any, dict[str, Any]] | None:
        deletes[0] += 1
        if deletes[0] == 1:
            return None
        error = {"Code": "InternalError", "Message": "We encountered an internal error."}
        return SimpleNamespace(status_code=500), {"Error": error, "ResponseMetadata": {}}

    bot_env.aws.client("sqs").meta.events.register(
        "before-call.sqs.DeleteMessageBatch", sqs_down_after_the_first_delete
    )
    slash(client, slack_url, f"redrive {QUEUE} --rate 50")
    click(client, slack_url, "ops_confirm", action_id(answers(slack)[0], "ops_confirm"))
    result = answers(slack)[1]["text"]

    assert ":warning:" in result and "Nothing else was changed" not in result
    assert "replayed 12 message(s)" in result
    assert "deleted 10 of them" in result or "deleted 2 of them" in result
    assert "Stopped by an AWS error (InternalError)" in result
    assert "could not be deleted; a rerun deletes them without replaying them" in result
