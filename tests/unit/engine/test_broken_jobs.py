"""A job that a pass cannot handle fails alone: both engines on a ManualClock, with an executor or
training runner that raises for one job. That job ends FAILED with a reason, what it held is given
back, and the other jobs go on to succeed in the same passes."""

from __future__ import annotations

import pytest
from engine_kit import compute_environment, job_queue, submission

from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.ids import SequentialIds
from emulator.engine.records import JobStatus
from emulator.engine.service_jobs import TRAINING_COMPLETED, ServiceJobEngine
from emulator.engine.service_records import (
    NUM_INSTANCES,
    ServiceEnvironment,
    ServiceJobStatus,
    ServiceJobSubmission,
    ServiceQueue,
    ServiceTopology,
    TrainingContainer,
)
from emulator.executors.base import ExecutionRequest, ExecutionUpdate
from emulator.executors.simulated import JOB_NAME_LABEL, SimulatedExecutor
from emulator.stores.jobs import MemoryJobStore

BROKEN = "Internal emulator error: RuntimeError: cannot start this one"


class ExecutorFailingOne(SimulatedExecutor):
    """The simulated executor, except that starting the job named `broken` raises."""

    def start(self, request: ExecutionRequest) -> None:
        if request.labels.get(JOB_NAME_LABEL) == "broken":
            raise RuntimeError("cannot start this one")
        super().start(request)


def make_engine(job_store: MemoryJobStore | None) -> tuple[Engine, ExecutorFailingOne]:
    clock = ManualClock(1_000_000)
    executor = ExecutorFailingOne(clock)
    engine = Engine(
        clock=clock,
        executor=executor,
        max_running=10,
        new_job_id=SequentialIds("job-"),
        job_store=job_store,
    )
    engine.put_compute_environment(compute_environment(max_vcpus=1))  # one job at a time
    engine.put_queue(job_queue())
    return engine, executor


@pytest.mark.parametrize("job_store", [None, MemoryJobStore()], ids=["no-store", "job-store"])
def test_job_whose_start_raises_fails_alone_and_gives_back_its_capacity(job_store):
    engine, executor = make_engine(job_store)
    broken = engine.submit(submission("broken")).job_id
    fine = engine.submit(submission("fine")).job_id

    for _ in range(4):
        engine.run_pass()

    failed = engine.get_job(broken)
    assert (failed.status, failed.status_reason) == (JobStatus.FAILED, BROKEN)
    assert failed.current_attempt is None and failed.attempts[0].status_reason == BROKEN
    assert engine.get_job(fine).status is JobStatus.SUCCEEDED  # the only vCPU was given back
    assert executor.running_attempt_ids() == []
    if job_store is not None:
        stored = {job.job_id: job.status for job in job_store.load_all()}
        assert stored == {broken: JobStatus.FAILED, fine: JobStatus.SUCCEEDED}


# ---- service jobs -----------------------------------------------------------------------------

S = ServiceJobStatus
PREFIX = "arn:aws:batch:us-east-1:123456789012:"
ENV = PREFIX + "service-environment/se"
QUEUE = PREFIX + "job-queue/sq"


class RunnerFailingEveryStart:
    """A training runner that has every image and cannot start any."""

    def has_image(self, image: str) -> bool:
        return True

    def start(self, request: ExecutionRequest) -> None:
        raise RuntimeError("cannot start this one")

    def stop(self, attempt_id: str, reason: str) -> None:
        pass

    def poll(self) -> list[ExecutionUpdate]:
        return []


def service_engine(runner: RunnerFailingEveryStart | None = None) -> ServiceJobEngine:
    topology = ServiceTopology(
        environments={ENV: ServiceEnvironment(ENV, True, ((NUM_INSTANCES, 1),))},  # one job at a time
        queues={QUEUE: ServiceQueue(QUEUE, 1, ENV)},
    )
    return ServiceJobEngine(clock=ManualClock(), topology_source=lambda: topology, runner=runner)


def submit_service_job(engine: ServiceJobEngine, job_id: str, **fields) -> str:
    engine.submit(
        ServiceJobSubmission(
            job_id=job_id,
            job_arn=PREFIX + f"service-job/{job_id}",
            job_name=job_id,
            queue_arn=QUEUE,
            service_job_type="SAGEMAKER_TRAINING",
            service_request_payload="{}",
            **fields,
        )
    )
    return job_id


@pytest.mark.parametrize("duration", ["inf", "1e400", "1e308"])
def test_service_job_with_an_unreadable_duration_fails_alone(duration):
    engine = service_engine()
    hyper_parameters = (("batch-emulator-duration-seconds", duration),)
    broken = submit_service_job(engine, "broken", hyper_parameters=hyper_parameters)
    fine = submit_service_job(engine, "fine")

    for _ in range(10):
        engine.run_pass()

    failed = engine.get_job(broken)
    assert failed.status is S.FAILED
    assert failed.status_reason == (
        "Received status from SageMaker: ClientError: HyperParameters batch-emulator-duration-seconds "
        f"must be a number from 0 to 315360000, not '{duration}'"
    )
    assert (engine.get_job(fine).status, engine.get_job(fine).status_reason) == (
        S.SUCCEEDED,
        TRAINING_COMPLETED,
    )


def test_service_job_whose_step_raises_fails_alone_and_gives_back_its_capacity():
    engine = service_engine(RunnerFailingEveryStart())
    container = TrainingContainer(image="trainer:1")
    broken = submit_service_job(engine, "broken", training_container=container)
    fine = submit_service_job(engine, "fine")

    for _ in range(10):
        engine.run_pass()

    failed = engine.get_job(broken)
    assert (failed.status, failed.status_reason) == (S.FAILED, BROKEN)
    assert not failed.is_terminated
    assert [attempt.status_reason for attempt in failed.attempts] == [BROKEN]
    assert engine.get_job(fine).status is S.SUCCEEDED  # the only instance was given back
