"""GPU accounting (reference §17.1, §16.3): a host with a fake GPU count, the simulated executor and
a ManualClock. Each placed attempt gets its own GPU indexes; a job waits while too few are free and
is blocked for good when it asks for more than the host has."""

from __future__ import annotations

from dataclasses import replace

from engine_kit import make_world, submission

from emulator.engine.engine import Engine
from emulator.engine.records import JobStatus
from emulator.engine.scheduling import JOB_RESOURCE_REQUIREMENT


def gpu_world(gpus: int):
    world = make_world()
    engine = Engine(
        clock=world.clock,
        executor=world.executor,
        max_running=100,
        new_job_id=world.engine._new_job_id,
        new_task_id=world.engine._new_task_id,
        gpus=gpus,
    )
    for environment in world.engine._environments.values():
        engine.put_compute_environment(environment)
    for queue in world.engine._queues.values():
        engine.put_queue(queue)
    world.engine = engine
    return world


def submit_gpu_job(world, name: str, gpus: int, duration_ms: int = 1000):
    sub = submission(name, env={"BATCH_EMULATOR_DURATION_MS": str(duration_ms)})
    return world.engine.submit(replace(sub, container=replace(sub.container, gpus=gpus)))


def started_requests(world):
    return {run.request.job_id: run.request for run in world.executor._runs.values()}


def test_running_attempts_never_share_a_gpu():
    world = gpu_world(4)
    first = submit_gpu_job(world, "a", 2)
    second = submit_gpu_job(world, "b", 1)
    third = submit_gpu_job(world, "c", 2)
    world.passes(2)
    assert [world.status(j.job_id) for j in (first, second, third)] == [
        JobStatus.RUNNING,
        JobStatus.RUNNING,
        JobStatus.RUNNABLE,
    ]
    requests = started_requests(world)
    assert requests[first.job_id].gpu_ids == (0, 1)
    assert requests[second.job_id].gpu_ids == (2,)
    assert world.job(first.job_id).current_attempt.gpu_ids == (0, 1)
    assert world.job(third.job_id).status_reason is None  # waiting for GPUs, not blocked

    world.advance(1000)  # a and b end, their GPUs come back
    world.passes(1)
    assert world.status(third.job_id) in (JobStatus.STARTING, JobStatus.RUNNING)
    assert world.job(third.job_id).current_attempt.gpu_ids == (0, 1)


def test_job_asking_for_more_gpus_than_the_host_has_is_blocked():
    world = gpu_world(1)
    job = submit_gpu_job(world, "big", 2)
    world.passes(2)
    assert world.status(job.job_id) is JobStatus.RUNNABLE
    assert world.job(job.job_id).status_reason == JOB_RESOURCE_REQUIREMENT


def test_host_without_gpus_blocks_gpu_jobs_but_runs_others():
    world = gpu_world(0)
    gpu_job = submit_gpu_job(world, "gpu", 1)
    world.passes(2)
    assert world.job(gpu_job.job_id).status_reason == JOB_RESOURCE_REQUIREMENT
    other = world.engine.submit(submission("cpu", queue="queue"))
    world.passes(2)
    assert world.status(other.job_id) is JobStatus.RUNNABLE  # behind the blocked head (§16.3)
