"""Placement through the engine: capacity, host limit, priorities, blocked reasons (reference §16)."""

from __future__ import annotations

from engine_kit import compute_environment, job_queue, make_world

from emulator.engine import scheduling
from emulator.engine.records import JobStatus, TimeLimitAction

S = JobStatus
LONG = {"BATCH_EMULATOR_DURATION_MS": "100000"}


def test_ce_max_vcpus_limits_concurrent_jobs():
    world = make_world()
    world.engine.put_compute_environment(compute_environment(max_vcpus=4))
    jobs = [world.submit(f"j{i}", env=LONG, vcpus=2) for i in range(3)]
    world.passes(2)
    assert [world.status(j.job_id) for j in jobs] == [S.RUNNING, S.RUNNING, S.RUNNABLE]
    world.advance(100000)  # the first two finish and free their vCPUs
    world.passes()
    assert world.status(jobs[2].job_id) is S.RUNNING


def test_host_max_running_limits_concurrent_attempts():
    world = make_world(max_running=2)
    jobs = [world.submit(f"j{i}", env=LONG) for i in range(3)]
    world.passes(2)
    assert [world.status(j.job_id) for j in jobs] == [S.RUNNING, S.RUNNING, S.RUNNABLE]


def test_fifo_within_a_queue_and_queue_front_order():
    world = make_world(max_running=1)
    jobs = [world.submit(f"j{i}", env=LONG) for i in range(4)]
    world.passes()
    front = world.engine.queue_front(jobs[0].queue_arn)
    assert [j.job_id for j in front] == [j.job_id for j in jobs[1:]]
    assert world.engine.queue_front(jobs[0].queue_arn, limit=1)[0].job_id == jobs[1].job_id


def test_higher_priority_queue_runs_first_on_shared_ce():
    world = make_world(max_running=1)
    world.engine.put_queue(job_queue("high", priority=50))
    low = world.submit("low", env=LONG)
    high = world.submit("high", queue="high", env=LONG)
    world.passes(2)
    assert world.status(high.job_id) is S.RUNNING
    assert world.status(low.job_id) is S.RUNNABLE


def test_ce_order_within_queue():
    world = make_world()
    world.engine.put_compute_environment(compute_environment("first", max_vcpus=1))
    world.engine.put_compute_environment(compute_environment("second", max_vcpus=8))
    world.engine.put_queue(job_queue(ces=("first", "second")))
    a = world.submit("a", env=LONG)
    b = world.submit("b", env=LONG)
    world.passes(2)
    assert world.job(a.job_id).current_attempt.compute_environment_arn.endswith("/first")
    assert world.job(b.job_id).current_attempt.compute_environment_arn.endswith("/second")


def test_disabled_ce_gets_no_new_jobs_but_running_ones_continue():
    world = make_world()
    running = world.submit("running", env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.passes(2)
    world.engine.put_compute_environment(compute_environment(is_enabled=False))
    waiting = world.submit("waiting")
    world.passes(2)
    assert world.status(waiting.job_id) is S.RUNNABLE
    assert world.job(waiting.job_id).status_reason is None
    world.advance(1000)
    assert world.status(running.job_id) is S.SUCCEEDED
    world.engine.put_compute_environment(compute_environment())
    world.passes(2)
    assert world.status(waiting.job_id) is S.SUCCEEDED


def test_job_bigger_than_every_ce_stays_runnable_with_blocked_reason():
    world = make_world()
    big = world.submit("big", vcpus=64)
    small = world.submit("small")
    world.passes(3)
    assert world.status(big.job_id) is S.RUNNABLE
    assert world.job(big.job_id).status_reason == (
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue cannot "
        "meet the CPU requirement of the job."
    )
    assert world.status(small.job_id) is S.RUNNABLE  # FIFO: the head blocks the queue
    assert world.job(small.job_id).status_reason is None


def test_invalid_ces_block_with_action_required():
    world = make_world()
    world.engine.put_compute_environment(compute_environment(is_valid=False))
    job = world.submit()
    world.passes()
    assert world.job(job.job_id).status_reason == scheduling.ACTION_REQUIRED_INVALID_CES


def test_raising_max_vcpus_unblocks_and_clears_reason():
    world = make_world()
    big = world.submit("big", vcpus=64)
    world.passes()
    world.engine.put_compute_environment(compute_environment(max_vcpus=64))
    world.passes()
    assert world.status(big.job_id) is S.STARTING
    assert world.job(big.job_id).status_reason is None


def test_time_limit_action_cancels_blocked_job_after_max_time():
    world = make_world()
    rule = TimeLimitAction("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "RUNNABLE", 600, "CANCEL")
    world.engine.put_queue(job_queue(time_limit_actions=(rule,)))
    big = world.submit("big", vcpus=64)
    small = world.submit("small")
    world.passes()
    assert world.engine.next_wakeup_ms() == 1_000_000 + 600_000
    world.clock.advance(599_999)
    world.passes()
    assert world.status(big.job_id) is S.RUNNABLE
    world.advance(1)
    cancelled = world.job(big.job_id)
    assert cancelled.status is S.FAILED and cancelled.is_cancelled
    assert cancelled.status_reason == (
        "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    )
    assert world.status(small.job_id) is S.STARTING


def test_remove_queue_terminates_its_jobs():
    world = make_world()
    world.engine.put_compute_environment(compute_environment(is_enabled=False))
    job = world.submit()
    world.passes()
    world.engine.remove_queue(job.queue_arn)
    world.passes()
    gone = world.job(job.job_id)
    assert gone.status is S.FAILED and gone.is_terminated
