"""Multi-node parallel jobs in the engine (reference §11), with the simulated executor and a
ManualClock: node jobs, the main node first, the others once it runs with its address, the parent
following the main node, stops and retries."""

from __future__ import annotations

from dataclasses import replace

from engine_kit import submission

from emulator.engine.records import JobStatus, MultiNode, NodeSpec, RetryPolicy, TaskContainer, TaskSpec
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


def submit_mnp_tasks(world, num_nodes: int = 2, main: int = 0, **changes):
    """Every node runs an ECS task: an essential `app` and a non-essential `sidecar`."""
    sub = submission("mnp-tasks")
    app = replace(sub.container, environment=(("BATCH_EMULATOR_DURATION_MS", "1000"),), vcpus=0.0)
    sidecar = replace(sub.container, environment=(("BATCH_EMULATOR_EXIT_CODE", "3"),), vcpus=0.0)
    task = TaskSpec(
        "ecs",
        (
            TaskContainer("app", app),
            TaskContainer("sidecar", sidecar, essential=False, depends_on=(("app", "START"),)),
        ),
    )
    totals = replace(sub.container, vcpus=1.0)
    node = NodeSpec(totals, {"ecsProperties": {"taskProperties": [{"containers": []}]}}, task)
    parent_totals = replace(totals, vcpus=float(num_nodes))
    multinode = MultiNode(num_nodes, main, (node,) * num_nodes)
    return world.engine.submit(replace(sub, container=parent_totals, multinode=multinode, **changes))


def test_every_container_of_every_node_task_gets_the_node_variables(world):
    job = submit_mnp_tasks(world, num_nodes=3)
    world.passes(1)
    main_request = requests_by_job(world)[f"{job.job_id}#0"]
    assert [member.name for member in main_request.containers] == ["app", "sidecar"]
    for member in main_request.containers:
        assert member.request.environment["AWS_BATCH_JOB_NODE_INDEX"] == "0"
        assert member.request.environment["AWS_BATCH_JOB_NUM_NODES"] == "3"
        assert member.request.environment["AWS_BATCH_JOB_MAIN_NODE_INDEX"] == "0"
        assert member.request.environment["AWS_BATCH_JOB_ID"] == f"{job.job_id}#0"
        assert "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" not in member.request.environment
        assert member.request.network_group == f"{job.job_id}/1"

    world.passes(1)  # the main node's task runs: the other nodes' tasks start with its address
    address = world.job(f"{job.job_id}#0").current_attempt.private_ipv4
    assert address
    requests = requests_by_job(world)
    for n in (1, 2):
        request = requests[f"{job.job_id}#{n}"]
        assert request.network_group == f"{job.job_id}/1"
        assert [member.name for member in request.containers] == ["app", "sidecar"]
        for member in request.containers:
            assert member.request.environment["AWS_BATCH_JOB_NODE_INDEX"] == str(n)
            assert member.request.environment["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] == address
        assert request.containers[1].depends_on == (("app", "START"),)
        assert not request.containers[1].essential


def test_node_tasks_end_with_per_container_results_and_the_main_node_decides(world):
    job = submit_mnp_tasks(world)
    world.passes(3)
    world.advance(1000)
    world.passes(1)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    for n in (0, 1):
        node = world.job(f"{job.job_id}#{n}")
        assert node.status is JobStatus.SUCCEEDED  # the non-essential sidecar's 3 does not count
        assert [(c.name, c.exit_code) for c in node.attempts[-1].containers] == [("app", 0), ("sidecar", 3)]
        assert node.attempts[-1].exit_code == 0
        assert node.attempts[-1].containers[0].log_stream_name == f"jd/app/{node.attempts[-1].task_id}"
    parent_attempt = world.job(job.job_id).attempts[0]
    assert parent_attempt.exit_code == 0
    assert [(c.name, c.exit_code) for c in parent_attempt.containers] == [("app", 0), ("sidecar", 3)]


def test_failed_essential_container_of_the_main_node_fails_and_retries_the_job(world):
    job = submit_mnp_tasks(world, retry=RetryPolicy(attempts=2))
    world.executor.script(f"{job.job_id}#0", Outcome(exit_code=4, duration_ms=10), Outcome(duration_ms=10))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=10))
    for _ in range(12):
        world.advance(10)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert [a.exit_code for a in world.job(job.job_id).attempts] == [4, 0]
    first, second = world.job(f"{job.job_id}#0").attempts
    assert [(c.name, c.exit_code) for c in first.containers] == [("app", 4), ("sidecar", 4)]
    assert (first.exit_code, second.exit_code) == (4, 0)
    assert world.job(f"{job.job_id}#1").attempts[-1].number == 2
