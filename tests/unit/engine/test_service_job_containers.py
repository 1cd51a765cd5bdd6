"""Service jobs whose training image runs as a container: the service-job engine on a ManualClock
with a fake runner that records what it was asked and reports what a test tells it to, no threads
and no daemon. Also the pure rules of engine/training_containers.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from emulator.engine.clock import ManualClock
from emulator.engine.ids import SequentialIds
from emulator.engine.service_jobs import (
    ATTEMPT_TIMED_OUT,
    TRAINING_COMPLETED,
    ServiceJobEngine,
    ServiceOutcome,
)
from emulator.engine.service_records import (
    NUM_INSTANCES,
    ServiceEnvironment,
    ServiceJobStatus,
    ServiceJobSubmission,
    ServiceQueue,
    ServiceRetryPolicy,
    ServiceTopology,
    TrainingContainer,
)
from emulator.engine.training_containers import (
    FAILURE_FILE,
    MAX_RUNTIME_EXCEEDED,
    failure_reason,
    log_target,
)
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind

S = ServiceJobStatus
PREFIX = "arn:aws:batch:us-east-1:123456789012:"
ENV = PREFIX + "service-environment/se"
QUEUE = PREFIX + "job-queue/sq"
IMAGE = "trainer:1"
TRAINING_ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/AWSBatchtrain" + "1".zfill(32)
CONTAINER = TrainingContainer(
    image=IMAGE,
    environment=(("EPOCHS_HINT", "3"),),
    config_files=(("hyperparameters.json", '{"epochs": "3"}'), ("resourceconfig.json", "{}")),
    channels=("train",),
)


class FakeRunner:
    """Knows a set of images; records starts and stops; hands out the updates a test queues."""

    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.started: list[ExecutionRequest] = []
        self.stopped: list[tuple[str, str]] = []
        self.pending: list[ExecutionUpdate] = []
        self.asked: list[str] = []

    def has_image(self, image: str) -> bool:
        self.asked.append(image)
        return image in self.images

    def start(self, request: ExecutionRequest) -> None:
        self.started.append(request)

    def stop(self, attempt_id: str, reason: str) -> None:
        self.stopped.append((attempt_id, reason))

    def poll(self) -> list[ExecutionUpdate]:
        updates, self.pending = self.pending, []
        return updates

    def live_attempts(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    def report(self, kind: UpdateKind, attempt: int = 1, **fields) -> None:
        self.pending.append(ExecutionUpdate(f"job-1/{attempt}", kind, **fields))


class World:
    def __init__(self, runner: FakeRunner | None) -> None:
        self.clock = ManualClock(start_ms=1_700_000_000_000)
        self.runner = runner
        self.engine = ServiceJobEngine(
            clock=self.clock,
            topology_source=lambda: ServiceTopology(
                environments={ENV: ServiceEnvironment(ENV, True, ((NUM_INSTANCES, 2),))},
                queues={QUEUE: ServiceQueue(QUEUE, 1, ENV)},
            ),
            new_resource_suffix=SequentialIds("", width=32, hex=True),
            runner=runner,
        )

    def submit(self, container: TrainingContainer | None = CONTAINER, **fields) -> str:
        self.engine.submit(
            ServiceJobSubmission(
                job_id="job-1",
                job_arn=PREFIX + "service-job/job-1",
                job_name="train",
                queue_arn=QUEUE,
                service_job_type="SAGEMAKER_TRAINING",
                service_request_payload="{}",
                training_container=container,
                **fields,
            )
        )
        return "job-1"

    def passes(self, count: int = 1) -> None:
        for _ in range(count):
            self.engine.run_pass()

    def job(self):
        return self.engine.get_job("job-1")

    def to_running(self) -> None:
        """SUBMITTED -> RUNNABLE -> SCHEDULED -> STARTING (container started) -> RUNNING."""
        self.passes(3)
        assert self.job().status is S.STARTING
        self.runner.report(UpdateKind.RUNNING)
        self.passes()
        assert self.job().status is S.RUNNING


@pytest.fixture
def world() -> World:
    return World(FakeRunner({IMAGE}))


def test_job_whose_image_the_daemon_has_runs_it_on_entering_starting(world):
    world.submit()
    world.passes(2)
    assert world.job().status is S.SCHEDULED and world.runner.started == []

    world.passes()

    assert world.job().status is S.STARTING
    assert world.job().runs_training_image
    [request] = world.runner.started
    assert request.attempt_id == "job-1/1"
    assert request.image == IMAGE
    assert request.command == ("train",)
    assert request.hostname == "algo-1"
    assert request.pull_image is False
    assert dict(request.environment) == {
        "EPOCHS_HINT": "3",
        "TRAINING_JOB_NAME": "AWSBatchtrain" + "1".zfill(32),
        "TRAINING_JOB_ARN": TRAINING_ARN,
    }
    assert request.files == (
        ("/opt/ml/input/config/hyperparameters.json", '{"epochs": "3"}'),
        ("/opt/ml/input/config/resourceconfig.json", "{}"),
    )
    assert request.directories == ("/opt/ml/model", "/opt/ml/output/data", "/opt/ml/input/data/train")
    assert request.collect_files == (FAILURE_FILE,)
    assert request.log == LogTarget(
        "123456789012",
        "us-east-1",
        "/aws/sagemaker/TrainingJobs",
        "AWSBatchtrain" + "1".zfill(32) + "/algo-1-1700000000",
    )


def test_job_stays_starting_until_its_container_runs_and_running_until_it_exits(world):
    world.submit()
    world.passes(3)
    world.clock.advance(60_000)
    world.passes(2)
    assert world.job().status is S.STARTING and world.job().started_at_ms is None

    world.runner.report(UpdateKind.RUNNING)
    world.passes()
    assert world.job().status is S.RUNNING
    assert world.job().started_at_ms == world.clock.now_ms()
    world.passes()  # nothing moves
    assert world.engine.next_wakeup_ms() is None  # nothing is due until the runner reports

    world.clock.advance(5_000)
    world.runner.report(UpdateKind.EXITED, exit_code=0)
    world.passes()

    job = world.job()
    assert job.status is S.SUCCEEDED
    assert job.status_reason == TRAINING_COMPLETED
    [attempt] = job.attempts
    assert attempt.training_job_arn == TRAINING_ARN
    assert attempt.stopped_at_ms - attempt.started_at_ms == 5_000
    assert world.runner.stopped == []


def test_non_zero_exit_fails_the_job_with_what_the_container_wrote_to_the_failure_file(world):
    world.submit()
    world.to_running()

    world.runner.report(UpdateKind.EXITED, exit_code=3, files=((FAILURE_FILE, "bad learning rate\n"),))
    world.passes()

    job = world.job()
    assert job.status is S.FAILED
    assert (
        job.status_reason == "Received status from SageMaker: AlgorithmError: bad learning rate, exit code: 3"
    )
    assert job.attempts[0].status_reason == job.status_reason
    assert not job.is_terminated


def test_failed_attempt_is_retried_in_a_new_container_when_attempts_remain(world):
    world.submit(retry=ServiceRetryPolicy(attempts=2))
    world.to_running()
    world.runner.report(UpdateKind.EXITED, exit_code=1)
    world.passes()
    assert world.job().status is S.RUNNABLE

    world.passes(2)

    assert [request.attempt_id for request in world.runner.started] == ["job-1/1", "job-1/2"]
    assert world.runner.started[1].environment["TRAINING_JOB_NAME"] == "AWSBatchtrain" + "2".zfill(32)
    world.runner.report(UpdateKind.RUNNING, attempt=2)
    world.runner.report(UpdateKind.EXITED, attempt=2, exit_code=0)
    world.passes()
    job = world.job()
    assert job.status is S.SUCCEEDED
    assert [attempt.status_reason for attempt in job.attempts] == [
        "Received status from SageMaker: AlgorithmError: , exit code: 1",
        TRAINING_COMPLETED,
    ]


def test_container_that_cannot_start_fails_the_attempt_without_running(world):
    world.submit()
    world.passes(3)

    world.runner.report(
        UpdateKind.FAILED_TO_START, reason="CannotStartContainerError: exec: train: not found"
    )
    world.passes()

    job = world.job()
    assert job.status is S.FAILED
    assert job.started_at_ms is None
    assert job.status_reason == (
        "Received status from SageMaker: AlgorithmError: CannotStartContainerError: exec: train: not found"
    )


def test_max_runtime_stops_the_container_and_fails_the_attempt(world):
    world.submit(replace(CONTAINER, max_runtime_seconds=60))
    world.to_running()
    world.passes()  # nothing moves
    assert world.engine.next_wakeup_ms() == world.clock.now_ms() + 60_000

    world.clock.advance(60_000)
    world.passes()

    job = world.job()
    assert job.status is S.FAILED
    assert job.status_reason == f"Received status from SageMaker: {MAX_RUNTIME_EXCEEDED}"
    assert world.runner.stopped == [("job-1/1", job.status_reason)]
    world.runner.report(UpdateKind.EXITED, exit_code=143)  # the stopped container's exit is dropped
    world.passes()
    assert world.job() == job


def test_attempt_timeout_before_max_runtime_reads_as_a_timeout(world):
    world.submit(replace(CONTAINER, max_runtime_seconds=600), attempt_duration_seconds=30)
    world.to_running()

    world.clock.advance(30_000)
    world.passes()

    assert world.job().status_reason == ATTEMPT_TIMED_OUT
    assert world.runner.stopped == [("job-1/1", ATTEMPT_TIMED_OUT)]


def test_terminate_stops_the_running_container(world):
    world.submit()
    world.to_running()

    world.engine.terminate("job-1", "no longer needed")

    job = world.job()
    assert job.status is S.FAILED and job.is_terminated
    assert job.status_reason == "no longer needed"
    assert world.runner.stopped == [("job-1/1", "no longer needed")]


def test_reset_stops_the_training_containers_still_running(world):
    world.submit()
    world.to_running()

    world.engine.reset()

    assert world.runner.stopped == [("job-1/1", "emulator reset")]
    assert world.engine.get_job("job-1") is None


@pytest.mark.parametrize(
    ("runner", "container"),
    [
        pytest.param(FakeRunner(set()), CONTAINER, id="image-absent"),
        pytest.param(None, CONTAINER, id="no-runner"),
        pytest.param(FakeRunner({IMAGE}), None, id="payload-names-no-image"),
    ],
)
def test_otherwise_the_simulated_sagemaker_runs_the_job(runner, container):
    world = World(runner)
    world.submit(container, hyper_parameters=(("batch-emulator-exit", "failed"),))
    world.passes(5)

    job = world.job()
    assert not job.runs_training_image
    assert job.status is S.FAILED
    assert job.status_reason == "Received status from SageMaker: Training job failed"
    assert runner is None or runner.started == []


def test_a_script_outranks_the_training_image(world):
    world.engine.script("train", ServiceOutcome(succeeded=False, failure_reason="scripted"))
    world.submit()
    world.passes(5)

    assert world.job().status_reason == "Received status from SageMaker: scripted"
    assert world.runner.started == []


def test_the_image_is_looked_up_once_at_submission(world):
    world.submit()
    world.passes(3)

    assert world.runner.asked == [IMAGE]


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        pytest.param(ExecutionUpdate("a", UpdateKind.EXITED, exit_code=0), None, id="completed"),
        pytest.param(
            ExecutionUpdate("a", UpdateKind.EXITED, exit_code=2),
            "AlgorithmError: , exit code: 2",
            id="no-failure-file",
        ),
        pytest.param(
            ExecutionUpdate("a", UpdateKind.EXITED, exit_code=2, files=((FAILURE_FILE, "x" * 2000),)),
            f"AlgorithmError: {'x' * 1024}, exit code: 2",
            id="failure-file-cut-at-1024",
        ),
        pytest.param(
            ExecutionUpdate(
                "a",
                UpdateKind.EXITED,
                exit_code=137,
                reason="OutOfMemoryError: Container killed due to memory usage",
            ),
            "AlgorithmError: OutOfMemoryError: Container killed due to memory usage, exit code: 137",
            id="out-of-memory",
        ),
        pytest.param(
            ExecutionUpdate("a", UpdateKind.EXITED, reason="CannotInspectContainerError: lost"),
            "InternalServerError: CannotInspectContainerError: lost",
            id="lost",
        ),
        pytest.param(
            ExecutionUpdate("a", UpdateKind.FAILED_TO_START, reason="CannotPullContainerError: gone"),
            "AlgorithmError: CannotPullContainerError: gone",
            id="failed-to-start",
        ),
    ],
)
def test_failure_reason_follows_sagemakers_wording(update, expected):
    assert failure_reason(update) == expected


def test_log_stream_is_the_training_job_name_then_host_and_start_second():
    target = log_target(
        "arn:aws-cn:sagemaker:cn-north-1:111122223333:training-job/AWSBatchx00", 1_700_000_123_999
    )

    assert target == LogTarget(
        "111122223333", "cn-north-1", "/aws/sagemaker/TrainingJobs", "AWSBatchx00/algo-1-1700000123"
    )
