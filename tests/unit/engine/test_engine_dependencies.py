"""dependsOn: plain, N_TO_N, SEQUENTIAL and failure propagation (reference §9)."""

from __future__ import annotations

import pytest
from engine_kit import make_world

from emulator.engine.records import Dependency, JobStatus
from emulator.executors.simulated import Outcome

S = JobStatus
LONG = {"BATCH_EMULATOR_DURATION_MS": "1000"}
FAIL = {"BATCH_EMULATOR_EXIT_CODE": "1"}


def statuses(job):
    return [status for status, _ in job.transitions]


def test_plain_dependency_waits_in_pending_then_runs(world):
    first = world.submit("first", env=LONG)
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    world.passes(2)
    assert world.status(second.job_id) is S.PENDING
    world.advance(1000)
    assert world.status(first.job_id) is S.SUCCEEDED
    assert world.status(second.job_id) is S.STARTING  # unblocked and placed in the same pass
    world.passes()
    assert statuses(world.job(second.job_id)) == [
        S.SUBMITTED, S.PENDING, S.RUNNABLE, S.STARTING, S.RUNNING, S.SUCCEEDED,
    ]  # fmt: skip


def test_already_succeeded_dependency_is_satisfied_at_once(world):
    first = world.submit("first")
    world.passes(2)
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    world.passes()
    assert statuses(world.job(second.job_id))[:3] == [S.SUBMITTED, S.RUNNABLE, S.STARTING]


def test_failed_dependency_fails_dependants_transitively(world):
    first = world.submit("first", env=FAIL)
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    third = world.submit("third", depends_on=(Dependency(second.job_id),))
    world.passes(2)
    for job in (second, third):
        done = world.job(job.job_id)
        assert done.status is S.FAILED
        assert done.status_reason == "Dependent Job failed"
        assert done.attempts == ()
        assert statuses(done) == [S.SUBMITTED, S.PENDING, S.FAILED]


def test_already_failed_dependency_fails_new_job(world):
    first = world.submit("first", env=FAIL)
    world.passes(2)
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    world.passes()
    assert world.job(second.job_id).status_reason == "Dependent Job failed"


def test_cancelled_dependency_fails_dependant(world):
    first = world.submit("first", depends_on=(Dependency("never-there"),))
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    world.passes()
    world.engine.request_cancel(first.job_id, "stop")
    world.passes()
    assert world.status(second.job_id) is S.FAILED


def test_dependency_on_array_parent_waits_for_whole_array(world):
    array = world.submit("array", array_size=3, env=LONG)
    after = world.submit("after", depends_on=(Dependency(array.job_id),))
    world.passes(2)
    assert world.status(after.job_id) is S.PENDING
    world.advance(1000)
    assert world.status(array.job_id) is S.SUCCEEDED
    assert world.status(after.job_id) is S.STARTING


def test_n_to_n_child_waits_for_matching_child():
    world = make_world()
    first = world.submit("first", array_size=2, env=LONG)
    world.executor.script(f"{first.job_id}:1", Outcome(duration_ms=5000))
    second = world.submit("second", array_size=2, depends_on=(Dependency(first.job_id, "N_TO_N"),))
    world.passes(2)
    world.advance(1000)  # first:0 done, first:1 still running
    assert world.status(f"{second.job_id}:0") is S.STARTING
    assert world.status(f"{second.job_id}:1") is S.PENDING
    world.advance(4000)
    assert world.status(f"{second.job_id}:1") is S.STARTING


def test_n_to_n_child_fails_when_matching_child_fails(world):
    first = world.submit("first", array_size=2)
    world.executor.script(f"{first.job_id}:0", Outcome(exit_code=1))
    second = world.submit("second", array_size=2, depends_on=(Dependency(first.job_id, "N_TO_N"),))
    world.passes(3)
    assert world.job(f"{second.job_id}:0").status_reason == "Dependent Job failed"
    assert world.status(f"{second.job_id}:1") in (S.STARTING, S.RUNNING, S.SUCCEEDED)


def test_sequential_array_runs_children_one_after_another(world):
    array = world.submit("seq", array_size=3, depends_on=(Dependency(None, "SEQUENTIAL"),), env=LONG)
    world.passes(2)
    children = [f"{array.job_id}:{i}" for i in range(3)]
    assert [world.status(c) for c in children] == [S.RUNNING, S.PENDING, S.PENDING]
    world.advance(1000)
    assert [world.status(c) for c in children] == [S.SUCCEEDED, S.STARTING, S.PENDING]


def test_sequential_failure_fails_the_rest_in_one_pass(world):
    array = world.submit("seq", array_size=50, depends_on=(Dependency(None, "SEQUENTIAL"),))
    world.executor.script(f"{array.job_id}:0", Outcome(exit_code=2))
    world.passes(2)
    rest = [world.job(f"{array.job_id}:{i}") for i in range(1, 50)]
    assert all(job.status_reason == "Dependent Job failed" for job in rest)
    parent = world.job(array.job_id)
    assert parent.status is S.FAILED and parent.status_reason == "Array Child Job failed"


# ---- an entry with a job id and a type: a dependency on that job, plus the type's per-index meaning


def test_sequential_array_with_a_job_id_waits_for_that_job_then_runs_in_order(world):
    upstream = world.submit("upstream", env={"BATCH_EMULATOR_DURATION_MS": "5000"})
    array = world.submit(
        "seq", array_size=3, depends_on=(Dependency(upstream.job_id, "SEQUENTIAL"),), env=LONG
    )
    world.passes(2)
    children = [f"{array.job_id}:{i}" for i in range(3)]
    assert world.status(upstream.job_id) is S.RUNNING
    assert [world.status(c) for c in children] == [S.PENDING] * 3
    world.advance(5000)
    assert world.status(upstream.job_id) is S.SUCCEEDED
    assert [world.status(c) for c in children] == [S.STARTING, S.PENDING, S.PENDING]
    world.passes()
    world.advance(1000)
    assert [world.status(c) for c in children] == [S.SUCCEEDED, S.STARTING, S.PENDING]


def test_sequential_array_with_a_job_id_fails_every_child_when_that_job_fails(world):
    upstream = world.submit("upstream", env=FAIL)
    array = world.submit("seq", array_size=3, depends_on=(Dependency(upstream.job_id, "SEQUENTIAL"),))
    world.passes(3)
    children = [world.job(f"{array.job_id}:{i}") for i in range(3)]
    assert [(c.status, c.status_reason, c.attempts) for c in children] == [
        (S.FAILED, "Dependent Job failed", ())
    ] * 3
    parent = world.job(array.job_id)
    assert (parent.status, parent.status_reason) == (S.FAILED, "Array Child Job failed")


@pytest.mark.parametrize("kind", ["SEQUENTIAL", "N_TO_N"])
def test_a_typed_entry_on_a_single_job_is_a_dependency_on_the_job_it_names(world, kind):
    upstream = world.submit("upstream", env=LONG)
    single = world.submit("single", depends_on=(Dependency(upstream.job_id, kind),))
    world.passes(2)
    assert world.status(single.job_id) is S.PENDING
    world.advance(1000)
    assert world.status(upstream.job_id) is S.SUCCEEDED
    assert world.status(single.job_id) is S.STARTING


@pytest.mark.parametrize("kind", ["SEQUENTIAL", "N_TO_N"])
def test_a_typed_entry_on_a_single_job_fails_it_when_the_job_it_names_fails(world, kind):
    upstream = world.submit("upstream", env=FAIL)
    single = world.submit("single", depends_on=(Dependency(upstream.job_id, kind),))
    world.passes(3)
    done = world.job(single.job_id)
    assert (done.status, done.status_reason, done.attempts) == (S.FAILED, "Dependent Job failed", ())
