"""Multi-node parallel jobs in the engine (reference §11), with the simulated executor and a
ManualClock: node jobs, the main node first, the others once it runs with its address, the parent
following the main node, stops and retries."""

from __future__ import annotations

from dataclasses import replace

from engine_kit import submission

from emulator.engine.records import JobStatus, MultiNode, NodeSpec, RetryPolicy
from emulator.executors.simulated import Outcome


def submit_mnp(world, num_nodes: int = 3, main: int = 0, env: dict[str, str] | None = None, **changes):
    sub = submission("mnp", env=env)
    node = NodeSpec(sub.container, {"container": {"image": "busybox"}})
    totals = replace(sub.container, vcpus=sub.container.vcpus * num_nodes)
    return world.engine.submit(
        replace(sub, container=totals, multinode=MultiNode(num_nodes, main, (node,) * num_nodes), **changes)
    )


def requests_by_job(world):
    return {run.request.job_id: run.request for run in world.executor._runs.values()}


def test_main_node_starts_first_and_the_others_get_its_address(world):
    job = submit_mnp(world, env={"BATCH_EMULATOR_DURATION_MS": "5000"})
    world.passes(1)  # RUNNABLE and placed in one pass: the main node starts
    assert world.status(job.job_id) is JobStatus.STARTING
    assert set(requests_by_job(world)) == {f"{job.job_id}#0"}
    main_request = requests_by_job(world)[f"{job.job_id}#0"]
    assert main_request.environment["AWS_BATCH_JOB_NODE_INDEX"] == "0"
    assert main_request.environment["AWS_BATCH_JOB_NUM_NODES"] == "3"
    assert "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" not in main_request.environment
    assert main_request.network_group == f"{job.job_id}/1"

    world.passes(1)  # the main node reports RUNNING: the parent follows, the others start
    assert world.status(job.job_id) is JobStatus.RUNNING
    address = world.job(f"{job.job_id}#0").current_attempt.private_ipv4
    assert address
    requests = requests_by_job(world)
    assert set(requests) == {f"{job.job_id}#{n}" for n in range(3)}
    for n in (1, 2):
        assert (
            requests[f"{job.job_id}#{n}"].environment["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"]
            == address
        )
        assert requests[f"{job.job_id}#{n}"].network_group == f"{job.job_id}/1"
    assert [j.job_id for j in world.engine.list_jobs(queue_arn=job.queue_arn)] == [job.job_id]
    assert len(world.engine.list_jobs(multi_node_job_id=job.job_id)) == 3

    world.passes(1)  # the other nodes report RUNNING; their durations count from here
    world.advance(5000)
    world.passes(1)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert [world.status(f"{job.job_id}#{n}") for n in range(3)] == [JobStatus.SUCCEEDED] * 3
    assert world.job(job.job_id).attempts[0].exit_code == 0


def test_main_node_exit_stops_the_others_and_decides_the_job(world):
    job = submit_mnp(world, num_nodes=2)
    world.executor.script(f"{job.job_id}#0", Outcome(exit_code=2, duration_ms=100))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=60_000))
    world.passes(3)
    world.advance(100)
    assert world.status(job.job_id) is JobStatus.FAILED
    assert world.job(job.job_id).attempts[0].exit_code == 2
    world.passes(1)  # the worker's stop is reported
    worker = world.job(f"{job.job_id}#1")
    assert worker.status is JobStatus.FAILED
    assert worker.attempts[-1].exit_code == 143


def test_failed_main_node_retries_the_whole_job(world):

    job = submit_mnp(world, num_nodes=2, retry=RetryPolicy(attempts=2))
    world.executor.script(f"{job.job_id}#0", Outcome(exit_code=1), Outcome(exit_code=0, duration_ms=10))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=10))
    for _ in range(12):
        world.advance(10)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert [a.exit_code for a in world.job(job.job_id).attempts] == [1, 0]
    main = world.job(f"{job.job_id}#0")
    assert [a.number for a in main.attempts] == [1, 2]
    assert main.status is JobStatus.SUCCEEDED


def test_terminating_the_parent_stops_every_node(world):
    job = submit_mnp(world, num_nodes=2, env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    world.passes(3)
    world.engine.request_terminate(job.job_id, "stop it")
    world.passes(3)
    assert world.status(job.job_id) is JobStatus.FAILED
    assert world.job(job.job_id).status_reason == "stop it"
    assert world.job(job.job_id).is_terminated
    assert [world.status(f"{job.job_id}#{n}") for n in range(2)] == [JobStatus.FAILED, JobStatus.FAILED]
