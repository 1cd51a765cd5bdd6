"""The read-only queries the dashboard asks the engine: jobs per status of a queue, what placed
attempts hold, dependents, and an array's children's statuses in index order."""

from __future__ import annotations

from engine_kit import ce_arn, queue_arn

from emulator.engine.engine import PlacedUsage
from emulator.engine.records import Dependency, JobStatus

S = JobStatus
LONG = {"BATCH_EMULATOR_DURATION_MS": "10000"}
FAIL = {"BATCH_EMULATOR_EXIT_CODE": "1"}


def test_count_jobs_counts_each_status_of_the_queue(world):
    world.submit("runs", env=LONG)
    world.submit("fails", env=FAIL)
    world.submit("waits")  # submitted after the pass below: still SUBMITTED
    world.passes(3)
    world.submit("new")
    counts = world.engine.count_jobs(queue_arn("queue"))
    assert counts == {
        S.SUBMITTED: 1, S.PENDING: 0, S.RUNNABLE: 0, S.STARTING: 0, S.RUNNING: 1, S.SUCCEEDED: 1, S.FAILED: 1,
    }  # fmt: skip


def test_count_jobs_of_an_unknown_queue_is_all_zeros(world):
    assert set(world.engine.count_jobs(queue_arn("nope")).values()) == {0}


def test_placed_usage_sums_what_running_attempts_hold_and_frees_it_when_they_end(world):
    world.submit("a", env=LONG, vcpus=2.0)
    world.submit("b", env=LONG, vcpus=0.5)
    world.passes(2)
    assert world.engine.placed_usage() == {ce_arn("ce"): PlacedUsage(vcpus=2.5, memory_mib=4096, gpus=0)}
    world.advance(10_000)
    assert world.engine.placed_usage() == {}


def test_dependents_of_lists_the_jobs_naming_a_job_in_depends_on(world):
    first = world.submit("first", env=LONG)
    second = world.submit("second", depends_on=(Dependency(first.job_id),))
    third = world.submit("third", depends_on=(Dependency(first.job_id), Dependency(second.job_id)))
    assert [job.job_id for job in world.engine.dependents_of(first.job_id)] == [second.job_id, third.job_id]
    assert [job.job_id for job in world.engine.dependents_of(second.job_id)] == [third.job_id]
    assert world.engine.dependents_of(third.job_id) == []


def test_dependents_are_forgotten_on_reset(world):
    first = world.submit("first")
    world.submit("second", depends_on=(Dependency(first.job_id),))
    world.engine.reset()
    assert world.engine.dependents_of(first.job_id) == []


def test_child_statuses_follow_the_children_in_index_order(world):
    parent = world.submit("array", array_size=3, env=LONG)
    assert world.engine.child_statuses(parent.job_id) == []  # not spawned yet
    world.passes(3)
    assert world.engine.child_statuses(parent.job_id) == [S.RUNNING] * 3
    world.engine.request_terminate(f"{parent.job_id}:1", "stop one")
    world.passes(2)
    assert world.engine.child_statuses(parent.job_id) == [S.RUNNING, S.FAILED, S.RUNNING]


def test_child_statuses_of_a_job_that_is_no_array_is_none(world):
    job = world.submit("single")
    assert world.engine.child_statuses(job.job_id) is None
    assert world.engine.child_statuses("unknown") is None
