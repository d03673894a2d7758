"""Runbooks through signed Slack requests on moto and the fake Slack: one plan of several steps,
one Confirm (or approval), run in order, stopped at the first failure, undone in reverse."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.container import Container
from devtools import fleet
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import serve
from tests.functional.test_ops_commands import action_id, answers, click, reserved, slash

OPERATOR, SECOND = "UOPERATOR", "USECOND"
CONFIRM, APPROVE, UNDO = "ops_confirm", "ops_approve", "ops_undo"
FUNCTION = "invoice-mailer"
CHANGES = ("PutFunctionConcurrency", "DeleteFunctionConcurrency", "UpdateAlias")
CHANGES += ("UpdateFunctionConfiguration",)

RUNBOOKS = {
    "runbooks": [
        {
            "name": "steady",
            "description": "Hold the function steady: cap it, roll it back, give it memory",
            "match": {"kinds": ["throttling"], "functions": ["payments-*"]},
            "args": {"reserve": "20"},
            "steps": [
                "concurrency {function} reserve {reserve}",
                "alias {function} live rollback",
                "memory {function} 1024",
            ],
            "links": [{"label": "Dashboard", "url": "https://grafana.example.com/d/{function}"}],
        },
        {
            "name": "replay",
            "match": {"alarms": ["*-never-matches"]},
            "steps": ["redrive {queue}"],
        },
    ]
}


def runbooks_file(tmp_path: Path, doc: dict[str, Any] = RUNBOOKS) -> Path:
    path = tmp_path / "runbooks.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def team(
    monkeypatch: pytest.MonkeyPatch, bot_env: Container, aws: boto3.Session, tmp_path: Path
) -> Iterator[Client]:
    from app import app

    monkeypatch.setenv("SHEPHERD_OPERATORS", f"{OPERATOR},{SECOND}")
    monkeypatch.setenv("SHEPHERD_RUNBOOKS_FILE", str(runbooks_file(tmp_path)))
    fleet.failed_deliveries(aws, count=1)  # invoice-mailer
    fleet.releases(aws)  # versions 1-3, `live` on 3
    serve(aws)
    with Client(app) as client:
        yield client


def state(aws: boto3.Session) -> tuple[int | None, str, int]:
    """(reserved concurrency, `live`'s version, memory) of the function."""
    lam = aws.client("lambda")
    live = lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]
    memory = lam.get_function_configuration(FunctionName=FUNCTION)["MemorySize"]
    return reserved(aws, FUNCTION), live, memory


def changes_made(container: Container) -> list[str]:
    """The change calls the bot's Lambda client makes, in order."""
    made: list[str] = []
    client = container.aws.client("lambda")
    for operation in CHANGES:
        client.meta.events.register(
            f"before-call.lambda.{operation}", lambda model, **_: made.append(model.name)
        )
    return made


def fail(container: Container, operation: str) -> None:
    """Lambda refuses `operation` as it does under a concurrent update."""

    def refuse(**_: Any) -> tuple[Any, dict[str, Any]]:
        error = {"Code": "ResourceConflictException", "Message": "An update is in progress"}
        return SimpleNamespace(status_code=409), {"Error": error, "ResponseMetadata": {}}

    container.aws.client("lambda").meta.events.register(f"before-call.lambda.{operation}", refuse)


def test_three_steps_preview_as_one_plan_run_in_order_and_undo_in_reverse(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    import app

    before = state(aws)
    assert before[:2] == (None, "3")
    made = changes_made(app.container())

    slash(team, slack_url, f"runbook steady function={FUNCTION}")
    [preview] = answers(slack)
    text = preview["text"]
    assert (
        text.index("concurrency invoice-mailer reserve 20")
        < text.index("alias invoice-mailer live rollback")
        < text.index("memory invoice-mailer 1024")
    )
    assert "3 step(s)" in text and ":warning:" in text  # each step's own risks, numbered
    assert any(
        e.get("url") == "https://grafana.example.com/d/invoice-mailer"
        for b in preview["blocks"]
        for e in b.get("elements", [])
    )
    assert state(aws) == before  # a preview changes nothing

    click(team, slack_url, CONFIRM, action_id(preview, CONFIRM))
    done = answers(slack)[-1]
    assert done["response_type"] == "in_channel"
    assert "ran 3 step(s), in order" in done["text"]
    assert made == ["PutFunctionConcurrency", "UpdateAlias", "UpdateFunctionConfiguration"]
    assert state(aws) == (20, "2", 1024)

    slash(team, slack_url, f"history {FUNCTION}")
    history = answers(slack)[-1]["text"]
    for step in ("concurrency invoice-mailer reserve 20", "alias invoice-mailer live rollback"):
        assert step in history  # each step recorded under the function

    made.clear()
    click(team, slack_url, UNDO, action_id(done, UNDO))
    undo = answers(slack)[-1]
    assert "3 step(s) in reverse" in undo["text"]
    click(team, slack_url, CONFIRM, action_id(undo, CONFIRM))
    undone = answers(slack)[-1]
    assert "undid 3 step(s)" in undone["text"]
    assert made == ["UpdateFunctionConfiguration", "UpdateAlias", "DeleteFunctionConcurrency"]
    assert state(aws) == before


def test_a_failing_second_step_stops_the_run_and_leaves_the_first_recorded_and_undoable(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    import app

    before = state(aws)
    fail(app.container(), "UpdateAlias")
    slash(team, slack_url, f"runbook steady function={FUNCTION} reserve=30")
    click(team, slack_url, CONFIRM, action_id(answers(slack)[-1], CONFIRM))
    stopped = answers(slack)[-1]
    text = stopped["text"]
    assert "stopped at step 2 of 3" in text
    assert "ResourceConflictException" in text and "not run" in text
    assert state(aws) == (30, before[1], before[2])  # the first ran, the third did not

    slash(team, slack_url, f"history {FUNCTION}")
    history = answers(slack)[-1]["text"]
    assert "done" in history and "reserve 30" in history  # the first step, recorded
    assert "failed" in history

    from tests.functional.test_alarm_attention import open_home

    open_home(team)  # the stopped run is undoable from the Home tab too
    home = json.dumps(slack.home_views[OPERATOR]["blocks"])
    assert action_id(stopped, UNDO) in [
        e["value"]
        for b in slack.home_views[OPERATOR]["blocks"]
        if b.get("type") in ("actions", "section")
        for e in (b.get("elements") or [b.get("accessory") or {}])
        if e.get("action_id") == UNDO
    ], home

    click(team, slack_url, UNDO, action_id(stopped, UNDO))  # *Undo runbook*: what ran
    undo = answers(slack)[-1]
    assert "1 step(s) in reverse" in undo["text"]
    click(team, slack_url, CONFIRM, action_id(undo, CONFIRM))
    assert state(aws) == before


def test_a_step_that_needs_a_second_operator_makes_the_run_need_one(
    monkeypatch: pytest.MonkeyPatch,
    team: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
) -> None:
    monkeypatch.setenv("SHEPHERD_APPROVALS", "alias")
    serve(aws)
    slash(team, slack_url, f"runbook steady function={FUNCTION}", user=OPERATOR)
    preview = answers(slack)[-1]
    assert preview["response_type"] == "in_channel"
    assert "step 2:" in preview["text"] and "needs a second operator" in preview["text"]
    run = action_id(preview, APPROVE)
    click(team, slack_url, APPROVE, run, user=OPERATOR)
    assert "another operator must approve it" in answers(slack)[-1]["text"]
    assert state(aws)[0] is None
    click(team, slack_url, APPROVE, run, user=SECOND)
    done = answers(slack)[-1]
    assert "approved by" in done["text"] and state(aws)[:2] == (20, "2")

    click(team, slack_url, UNDO, action_id(done, UNDO), user=OPERATOR)  # its undo: two people
    undo = answers(slack)[-1]
    assert undo["response_type"] == "in_channel" and "needs a second operator" in undo["text"]
    click(team, slack_url, APPROVE, action_id(undo, APPROVE), user=OPERATOR)
    assert "another operator must approve it" in answers(slack)[-1]["text"]
    click(team, slack_url, APPROVE, action_id(undo, APPROVE), user=SECOND)
    assert state(aws)[:2] == (None, "3")


def test_a_step_is_never_confirmed_alone_and_a_drifted_step_stops_the_run_before_it_starts(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    import app

    slash(team, slack_url, f"runbook steady function={FUNCTION}")
    run_id = action_id(answers(slack)[-1], CONFIRM)
    run = app.container().action_log.get(run_id)
    assert run is not None
    first_step = run.plan.steps[0]
    click(team, slack_url, CONFIRM, first_step)
    assert "is a step of the runbook run" in answers(slack)[-1]["text"]
    assert state(aws)[0] is None

    aws.client("lambda").update_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="2")
    click(team, slack_url, CONFIRM, run_id)
    stale = answers(slack)[-1]
    assert "was not run" in stale["text"]
    assert state(aws)[0] is None  # step 1 did not run either
    assert action_id(stale, CONFIRM) != run_id  # a fresh preview of the whole run


def test_a_matching_alarm_offers_its_runbook_with_what_the_alarm_fills_in(
    team: Client, slack_url: str, slack: FakeSlack, aws: boto3.Session
) -> None:
    [scenario] = fleet.seed(["throttling"], aws)
    fleet.releases(aws, "payments-capture")
    team.lambda_.invoke("on_alarm", scenario.event)
    [post] = [c.args for c in slack.calls_to("chat.postMessage")]
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [offer] = [b for b in buttons if b["text"]["text"].startswith("Run runbook")]
    assert offer["text"]["text"] == "Run runbook: steady"
    assert offer["value"].startswith("/ops runbook steady function=payments-capture")
    assert not any("replay" in b["text"]["text"] for b in buttons)  # its match does not hold

    click(team, slack_url, offer["action_id"], offer["value"])
    preview = answers(slack)[-1]
    assert "concurrency payments-capture reserve 20" in preview["text"]


def test_runbooks_lists_them_and_a_wrong_runbook_command_says_what_is_wrong(
    team: Client, slack_url: str, slack: FakeSlack
) -> None:
    slash(team, slack_url, "runbooks")
    listed = answers(slack)[-1]["text"]
    assert "steady" in listed and "replay" in listed and "reserve=20" in listed
    assert "/ops runbook steady function=&lt;function&gt;" in listed  # (as sent: Slack shows <>)
    assert "/ops runbook replay queue=&lt;queue&gt;" in listed
    slash(team, slack_url, "runbook stedy function=x")
    assert "did you mean" in answers(slack)[-1]["text"]
    slash(team, slack_url, "runbook steady")
    assert "needs `function=&lt;function&gt;`" in answers(slack)[-1]["text"]  # as sent
    slash(team, slack_url, "runbook steady function=no-such-function")
    refused = answers(slack)[-1]["text"]
    assert "cannot run: step 1" in refused


class Killed(BaseException):
    """Lambda stopping the invocation at its timeout: nothing after it runs."""


def before_the_alias_step(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run `meanwhile` once, as the run reaches its alias step (step 2), before that step runs."""
    from chalicelib.ops.lifecycle import Lifecycle

    real, done = Lifecycle.run_step, []

    def run_step(self: Lifecycle, step: Any, *args: Any, **kw: Any) -> Any:
        if step.command.startswith("/ops alias") and not done:
            done.append(True)
            meanwhile()
        return real(self, step, *args, **kw)

    monkeypatch.setattr(Lifecycle, "run_step", run_step)


def proposed_run(team: Client, slack_url: str, slack: FakeSlack) -> str:
    slash(team, slack_url, f"runbook steady function={FUNCTION}")
    return action_id(answers(slack)[-1], CONFIRM)


def test_a_run_killed_between_steps_is_settled_from_its_steps_and_what_ran_can_be_undone(
    monkeypatch: pytest.MonkeyPatch,
    team: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
) -> None:
    import time

    import app

    container = app.container()
    before = state(aws)

    def killed() -> None:
        raise Killed

    before_the_alias_step(monkeypatch, killed)
    run_id = proposed_run(team, slack_url, slack)
    with pytest.raises(Killed):
        container.ops.confirm(run_id, OPERATOR)
    assert state(aws) == (20, before[1], before[2])
    run = container.action_log.get(run_id)
    assert run is not None and run.status == "executing"

    monkeypatch.setattr(container.action_log, "clock", lambda: time.time() + 400)  # past its run
    slash(team, slack_url, f"undo {run_id}")
    undo = answers(slack)[-1]
    assert "1 step(s) in reverse" in undo["text"]
    settled = container.action_log.get(run_id)
    assert settled is not None and settled.status == "failed"
    assert "stopped before its end" in (settled.outcome or "")
    click(team, slack_url, CONFIRM, action_id(undo, CONFIRM))
    assert state(aws) == before


def test_a_second_click_while_the_run_runs_leaves_it_running_to_its_end(
    monkeypatch: pytest.MonkeyPatch,
    team: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
) -> None:
    """Click B read the run as proposed before click A moved it; B's recheck then finds step 1's
    change and calls it drift. B loses the run's transition, and must not touch its steps."""
    import app

    container = app.container()
    log = container.action_log
    run_id = proposed_run(team, slack_url, slack)
    run = log.get(run_id)
    assert run is not None
    read_by_b = {i: log.get(i) for i in [run_id, *run.plan.steps]}
    second: list[Any] = []

    def click_b() -> None:
        with monkeypatch.context() as m:
            m.setattr(log, "get", lambda i: read_by_b.get(i) or read(i))
            second.append(container.ops.confirm(run_id, SECOND))

    read = log.get
    before_the_alias_step(monkeypatch, click_b)
    done = container.ops.confirm(run_id, OPERATOR)
    assert "already" in second[0].text
    assert "ran 3 step(s)" in done.text
    assert state(aws) == (20, "2", 1024)


def test_undo_runbook_waits_for_the_run_to_finish(
    monkeypatch: pytest.MonkeyPatch,
    team: Client,
    slack_url: str,
    slack: FakeSlack,
    aws: boto3.Session,
) -> None:
    import app
    from chalicelib.errors import Refused

    container = app.container()
    run_id = proposed_run(team, slack_url, slack)
    refused: list[str] = []

    def undo_typed() -> None:
        with pytest.raises(Refused) as raised:
            container.ops.run(f"undo {run_id}", SECOND)
        refused.append(str(raised.value))

    before_the_alias_step(monkeypatch, undo_typed)
    container.ops.confirm(run_id, OPERATOR)
    assert "is executing" in refused[0]
    undo = container.ops.run(f"undo {run_id}", SECOND)
    assert "3 step(s) in reverse" in undo.action.summary


def test_two_setting_changes_on_one_function_run_and_undo_with_lambda_s_revision_ids(
    monkeypatch: pytest.MonkeyPatch,
    aws: boto3.Session,
    bot_env: Container,
    slack_url: str,
    slack: FakeSlack,
    tmp_path: Path,
) -> None:
    """Lambda gives the function a new RevisionId at each update (moto gives none): step 2,
    previewed before step 1 ran, must still run when only the revision moved."""
    from app import app as chalice_app

    doc = {
        "runbooks": [{"name": "size", "steps": ["memory {function} 1024", "timeout {function} 60"]}]
    }
    monkeypatch.setenv("SHEPHERD_RUNBOOKS_FILE", str(runbooks_file(tmp_path, doc)))
    fleet.failed_deliveries(aws, count=1)
    container = serve(aws)
    import chalicelib.aws.lambda_ as lambda_module

    monkeypatch.setattr(lambda_module.time, "sleep", lambda _: None)
    live = {"revision": 1, "reads_in_progress": 0}

    def as_lambda(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """An update returns a new revision InProgress; two reads later it is Successful, and
        its revision moved again (as Lambda does)."""
        if model.name == "UpdateFunctionConfiguration":
            live["revision"] += 1
            live["reads_in_progress"] = 2
            parsed["LastUpdateStatus"] = "InProgress"
        elif model.name == "GetFunctionConfiguration" and live["reads_in_progress"]:
            live["reads_in_progress"] -= 1
            if live["reads_in_progress"]:
                parsed["LastUpdateStatus"] = "InProgress"
            else:
                live["revision"] += 1
        if model.name in ("GetFunctionConfiguration", "UpdateFunctionConfiguration"):
            parsed["RevisionId"] = f"rev-{live['revision']}"

    sent: list[dict[str, Any]] = []

    def lambda_refuses(**_: Any) -> tuple[Any, dict[str, Any]] | None:
        """An update while one is in progress, or with a RevisionId that moved, as Lambda refuses."""
        revision = sent[-1].get("RevisionId")
        if live["reads_in_progress"]:
            code, status = "ResourceConflictException", 409
        elif revision and revision != f"rev-{live['revision']}":
            code, status = "PreconditionFailedException", 412
        else:
            return None
        error = {"Code": code, "Message": "refused as Lambda would"}
        return SimpleNamespace(status_code=status), {"Error": error, "ResponseMetadata": {}}

    lam_client = container.aws.client("lambda")
    lam_client.meta.events.register("after-call.lambda.*", as_lambda)
    lam_client.meta.events.register(
        "before-parameter-build.lambda.UpdateFunctionConfiguration",
        lambda params, **_: sent.append(dict(params)),
    )
    lam_client.meta.events.register(
        "before-call.lambda.UpdateFunctionConfiguration", lambda_refuses
    )
    lam = aws.client("lambda")
    before = lam.get_function_configuration(FunctionName=FUNCTION)
    with Client(chalice_app) as team:
        slash(team, slack_url, f"runbook size function={FUNCTION}")
        click(team, slack_url, CONFIRM, action_id(answers(slack)[-1], CONFIRM))
        done = answers(slack)[-1]
        assert "ran 2 step(s)" in done["text"]
        after = lam.get_function_configuration(FunctionName=FUNCTION)
        assert (after["MemorySize"], after["Timeout"]) == (1024, 60)
        click(team, slack_url, UNDO, action_id(done, UNDO))
        click(team, slack_url, CONFIRM, action_id(answers(slack)[-1], CONFIRM))
        assert "undid 2 step(s)" in answers(slack)[-1]["text"]
    undone = lam.get_function_configuration(FunctionName=FUNCTION)
    assert (undone["MemorySize"], undone["Timeout"]) == (before["MemorySize"], before["Timeout"])


def test_a_value_fills_one_word_of_a_step_and_never_adds_an_option(
    monkeypatch: pytest.MonkeyPatch,
    aws: boto3.Session,
    bot_env: Container,
    slack_url: str,
    slack: FakeSlack,
    tmp_path: Path,
) -> None:
    from app import app as chalice_app

    doc = {
        "runbooks": [
            {"name": "drain", "args": {"rate": "5"}, "steps": ["redrive {queue} --rate '{rate}'"]}
        ]
    }
    monkeypatch.setenv("SHEPHERD_RUNBOOKS_FILE", str(runbooks_file(tmp_path, doc)))
    fleet.failed_deliveries(aws, count=1)
    serve(aws)
    with Client(chalice_app) as team:
        slash(team, slack_url, 'runbook drain queue=invoice-mailer-failed "rate=1 --max 100000"')
        refused = answers(slack)[-1]["text"]
        assert "cannot run: step 1" in refused and "--rate must be a whole number" in refused
        slash(team, slack_url, "runbook drain queue=invoice-mailer-failed rate=2")
        assert "--rate 2" in answers(slack)[-1]["text"]


def test_a_value_cannot_make_a_step_another_change_than_it_is_written_as(
    monkeypatch: pytest.MonkeyPatch,
    aws: boto3.Session,
    bot_env: Container,
    slack_url: str,
    slack: FakeSlack,
    tmp_path: Path,
) -> None:
    from app import app as chalice_app

    doc = {
        "runbooks": [
            {
                "name": "cap",
                "args": {"op": "reserve", "n": "10"},
                "steps": ["concurrency {function} {op} {n}"],
            }
        ]
    }
    monkeypatch.setenv("SHEPHERD_RUNBOOKS_FILE", str(runbooks_file(tmp_path, doc)))
    fleet.failed_deliveries(aws, count=1)
    serve(aws)
    with Client(chalice_app) as team:
        slash(team, slack_url, f"runbook cap function={FUNCTION} op=unreserve n=")
        assert "is not a value" in answers(slack)[-1]["text"]
        slash(team, slack_url, f"runbook cap function={FUNCTION} op=provision n=5")
        refused = answers(slack)[-1]["text"]
        assert "not the change it is written as" in refused or "needs `--alias" in refused
        slash(team, slack_url, f"runbook cap function={FUNCTION} n=12")
        assert "unreserved → 12" in answers(slack)[-1]["text"]
