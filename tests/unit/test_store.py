"""The store on its in-memory twin, with an injected clock: claims, leases, action transitions."""

from __future__ import annotations

import pytest

from chalicelib.errors import UpstreamFailure
from chalicelib.ops.actions import codecs
from chalicelib.ops.actions.reserve import ReservePlan, ReserveResult
from chalicelib.store.actions import Action, ActionLog
from chalicelib.store.alarm_states import AlarmMessage, AlarmRecord, AlarmStates
from chalicelib.store.audit_runs import AuditRuns
from chalicelib.store.deliveries import LEASE_MARGIN_S, Claim, Deliveries
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


LEASE_S = 60.0  # an attempt's time left


def test_a_delivery_is_claimed_once_and_a_finished_one_is_a_duplicate(
    deliveries: Deliveries, clock: Clock
) -> None:
    assert deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S) is Claim.MINE
    deliveries.complete("alarm-1")
    clock.now += LEASE_S * 10
    assert deliveries.claim("alarm-1", "req-2", clock.now + LEASE_S) is Claim.DONE


def test_another_attempts_live_claim_is_busy_not_done(deliveries: Deliveries, clock: Clock) -> None:
    deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S)
    assert deliveries.claim("alarm-1", "req-2", clock.now + LEASE_S) is Claim.BUSY


def test_a_claim_lapses_with_its_attempts_deadline_and_is_taken_over(
    deliveries: Deliveries, clock: Clock
) -> None:
    deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S)  # killed at its timeout
    clock.now += LEASE_S + LEASE_MARGIN_S - 1
    assert deliveries.claim("alarm-1", "req-2", clock.now + LEASE_S) is Claim.BUSY
    clock.now += 2
    assert deliveries.claim("alarm-1", "req-2", clock.now + LEASE_S) is Claim.TAKEN_OVER
    assert deliveries.claim("alarm-1", "req-3", clock.now + LEASE_S) is Claim.BUSY


def test_the_same_attempt_may_claim_again_when_its_first_answer_was_lost(
    deliveries: Deliveries, clock: Clock
) -> None:
    assert deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S) is Claim.MINE
    assert deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S) is Claim.MINE


def test_a_released_claim_is_taken_over_by_the_retry(deliveries: Deliveries, clock: Clock) -> None:
    deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S)
    deliveries.release("alarm-1", "req-1")
    assert deliveries.claim("alarm-1", "req-2", clock.now + LEASE_S) is Claim.TAKEN_OVER


def test_an_attempt_never_releases_another_attempts_claim(
    deliveries: Deliveries, clock: Clock
) -> None:
    deliveries.claim("alarm-1", "req-1", clock.now + LEASE_S)
    deliveries.release("alarm-1", "req-2")
    assert deliveries.claim("alarm-1", "req-3", clock.now + LEASE_S) is Claim.BUSY


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


def test_alarm_states_save_and_read_back(clock: Clock) -> None:
    states = AlarmStates(MemoryTable(), clock)
    record = AlarmRecord(
        "arn:alarm", "ALARM", 1_799_999_000.5, 1_799_999_000.5, AlarmMessage("C1", "171.5", [])
    )
    states.save(record)
    assert states.get("arn:alarm") == record
    assert states.get("arn:other") is None


def test_one_attempt_at_a_time_holds_an_alarm_and_the_next_waits_then_fails(clock: Clock) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    table = MemoryTable()
    states = AlarmStates(table, clock, sleep)
    with states.hold("arn:alarm", "req-1", clock.now + 60):
        other = AlarmStates(table, clock, sleep)
        with (
            pytest.raises(UpstreamFailure, match="retry later"),
            other.hold("arn:alarm", "req-2", clock.now + 60),
        ):
            pass
        assert sum(slept) >= 30
    with states.hold("arn:alarm", "req-2", clock.now + 60):
        pass  # released: the next attempt gets it at once


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
