"""Array jobs: children, parent outcome, status summary, cascade, scale (reference §10)."""

from __future__ import annotations

from engine_kit import compute_environment, make_world

from emulator.engine.records import JobStatus
from emulator.executors.simulated import Outcome

S = JobStatus
SUMMARY_KEYS = {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"}


def statuses(job):
    return [status for status, _ in job.transitions]


def test_children_are_spawned_in_pending_and_inherit_the_parent(world):
    parent = world.submit("arr", array_size=3, env={"A": "1"}, timeout_seconds=600)
    assert parent.status is S.SUBMITTED and set(parent.status_summary) == SUMMARY_KEYS
    world.clock.advance(5)
    world.passes()
    children = world.engine.list_jobs(array_job_id=parent.job_id)
    assert sorted(c.job_id for c in children) == [f"{parent.job_id}:{i}" for i in range(3)]
    child = world.job(f"{parent.job_id}:2")
    assert child.transitions[0] == (S.PENDING, 1_000_005)
    assert child.created_at_ms == 1_000_005
    assert (child.array_index, child.array_size, child.parent_job_id) == (2, 3, parent.job_id)
    assert child.name == "arr" and child.queue_arn == parent.queue_arn
    assert child.timeout_seconds == 600 and child.container == parent.container
    assert child.arn.endswith(f"job/{parent.job_id}:2")
    assert world.status(parent.job_id) is S.PENDING


def test_parent_only_lists_top_level_jobs_by_queue(world):
    parent = world.submit("arr", array_size=3)
    world.passes()
    assert [j.job_id for j in world.engine.list_jobs(queue_arn=parent.queue_arn)] == [parent.job_id]


def test_parent_succeeds_when_every_child_succeeds(world):
    parent = world.submit("arr", array_size=3)
    world.passes(2)
    done = world.job(parent.job_id)
    assert done.status is S.SUCCEEDED
    assert statuses(done) == [S.SUBMITTED, S.PENDING, S.SUCCEEDED]
    assert done.status_summary == dict.fromkeys(SUMMARY_KEYS, 0) | {"SUCCEEDED": 3}
    assert done.stopped_at_ms is not None and done.started_at_ms is None


def test_parent_fails_when_a_child_fails_after_all_children_end(world):
    parent = world.submit("arr", array_size=3, env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.executor.script(f"{parent.job_id}:0", Outcome(exit_code=1))
    world.passes(2)
    assert world.status(f"{parent.job_id}:0") is S.FAILED
    assert world.status(parent.job_id) is S.PENDING
    summary = world.job(parent.job_id).status_summary
    assert summary["FAILED"] == 1 and summary["RUNNING"] == 2
    world.advance(1000)
    done = world.job(parent.job_id)
    assert done.status is S.FAILED and done.status_reason == "Array Child Job failed"


def test_status_summary_is_updated_with_a_timestamp(world):
    parent = world.submit("arr", array_size=2, env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.clock.advance(7)
    world.passes()
    job = world.job(parent.job_id)
    assert job.status_summary["STARTING"] == 2
    assert job.status_summary_updated_at_ms == 1_000_007


def test_child_environment_carries_index_and_size(world):
    parent = world.submit("arr", array_size=4, env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.passes(1)
    requests = {r.job_id: r for r in _started_requests(world)}
    env = requests[f"{parent.job_id}:3"].environment
    assert env["AWS_BATCH_JOB_ARRAY_INDEX"] == "3"
    assert env["AWS_BATCH_JOB_ARRAY_SIZE"] == "4"
    assert env["AWS_BATCH_JOB_ID"] == f"{parent.job_id}:3"


def _started_requests(world):
    return [run.request for run in world.executor._runs.values()]


def test_cancel_parent_cascades_to_waiting_children():
    world = make_world(max_running=1)
    parent = world.submit("arr", array_size=3, env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.passes(2)
    world.engine.request_cancel(parent.job_id, "no more")
    world.passes()
    first = world.job(f"{parent.job_id}:0")
    assert first.status is S.RUNNING  # cancel leaves running children alone
    for i in (1, 2):
        child = world.job(f"{parent.job_id}:{i}")
        assert child.status is S.FAILED and child.is_cancelled and child.status_reason == "no more"
    assert world.status(parent.job_id) is S.PENDING
    world.advance(1000)
    done = world.job(parent.job_id)
    assert done.status is S.FAILED and done.is_cancelled and done.status_reason == "no more"


def test_terminate_parent_stops_running_children():
    world = make_world(max_running=1)
    parent = world.submit("arr", array_size=2, env={"BATCH_EMULATOR_DURATION_MS": "100000"})
    world.passes(2)
    world.engine.request_terminate(parent.job_id, "kill")
    world.passes(2)
    for i in (0, 1):
        child = world.job(f"{parent.job_id}:{i}")
        assert child.status is S.FAILED and child.is_terminated and child.status_reason == "kill"
    assert world.job(f"{parent.job_id}:0").attempts[0].exit_code == 143
    done = world.job(parent.job_id)
    assert done.status is S.FAILED and done.is_terminated and done.status_reason == "kill"


def test_cancelling_one_child_fails_the_parent(world):
    world = make_world(max_running=1)
    parent = world.submit("arr", array_size=2)
    world.passes()
    world.engine.request_cancel(f"{parent.job_id}:1", "just this one")
    world.passes(3)
    assert world.status(f"{parent.job_id}:0") is S.SUCCEEDED
    done = world.job(parent.job_id)
    assert done.status is S.FAILED and done.status_reason == "Array Child Job failed"
    assert not done.is_cancelled


def test_cancel_submitted_parent_spawns_nothing(world):
    parent = world.submit("arr", array_size=5)
    world.engine.request_cancel(parent.job_id, "never mind")
    world.passes()
    assert world.job(parent.job_id).status is S.FAILED
    assert world.engine.list_jobs(array_job_id=parent.job_id) == []


def test_ten_thousand_children_complete_in_a_bounded_number_of_passes():
    world = make_world(max_running=20_000)
    world.engine.put_compute_environment(compute_environment(max_vcpus=None))
    parent = world.submit("big", array_size=10_000)
    passes = 0
    while world.status(parent.job_id) is not S.SUCCEEDED and passes < 5:
        world.passes()
        passes += 1
    done = world.job(parent.job_id)
    assert done.status is S.SUCCEEDED, done.status_summary
    assert passes == 2
    assert done.status_summary["SUCCEEDED"] == 10_000
    # Nothing is left in flight: a further pass changes nothing. (Cost is measured by bench/, not
    # asserted here: timings on a shared 2-core machine are too noisy for a test.)
    before = world.job(parent.job_id)
    world.passes()
    assert world.job(parent.job_id) == before


def test_ten_thousand_children_through_limited_capacity_cost_per_pass_stays_small():
    world = make_world(max_running=500)
    world.engine.put_compute_environment(compute_environment(max_vcpus=None))
    parent = world.submit("big", array_size=10_000, env={"BATCH_EMULATOR_DURATION_MS": "10"})
    passes = 0
    while world.status(parent.job_id) is not S.SUCCEEDED and passes < 200:
        world.advance(10)
        passes += 1
    assert world.status(parent.job_id) is S.SUCCEEDED
    assert passes <= 45  # 20 waves of 500, two passes each, plus the first
