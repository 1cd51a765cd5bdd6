"""The engine's write-through to a JobStore and its restart (`restore`), with a ManualClock and the
simulated executor, over the memory and SQLite job stores. A "crash" is an engine dropped without
closing; the restart is a new engine on the same store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.ids import SequentialIds
from emulator.engine.records import (
    ComputeEnvironment,
    ContainerSpec,
    Dependency,
    JobQueue,
    JobStatus,
    JobSubmission,
    MultiNode,
    NodeSpec,
    RetryPolicy,
)
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.simulated import Outcome, SimulatedExecutor
from emulator.stores.jobs import MemoryJobStore
from emulator.stores.sqlite import SqliteJobStore, StateDatabase

ACCOUNT, REGION = "123456789012", "us-east-1"
CE = f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/ce"
QUEUE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/queue"
HOST_LOST = "Host EC2 (instance i-"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MemoryJobStore]:
    if request.param == "memory":
        yield MemoryJobStore()
        return
    database = StateDatabase(tmp_path / "state")
    yield SqliteJobStore(database)
    database.close()


class AdoptingExecutor(SimulatedExecutor):
    """A simulated executor that still "runs" the attempts a previous engine started: adoption
    succeeds for the attempts named, and their outcome is decided by the test."""

    def __init__(self, clock: ManualClock, alive: set[str]) -> None:
        super().__init__(clock)
        self.alive = alive
        self.adopted: list[str] = []
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.reports: list[ExecutionUpdate] = []

    def adopt(self, request: ExecutionRequest) -> bool:
        if request.attempt_id in self.alive:
            self.adopted.append(request.attempt_id)
            return True
        return False

    def start(self, request: ExecutionRequest) -> None:
        self.started.append(request.attempt_id)
        super().start(request)

    def stop(self, attempt_id: str, reason: str) -> None:
        self.stopped.append(attempt_id)
        if attempt_id in self.adopted:
            self.reports.append(ExecutionUpdate(attempt_id, UpdateKind.EXITED, exit_code=143))
        super().stop(attempt_id, reason)

    def poll(self) -> list[ExecutionUpdate]:
        reports, self.reports = self.reports, []
        return reports + super().poll()


@dataclass
class Server:
    clock: ManualClock
    executor: SimulatedExecutor
    engine: Engine

    def submit(self, name: str = "job", *, env: dict[str, str] | None = None, **changes) -> str:
        container = ContainerSpec(image="busybox", command=("true",), environment=tuple((env or {}).items()))
        submission = JobSubmission(
            account_id=ACCOUNT,
            region=REGION,
            name=name,
            queue_arn=QUEUE,
            queue_name="queue",
            definition_arn=f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/jd:1",
            container=container,
            **changes,
        )
        return self.engine.submit(submission).job_id

    def passes(self, count: int = 1) -> None:
        for _ in range(count):
            self.engine.run_pass()

    def job(self, job_id: str):
        return self.engine.get_job(job_id)


def boot(
    store, *, executor: SimulatedExecutor | None = None, clock: ManualClock | None = None, restore=False
):
    clock = clock or ManualClock(1_000_000)
    executor = executor or SimulatedExecutor(clock)
    engine = Engine(
        clock=clock,
        executor=executor,
        max_running=10,
        new_job_id=SequentialIds("job-"),
        new_task_id=SequentialIds("", width=32, hex=True),
        job_store=store,
    )
    engine.put_compute_environment(ComputeEnvironment(CE, "ce", True, True, 16))
    engine.put_queue(JobQueue(QUEUE, "queue", True, 1, (CE,)))
    if restore:
        engine.restore()
    return Server(clock, executor, engine)


def stored(store, job_id: str):
    return next(job for job in store.load_all() if job.job_id == job_id)


def test_a_submitted_job_is_stored_before_submit_returns(store) -> None:
    server = boot(store)
    job_id = server.submit()
    assert stored(store, job_id).status is JobStatus.SUBMITTED


def test_each_pass_commits_what_changed(store) -> None:
    server = boot(store)
    job_id = server.submit()
    server.passes(3)
    assert server.job(job_id).status is JobStatus.SUCCEEDED
    assert stored(store, job_id) == server.job(job_id)


def test_without_a_store_nothing_is_tracked() -> None:
    server = boot(None)
    job_id = server.submit()
    server.passes(3)
    assert server.job(job_id).status is JobStatus.SUCCEEDED
    assert server.engine.restore() == []


def test_a_restart_resumes_queued_jobs_in_their_order(store) -> None:
    server = boot(store)
    server.engine.put_compute_environment(ComputeEnvironment(CE, "ce", False, True, 16))  # jobs wait
    first, second = server.submit("first"), server.submit("second")
    waiting = server.submit("waiting", depends_on=(Dependency(first),))
    server.passes()
    restarted = boot(store, restore=True)
    assert [j.job_id for j in restarted.engine.list_jobs(queue_arn=QUEUE)] == [waiting, second, first]
    assert restarted.engine.queue_front(QUEUE) == [restarted.job(first), restarted.job(second)]
    restarted.passes(4)
    assert {restarted.job(j).status for j in (first, second, waiting)} == {JobStatus.SUCCEEDED}


def test_a_restart_keeps_a_sequential_arrays_dependency_on_the_job_it_names(store) -> None:
    server = boot(store)
    server.engine.put_compute_environment(ComputeEnvironment(CE, "ce", False, True, 16))  # jobs wait
    upstream = server.submit("upstream", env={"BATCH_EMULATOR_DURATION_MS": "5000"})
    dependency = Dependency(upstream, "SEQUENTIAL")
    array = server.submit("seq", array_size=2, depends_on=(dependency,))
    server.passes()
    restarted = boot(store, restore=True)
    children = [f"{array}:0", f"{array}:1"]
    assert restarted.job(array).depends_on == (dependency,)
    restarted.passes(2)
    assert restarted.job(upstream).status is JobStatus.RUNNING
    assert [restarted.job(c).status for c in children] == [JobStatus.PENDING] * 2
    restarted.clock.advance(5000)
    restarted.passes(4)
    assert [restarted.job(c).status for c in children] == [JobStatus.SUCCEEDED] * 2
    first, second = (restarted.job(c) for c in children)
    assert restarted.job(upstream).stopped_at_ms <= first.started_at_ms <= first.stopped_at_ms
    assert first.stopped_at_ms <= second.started_at_ms


def test_a_lost_running_attempt_fails_as_host_terminated_and_retries_as_a_new_attempt(store) -> None:
    server = boot(store)
    job_id = server.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"}, retry=RetryPolicy(attempts=2))
    server.passes(2)
    assert server.job(job_id).status is JobStatus.RUNNING
    restarted = boot(store, restore=True)  # the simulated executor cannot adopt: the attempt is lost
    job = restarted.job(job_id)
    assert job.status is JobStatus.RUNNABLE
    assert job.attempts[0].status_reason.startswith(HOST_LOST)
    assert job.attempts[0].status_reason.endswith(" terminated.")
    assert job.attempts[0].exit_code is None
    restarted.passes(2)
    restarted.clock.advance(60_000)
    restarted.passes()
    job = restarted.job(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert [a.number for a in job.attempts] == [1, 2]
    assert stored(store, job_id) == job


def test_a_lost_attempt_without_retries_fails_the_job(store) -> None:
    server = boot(store)
    job_id = server.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    server.passes(2)
    restarted = boot(store, restore=True)
    job = restarted.job(job_id)
    assert job.status is JobStatus.FAILED
    assert job.status_reason.startswith(HOST_LOST)


def test_an_adopted_attempt_is_followed_to_its_end_and_never_started_again(store) -> None:
    server = boot(store)
    job_id = server.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    server.passes(2)
    clock = ManualClock(2_000_000)
    executor = AdoptingExecutor(clock, alive={f"{job_id}/1"})
    restarted = boot(store, executor=executor, clock=clock, restore=True)
    assert executor.adopted == [f"{job_id}/1"]
    assert restarted.job(job_id).status is JobStatus.RUNNING
    executor.reports.append(ExecutionUpdate(f"{job_id}/1", UpdateKind.EXITED, exit_code=0))
    restarted.passes(2)
    job = restarted.job(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert len(job.attempts) == 1
    assert executor.started == []


def test_a_node_still_running_when_its_main_node_exited_is_stopped_a_grace_after_that_exit(store) -> None:
    server = boot(store)
    node = ContainerSpec(image="busybox", command=("true",), vcpus=1.0)
    multinode = MultiNode(2, 0, (NodeSpec(node, {"container": {}}),) * 2)
    server.executor.script("job-1#0", Outcome(duration_ms=100))
    server.executor.script("job-1#1", Outcome(duration_ms=60_000))
    job_id = server.submit(multinode=multinode)
    server.passes(3)
    server.clock.advance(100)
    server.passes()  # the main node exits; the worker has 5 s (the default grace) to end
    exited_at = server.job(f"{job_id}#0").stopped_at_ms
    clock = ManualClock(exited_at + 1000)
    executor = AdoptingExecutor(clock, alive={f"{job_id}#1/1"})
    restarted = boot(store, executor=executor, clock=clock, restore=True)
    assert executor.adopted == [f"{job_id}#1/1"]
    restarted.passes()
    assert executor.stopped == []
    assert restarted.engine.next_wakeup_ms() == exited_at + 5000
    clock.advance(4000)
    restarted.passes(2)
    assert executor.stopped == [f"{job_id}#1/1"]
    worker = restarted.job(f"{job_id}#1")
    assert (worker.status, worker.attempts[-1].exit_code) == (JobStatus.FAILED, 143)
    assert restarted.job(job_id).status is JobStatus.SUCCEEDED


def test_starts_wait_for_the_commit_so_a_crash_in_between_loses_the_attempt_not_duplicates_it(
    store,
) -> None:
    server = boot(store)
    server.engine.put_compute_environment(ComputeEnvironment(CE, "ce", False, True, 16))
    job_id = server.submit(retry=RetryPolicy(attempts=3))
    server.passes()  # RUNNABLE
    server.engine.put_compute_environment(ComputeEnvironment(CE, "ce", True, True, 16))
    # The pass that places the job commits STARTING, then starts; a crash right after the commit
    # leaves a STARTING record and nothing running: the restart fails attempt 1 and runs attempt 2.
    server.engine.executor = executor = AdoptingExecutor(server.clock, alive=set())
    server.engine._commit = _crash_after_commit(server.engine._commit)
    with pytest.raises(SystemExit):
        server.passes()
    assert executor.started == []
    assert stored(store, job_id).status is JobStatus.STARTING
    restarted = boot(store, restore=True)
    restarted.passes(3)
    job = restarted.job(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert [a.status_reason.startswith(HOST_LOST) for a in job.attempts] == [True, False]


def _crash_after_commit(commit):
    def crashing() -> None:
        engine = commit.__self__
        pending = list(engine._pending_starts)
        engine._pending_starts.clear()
        commit()
        if pending:
            raise SystemExit("killed between the commit and the executor start")

    return crashing


def test_a_failing_store_holds_the_starts_back_until_a_later_commit_succeeds(store) -> None:
    server = boot(store)
    job_id = server.submit()
    server.passes()
    put_many = store.put_many
    calls = []

    def failing_once(jobs, notes=None):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        put_many(jobs, notes)

    store.put_many = failing_once
    with pytest.raises(OSError):
        server.passes()
    assert server.executor.running_attempt_ids() == []
    server.passes(3)
    assert server.job(job_id).status is JobStatus.SUCCEEDED
    assert stored(store, job_id).status is JobStatus.SUCCEEDED


def test_an_acknowledged_cancel_survives_a_crash_before_the_next_pass(store) -> None:
    server = boot(store)
    server.engine.put_compute_environment(ComputeEnvironment(CE, "ce", False, True, 16))  # jobs wait
    job_id = server.submit()
    server.passes()
    server.engine.request_cancel(job_id, "no longer needed")  # acknowledged; no pass yet
    restarted = boot(store, restore=True)
    restarted.passes()
    job = restarted.job(job_id)
    assert (job.status, job.status_reason, job.is_cancelled) == (JobStatus.FAILED, "no longer needed", True)
    assert store.load_notes() == {}


def test_a_terminate_in_progress_when_the_server_died_is_carried_out_on_the_adopted_attempt(store) -> None:
    server = boot(store)
    job_id = server.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"}, retry=RetryPolicy(attempts=3))
    server.passes(2)
    server.engine.request_terminate(job_id, "stop it")
    server.passes()  # the stop is sent; the attempt has not ended yet
    assert set(store.load_notes()) == {f"stop:{job_id}/1"}
    clock = ManualClock(2_000_000)
    executor = AdoptingExecutor(clock, alive={f"{job_id}/1"})
    restarted = boot(store, executor=executor, clock=clock, restore=True)
    assert executor.stopped == [f"{job_id}/1"]
    restarted.passes()
    job = restarted.job(job_id)
    assert (job.status, job.status_reason, job.is_terminated) == (JobStatus.FAILED, "stop it", True)
    assert store.load_notes() == {}


def test_a_terminated_job_whose_attempt_was_lost_fails_with_the_terminate_reason(store) -> None:
    server = boot(store)
    job_id = server.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"}, retry=RetryPolicy(attempts=3))
    server.passes(2)
    server.engine.request_terminate(job_id, "stop it")
    server.passes()
    restarted = boot(store, restore=True)
    job = restarted.job(job_id)
    assert (job.status, job.status_reason, job.is_terminated) == (JobStatus.FAILED, "stop it", True)


def test_an_array_job_resumes_with_its_children(store) -> None:
    server = boot(store)
    parent = server.submit(
        array_size=3, env={"BATCH_EMULATOR_DURATION_MS": "1000"}, retry=RetryPolicy(attempts=2)
    )
    server.passes(2)
    restarted = boot(store, restore=True)
    restarted.passes(2)
    restarted.clock.advance(1000)
    restarted.passes(3)
    children = restarted.engine.list_jobs(array_job_id=parent)
    assert {child.status for child in children} == {JobStatus.SUCCEEDED}
    assert restarted.job(parent).status is JobStatus.SUCCEEDED
    assert restarted.job(parent).status_summary["SUCCEEDED"] == 3


def test_reset_empties_the_store(store) -> None:
    server = boot(store)
    server.submit()
    server.passes()
    server.engine.request_cancel(server.submit(), "x")
    server.engine.reset()
    assert store.load_all() == []
    assert store.load_notes() == {}
