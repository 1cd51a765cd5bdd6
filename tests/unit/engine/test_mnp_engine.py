"""Multi-node parallel jobs in the engine (reference §11), with the simulated executor and a
ManualClock: node jobs, the main node first, the others together once it runs with its address,
the parent following the main node, the grace the others get once it exits, stops and retries."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine_kit import make_world, submission

from emulator.engine.engine import ESSENTIAL_CONTAINER_EXITED
from emulator.engine.multinode import MAIN_NODE_EXITED
from emulator.engine.records import JobStatus, MultiNode, NodeSpec, RetryPolicy, TaskContainer, TaskSpec
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.simulated import Outcome, SimulatedExecutor

GRACE_MS = 5000  # the engine's default mnp_stop_grace_seconds


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


def record_starts(world) -> list[str]:
    """The job ids the executor is asked to start, in order, from now on."""
    started: list[str] = []
    start = world.executor.start

    def recording(request: ExecutionRequest) -> None:
        started.append(request.job_id)
        start(request)

    world.executor.start = recording
    return started


def test_the_other_nodes_start_together_in_the_pass_that_sees_the_main_node_run(world):
    job = submit_mnp(world, num_nodes=4, env={"BATCH_EMULATOR_DURATION_MS": "5000"})
    started = record_starts(world)
    world.passes(1)
    assert started == [f"{job.job_id}#0"]
    world.passes(1)
    assert started == [f"{job.job_id}#{n}" for n in range(4)]
    main_running_at = world.job(f"{job.job_id}#0").started_at_ms
    assert {world.job(f"{job.job_id}#{n}").transitions[-1] for n in (1, 2, 3)} == {
        (JobStatus.STARTING, main_running_at)
    }


def test_main_node_exit_decides_the_job_and_the_others_are_stopped_after_the_grace(world):
    job = submit_mnp(world, num_nodes=2)
    world.executor.script(f"{job.job_id}#0", Outcome(exit_code=2, duration_ms=100))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=60_000))
    world.passes(3)
    world.advance(100)
    assert world.status(job.job_id) is JobStatus.FAILED
    assert world.job(job.job_id).attempts[0].exit_code == 2
    world.advance(GRACE_MS - 1)
    world.passes(1)
    assert world.status(f"{job.job_id}#1") is JobStatus.RUNNING  # AWS has not noticed yet
    world.advance(1)  # the grace is over: stopped as ECS stops a task (SIGTERM, then SIGKILL)
    world.passes(1)  # the worker's stop is reported
    worker = world.job(f"{job.job_id}#1")
    assert worker.status is JobStatus.FAILED
    assert worker.attempts[-1].exit_code == 143
    assert worker.status_reason == ESSENTIAL_CONTAINER_EXITED
    assert world.engine.next_wakeup_ms() is None  # nothing left to wake for


@pytest.mark.parametrize(
    ("exit_code", "node_status"),
    [(0, JobStatus.SUCCEEDED), (3, JobStatus.FAILED)],
    ids=["exit-0-succeeds", "exit-3-fails"],
)
def test_a_node_that_ends_within_the_grace_keeps_its_own_exit_and_the_job_follows_the_main_node(
    world, exit_code, node_status
):
    """The main node exits at once, before the worker has even run: the worker still starts (it
    was ordered when the main node was seen RUNNING) and runs to its own end."""
    job = submit_mnp(world, num_nodes=2)
    world.executor.script(f"{job.job_id}#1", Outcome(exit_code=exit_code, duration_ms=GRACE_MS - 1000))
    world.passes(2)  # the main node's RUNNING and its exit arrive in one poll
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert world.status(f"{job.job_id}#1") is JobStatus.STARTING
    world.passes(1)
    world.advance(GRACE_MS - 1000)
    worker = world.job(f"{job.job_id}#1")
    assert worker.status is node_status
    assert (worker.attempts[-1].exit_code, worker.status_reason) == (exit_code, ESSENTIAL_CONTAINER_EXITED)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert world.job(job.job_id).attempts[-1].exit_code == 0
    world.advance(GRACE_MS)
    assert world.job(f"{job.job_id}#1") == worker  # the stop found nothing left to stop


def test_with_no_grace_a_node_is_never_started_after_the_main_node_exited():
    world = make_world(mnp_stop_grace_seconds=0)
    job = submit_mnp(world, num_nodes=3)
    started = record_starts(world)
    world.passes(3)  # the main node's RUNNING and its exit arrive in one poll
    assert started == [f"{job.job_id}#0"]
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    for n in (1, 2):
        node = world.job(f"{job.job_id}#{n}")
        assert (node.status, node.status_reason) == (JobStatus.FAILED, MAIN_NODE_EXITED)
        assert node.attempts == ()
    assert world.executor.running_attempt_ids() == []


def test_with_no_grace_running_nodes_are_stopped_when_the_main_node_exits():
    world = make_world(mnp_stop_grace_seconds=0)
    job = submit_mnp(world, num_nodes=2)
    world.executor.script(f"{job.job_id}#0", Outcome(duration_ms=100))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=60_000))
    world.passes(3)
    world.advance(100)
    world.passes(1)
    worker = world.job(f"{job.job_id}#1")
    assert (worker.status, worker.attempts[-1].exit_code) == (JobStatus.FAILED, 143)


def test_a_main_node_that_never_runs_never_starts_the_others(world):
    job = submit_mnp(world, num_nodes=2)
    world.executor.script(f"{job.job_id}#0", Outcome(fail_to_start_reason="CannotPullContainerError: no"))
    started = record_starts(world)
    world.passes(3)
    assert started == [f"{job.job_id}#0"]
    assert world.status(job.job_id) is JobStatus.FAILED
    worker = world.job(f"{job.job_id}#1")
    assert (worker.status, worker.status_reason) == (JobStatus.FAILED, MAIN_NODE_EXITED)


class SlowToStartExecutor(SimulatedExecutor):
    """The simulated executor, except that the attempts of `slow` jobs wait, like a container
    Docker is still creating, and one stopped while waiting ends with no exit code, as under
    Docker."""

    slow: frozenset[str] = frozenset()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: set[str] = set()
        self.reports: list[ExecutionUpdate] = []

    def start(self, request: ExecutionRequest) -> None:
        if request.job_id in self.slow:
            self.waiting.add(request.attempt_id)
        else:
            super().start(request)

    def stop(self, attempt_id: str, reason: str) -> None:
        if attempt_id in self.waiting:
            self.waiting.discard(attempt_id)
            self.reports.append(ExecutionUpdate(attempt_id, UpdateKind.EXITED))
        else:
            super().stop(attempt_id, reason)

    def poll(self) -> list[ExecutionUpdate]:
        reports, self.reports = self.reports, []
        return reports + super().poll()


def test_a_node_whose_container_has_not_started_when_the_grace_ends_fails_as_never_started():
    world = make_world(executor_class=SlowToStartExecutor)
    world.executor.slow = frozenset({"job-1#1"})
    job = submit_mnp(world, num_nodes=2)
    world.passes(2)
    world.advance(GRACE_MS)
    world.passes(1)  # the stop is reported: the container never ran
    worker = world.job(f"{job.job_id}#1")
    assert (worker.status, worker.status_reason) == (JobStatus.FAILED, MAIN_NODE_EXITED)
    assert (worker.attempts[-1].exit_code, worker.attempts[-1].reason) == (None, None)
    assert worker.started_at_ms is None


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


def test_a_retry_starts_once_the_nodes_of_the_failed_attempt_have_ended(world):
    job = submit_mnp(world, num_nodes=2, retry=RetryPolicy(attempts=2))
    world.executor.script(f"{job.job_id}#0", Outcome(exit_code=1, duration_ms=100), Outcome(duration_ms=100))
    world.executor.script(f"{job.job_id}#1", Outcome(duration_ms=60_000), Outcome(duration_ms=10))
    world.passes(3)
    world.advance(100)
    assert world.status(job.job_id) is JobStatus.RUNNABLE
    world.advance(GRACE_MS - 1)
    assert world.status(job.job_id) is JobStatus.RUNNABLE  # the worker of attempt 1 still runs
    assert world.job(f"{job.job_id}#1").current_attempt.number == 1
    world.advance(1)  # stopped
    world.passes(2)  # its end is reported; attempt 2 is placed and its main node runs
    assert world.job(job.job_id).current_attempt.number == 2
    assert world.status(f"{job.job_id}#1") is JobStatus.STARTING
    for _ in range(3):
        world.advance(100)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert [a.exit_code for a in world.job(f"{job.job_id}#1").attempts] == [143, 0]


def test_terminating_the_parent_stops_every_node(world):
    job = submit_mnp(world, num_nodes=2, env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    world.passes(3)
    world.engine.request_terminate(job.job_id, "stop it")
    world.passes(3)  # with no time passing: TerminateJob gives the other nodes no grace
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
