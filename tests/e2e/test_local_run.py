"""`make run` as a newcomer uses it: `/ops …` typed into the Slack stand-in reaches `chalice local`
signed as Slack signs it, against the moto server and the demo fleet."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.local_server import wait_until_free
from tests.e2e.processes import demo, demo_env, run_marker, survivors, wait_for_no_survivors

pytestmark = pytest.mark.e2e

SESSION = """\
/ops status invoice-mailer
/ops alias invoice-mailer live rollback
click Confirm
/ops alias invoice-mailer live
click Undo
click Confirm
/ops redrive invoice-mailer-failed --rate 200
click Confirm
/ops history
/ops concurrency invoice-mailer reserve banana
/ops audit
/ops concurrency invoice-mailer provision 5 --alias live
click Confirm
/ops status invoice-mailer
/ops concurrency payments-capture reserve 990
/ops redrive orders-dlq --rate 500
click Confirm
click Acknowledge
/ops snooze orders-processor-duration 1h
click Confirm
/ops timeout orders-processor 30
click Confirm
home
click Run runbook: bad-deploy
click Confirm
click Undo runbook
click Confirm
/ops concurrency orders-processor reserve 0
click Approve
as ULOCALPEER
click Approve
as ULOCALOPS
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Run:
    transcript: str
    code: int
    marker: tuple[str, str]


@pytest.fixture(scope="module")
def port() -> int:
    """One port for every run of this module: a second run on it proves the first let it go."""
    return free_port()


@pytest.fixture(scope="module")
def session(port: int, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The scripted session, typed in and ended with end of input, as `make run < file` does."""
    where = tmp_path_factory.mktemp("demo")
    marker = run_marker()
    with demo(demo_env(port, where, marker), where / "output.txt") as running:
        running.send(SESSION, close=True)
        code = running.wait(stall=90, limit=300)
        return Run(running.text(), code, marker)


@pytest.fixture(scope="module")
def transcript(session: Run) -> str:
    assert session.code == 0, session.transcript[-3000:]
    return session.transcript


def test_nothing_of_the_demo_outlives_the_end_of_input(session: Run, port: int) -> None:
    assert session.code == 0, session.transcript[-3000:]
    assert wait_for_no_survivors(session.marker) == []
    assert wait_until_free(port)


def test_ctrl_c_at_the_prompt_stops_the_server_too_and_frees_the_port(
    session: Run, port: int, tmp_path: Path
) -> None:
    """A second run on the port the first used, stopped as a terminal stops it."""
    marker = run_marker()
    with demo(demo_env(port, tmp_path, marker), tmp_path / "output.txt") as running:
        running.wait_for_output("chalice local serves", timeout=240)
        assert any("devtools.local_server" in p for p in survivors(marker))
        running.interrupt()
        assert running.wait(stall=30, limit=30) == 0, running.tail()
    assert wait_for_no_survivors(marker) == []
    assert wait_until_free(port)


def test_a_busy_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    marker = run_marker()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with demo(demo_env(busy, tmp_path, marker), tmp_path / "output.txt") as running:
            running.send("", close=True)
            assert running.wait(stall=30, limit=60) == 1
            assert f"Port {busy} is in use" in running.text()
            assert "Demo fleet seeded" not in running.text()
    assert wait_for_no_survivors(marker) == []


def test_demo_alarms_are_diagnosed_before_the_prompt(transcript: str) -> None:
    assert "6 alarms diagnosed" in transcript  # five in Shepherd's account, one in staging
    assert "`image-resizer` · us-east-1 · account 210987654321" in transcript
    assert "ops> /ops status invoice-mailer" in transcript


def test_status_answers_from_the_demo_fleet(transcript: str) -> None:
    assert "`live` → v3" in transcript


def test_rollback_is_previewed_confirmed_and_undone(transcript: str) -> None:
    assert "v3 → v2" in transcript
    assert "ran `/ops alias invoice-mailer live rollback`" in transcript
    assert "*invoice-mailer:live* → version 2" in transcript
    assert "v2 → v3" in transcript  # the undo's preview


def test_redrive_replays_every_failed_event(transcript: str) -> None:
    assert "Replay 12 of 12" in transcript
    assert "replayed 12 message(s)" in transcript


def test_a_typo_gets_usage_help(transcript: str) -> None:
    assert "reserved concurrency must be a whole number" in transcript


def test_audit_reports_the_drifted_roles_in_a_thread(transcript: str) -> None:
    assert "IAM wildcard audit" in transcript
    assert "role/legacy-deployer" in transcript
    assert "Anyone may assume the role" in transcript


def test_provisioned_concurrency_is_set_on_the_alias(transcript: str) -> None:
    assert "Provisioned concurrency of *invoice-mailer:live*: none → 5" in transcript
    assert "`live` 5/5 READY" in transcript


def test_reserving_past_the_unreserved_pool_minus_100_is_refused(transcript: str) -> None:
    assert "would leave fewer than 100 unreserved" in transcript


def test_a_queue_dlq_goes_back_with_a_message_move(transcript: str) -> None:
    assert "Move 23 message(s) from `orders-dlq` back to `orders-queue`" in transcript
    assert "moving 23 message(s)" in transcript
    assert "Cancel move" in transcript


def test_each_alarm_has_a_graph_in_its_thread_and_a_sparkline(transcript: str) -> None:
    assert "file: orders-processor: timeout → " in transcript
    saved = transcript.split("file: orders-processor: timeout → ", 1)[1].split()[0]
    assert Path(saved).read_bytes().startswith(b"\x89PNG")
    assert "*DurationMax, last 3 h*: `▁" in transcript


def test_acknowledge_snooze_and_a_timeout_fix_from_the_console(transcript: str) -> None:
    assert "[Acknowledge]" in transcript or "Acknowledge]" in transcript
    assert "Acknowledged the storm: you are on it." in transcript
    assert "Snooze *orders-processor-duration*: not snoozed → muted until" in transcript
    assert "ran `/ops snooze orders-processor-duration 1h`" in transcript
    assert "Timeout of *orders-processor*: 15 s → 30 s" in transcript
    assert "ran `/ops timeout orders-processor 30`" in transcript


def test_the_home_tab_is_printed_by_the_slack_stand_in(transcript: str) -> None:
    home = transcript.rsplit("Home tab of ULOCALOPS", 1)[1]
    assert "Open alarms (5) and storms (1)" in home
    assert "Snoozed (1)" in home and "*orders-processor-duration* until" in home
    assert "`/ops timeout orders-processor 30` · *done*" in home


def test_the_demo_runbook_runs_from_its_alarm_and_is_undone(transcript: str) -> None:
    run = transcript[transcript.index("ops> click Run runbook: bad-deploy") :]
    assert "runbook `bad-deploy`: 2 step(s)" in run
    assert "ran 2 step(s), in order" in run and "v3 → v2" in run
    assert "undid 2 step(s)" in run


def test_the_kill_switch_takes_a_second_operator(transcript: str) -> None:
    two = transcript[transcript.index("ops> /ops concurrency orders-processor reserve 0") :]
    assert "another operator must approve it" in two
    assert "approved by <@ULOCALPEER>" in two
