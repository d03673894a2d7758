"""The store on its in-memory twin, with an injected clock: claims, leases, action transitions."""

from __future__ import annotations

import pytest

from chalicelib.ops.actions import codecs
from chalicelib.ops.actions.reserve import ReservePlan, ReserveResult
from chalicelib.store.actions import Action, ActionLog
from chalicelib.store.alarm_threads import AlarmThread, AlarmThreads
from chalicelib.store.audit_runs import AuditRuns
from chalicelib.store.deliveries import LEASE_S, Deliveries
from chalicelib.store.memory import MemoryTable
from chalicelib.store.replay_marks import ReplayMarks


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deliveries(clock: Clock) -> Deliveries:
    return Deliveries(MemoryTable(), clock)


def test_a_delivery_is_claimed_once(deliveries: Deliveries) -> None:
    assert deliveries.claim("alarm-1") is True
    assert deliveries.claim("alarm-1") is False


def test_a_completed_delivery_is_never_claimed_again_even_after_the_lease(
    deliveries: Deliveries, clock: Clock
) -> None:
    deliveries.claim("alarm-1")
    deliveries.complete("alarm-1")
    clock.now += LEASE_S * 10
    assert deliveries.claim("alarm-1") is False


def test_a_pending_claim_is_taken_over_once_its_lease_has_lapsed(
    deliveries: Deliveries, clock: Clock
) -> None:
    deliveries.claim("alarm-1")  # an attempt that crashed before completing or releasing
    clock.now += LEASE_S - 1
    assert deliveries.claim("alarm-1") is False  # still leased to the crashed attempt
    clock.now += 2
    assert deliveries.claim("alarm-1") is True
    assert deliveries.claim("alarm-1") is False  # the takeover holds a fresh lease


def test_a_released_claim_is_processed_by_the_retry(deliveries: Deliveries) -> None:
    deliveries.claim("alarm-1")
    deliveries.release("alarm-1")
    assert deliveries.claim("alarm-1") is True


def _log(clock: Clock) -> ActionLog:
    return ActionLog(MemoryTable(), codecs(), clock)


def _action(action_id: str = "a1") -> Action:
    return Action(
        id=action_id,
        kind="reserved_concurrency",
        user="UOP",
        command="/ops concurrency orders reserve 5",
        target="orders",
        summary="Reserved concurrency of *orders*: unreserved → 5",
        plan=ReservePlan("orders", None, 5),
    )


def test_an_action_moves_proposed_executing_done_and_reads_back_typed(clock: Clock) -> None:
    log = _log(clock)
    log.create(_action())
    proposed = log.get("a1")
    assert proposed is not None and proposed.status == "proposed"
    clock.now += 5
    executing = log.transition(proposed, "executing", confirmed_by="UOP")
    assert executing is not None
    done = log.transition(executing, "done", result=ReserveResult(5), outcome="ok")
    assert done is not None
    stored = log.get("a1")
    assert stored is not None
    assert (stored.status, stored.confirmed_by, stored.result) == ("done", "UOP", ReserveResult(5))
    assert stored.plan == ReservePlan("orders", None, 5)
    assert stored.at["executing"] == clock.now


def test_a_second_confirm_from_a_stale_copy_loses_the_race(clock: Clock) -> None:
    log = _log(clock)
    log.create(_action())
    first = log.get("a1")
    second = log.get("a1")
    assert first is not None and second is not None
    assert log.transition(first, "executing") is not None
    assert log.transition(second, "executing") is None


def test_an_action_id_is_created_once(clock: Clock) -> None:
    from chalicelib.aws.errors import ConditionFailed

    log = _log(clock)
    log.create(_action())
    with pytest.raises(ConditionFailed):
        log.create(_action())


def test_history_lists_finished_and_refused_actions_newest_first_per_target(clock: Clock) -> None:
    log = _log(clock)
    log.create(_action("a1"))
    stored = log.get("a1")
    assert stored is not None
    executing = log.transition(stored, "executing")
    assert executing is not None
    clock.now += 1
    log.transition(executing, "done", result=ReserveResult(5))
    clock.now += 1
    log.record_refusal(_action("a2"), "not an operator")
    assert [a.id for a in log.history("orders")] == ["a2", "a1"]
    assert [a.status for a in log.history()] == ["refused", "done"]
    assert log.history("payments") == []


def test_a_proposal_is_not_history_until_it_finishes(clock: Clock) -> None:
    log = _log(clock)
    log.create(_action())
    assert log.history() == []


def test_alarm_threads_save_read_and_close(clock: Clock) -> None:
    threads = AlarmThreads(MemoryTable(), clock)
    thread = AlarmThread("C1", "171.5", 1_799_999_000.5, [{"type": "divider"}])
    threads.save("arn:alarm", thread)
    assert threads.get("arn:alarm") == thread
    threads.close("arn:alarm")
    assert threads.get("arn:alarm") is None


def test_replay_marks_are_per_queue() -> None:
    table = MemoryTable()
    ReplayMarks(table, "arn:q1").mark("m-1")
    assert ReplayMarks(table, "arn:q1").seen("m-1")
    assert not ReplayMarks(table, "arn:q2").seen("m-1")


def test_audit_runs_keep_the_latest_keys(clock: Clock) -> None:
    runs = AuditRuns(MemoryTable(), clock)
    assert runs.latest() is None
    runs.save(["b", "a"], {"findings": 2})
    assert runs.latest() == ["a", "b"]


def test_history_skips_a_record_no_kind_can_read(clock: Clock) -> None:
    table = MemoryTable()
    log = ActionLog(table, codecs(), clock)
    log.record_refusal(_action("a1"), "not an operator")
    table.put({"pk": "history", "sk": "0" * 17 + "#old", "doc": '{"id": "old", "kind": "gone"}'})
    assert [a.id for a in log.history()] == ["a1"]
