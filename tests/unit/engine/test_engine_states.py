"""The transition table, case by case (reference §6.2, §10)."""

from __future__ import annotations

import pytest
from engine_kit import make_job

from emulator.engine import states
from emulator.engine.records import JobStatus

S = JobStatus
ALL = list(JobStatus)

ALLOWED = {
    (S.SUBMITTED, S.PENDING),
    (S.SUBMITTED, S.RUNNABLE),
    (S.SUBMITTED, S.FAILED),
    (S.PENDING, S.RUNNABLE),
    (S.PENDING, S.FAILED),
    (S.RUNNABLE, S.STARTING),
    (S.RUNNABLE, S.FAILED),
    (S.STARTING, S.RUNNING),
    (S.STARTING, S.RUNNABLE),
    (S.STARTING, S.FAILED),
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.RUNNABLE),
    (S.RUNNING, S.FAILED),
}
ARRAY_PARENT_ALLOWED = {
    (S.SUBMITTED, S.PENDING),
    (S.SUBMITTED, S.FAILED),
    (S.PENDING, S.SUCCEEDED),
    (S.PENDING, S.FAILED),
}


PAIRS = [(a, b) for a in ALL for b in ALL]


@pytest.mark.parametrize(("start", "end"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_table(start, end):
    job = make_job(start)
    if (start, end) in ALLOWED:
        moved = states.apply_transition(job, end, 5)
        assert moved.status is end
        assert moved.transitions == ((end, 5),)
    else:
        with pytest.raises(states.IllegalTransitionError):
            states.apply_transition(job, end, 5)


@pytest.mark.parametrize(("start", "end"), PAIRS, ids=[f"parent:{a}->{b}" for a, b in PAIRS])
def test_array_parent_transition_table(start, end):
    job = make_job(start, array_parent=True)
    if (start, end) in ARRAY_PARENT_ALLOWED:
        assert states.apply_transition(job, end, 5).status is end
    else:
        with pytest.raises(states.IllegalTransitionError):
            states.apply_transition(job, end, 5)


def test_entering_runnable_stamps_runnable_at():
    assert states.apply_transition(make_job(S.SUBMITTED), S.RUNNABLE, 42).runnable_at_ms == 42


@pytest.mark.parametrize("end", [S.SUCCEEDED, S.FAILED], ids=str)
def test_terminal_statuses_stamp_stopped_at(end):
    assert states.apply_transition(make_job(S.RUNNING), end, 99).stopped_at_ms == 99


def test_transition_returns_new_record_and_leaves_old_alone():
    job = make_job(S.SUBMITTED)
    states.apply_transition(job, S.RUNNABLE, 1)
    assert job.status is S.SUBMITTED and job.transitions == ()
