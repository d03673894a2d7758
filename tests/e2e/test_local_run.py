"""`make run` as a newcomer uses it: `/ops …` typed into the Slack stand-in reaches `chalice local`
signed as Slack signs it, against the moto server and the demo fleet."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

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
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def transcript() -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_", "SHEPHERD_"))}
    env["SHEPHERD_LOCAL_PORT"] = str(free_port())
    done = subprocess.run(
        [sys.executable, "-m", "devtools.demo"],
        input=SESSION,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


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
