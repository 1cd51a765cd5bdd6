"""Service jobs (SageMaker Training) whose training image the daemon has, run as containers the
way SageMaker runs them, through boto3 against an emulator on the Docker executor: the `train`
argument, config files under /opt/ml/input/config, the payload's Environment, exit codes and
/opt/ml/output/failure, MaxRuntimeInSeconds, TerminateServiceJob, and the output in CloudWatch Logs.

The busybox test image has no `train` executable, so a derived image is built here with a
/bin/train that runs the payload's TRAIN_COMMAND, and removed afterwards. An image the daemon
lacks is never pulled: such a job goes through the simulated SageMaker.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest
from kit import eventually, reset_after_containers

from emulator.testing import Emulator

pytestmark = pytest.mark.docker

ENVIRONMENT = "sm-docker-env"
QUEUE = "sm-docker-q"
COMPLETED = "Received status from SageMaker: Training job completed"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
# `docker run <image> train` finds this on PATH; $0 stays /bin/train inside the command.
TRAIN_SCRIPT = '#!/bin/sh\nexec /bin/sh -c "$TRAIN_COMMAND" "$0" "$@"\n'


@pytest.fixture(scope="module")
def training_image(docker_client: docker.DockerClient, test_image: str) -> Iterator[str]:
    """The test image plus a /bin/train, built for this module and removed after it."""
    tag = f"batch-emulator-test/sagemaker-train:{os.getpid()}"
    with tempfile.TemporaryDirectory() as context:
        train = os.path.join(context, "train")
        with open(train, "w") as script:
            script.write(TRAIN_SCRIPT)
        os.chmod(train, 0o755)
        with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
            dockerfile.write(f"FROM {test_image}\nCOPY train /bin/train\n")
        docker_client.images.build(
            path=context, tag=tag, rm=True, forcerm=True, labels={"batch-emulator.test": "true"}
        )
    yield tag
    try:
        docker_client.images.remove(tag, force=True)
    except docker.errors.NotFound:
        pass


@pytest.fixture
def batch(emulator: Emulator, training_image: str):
    emulator.reset()
    client = emulator.client("batch")
    client.create_service_environment(
        serviceEnvironmentName=ENVIRONMENT,
        serviceEnvironmentType="SAGEMAKER_TRAINING",
        capacityLimits=[{"maxCapacity": 2, "capacityUnit": "NUM_INSTANCES"}],
    )
    client.create_job_queue(
        jobQueueName=QUEUE,
        priority=1,
        jobQueueType="SAGEMAKER_TRAINING",
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": ENVIRONMENT}],
    )
    yield client
    reset_after_containers(emulator)


@pytest.fixture
def logs(emulator: Emulator):
    return emulator.client("logs")


def submit(batch, image: str, command: str, name: str = "train", **payload: Any) -> str:
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        "HyperParameters": {"epochs": "3"},
        "Environment": {"TRAIN_COMMAND": command},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        **payload,
    }
    return batch.submit_service_job(
        jobName=name,
        jobQueue=QUEUE,
        serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=json.dumps(request),
    )["jobId"]


def wait_until(batch, job_id: str, condition: Callable[[dict], bool], timeout_seconds: float = 30) -> dict:
    def probe() -> dict | None:
        detail = batch.describe_service_job(jobId=job_id)
        return detail if condition(detail) else None

    return eventually(probe, timeout_seconds=timeout_seconds, what=f"service job {job_id}")


def wait_for_status(batch, job_id: str, status: str) -> dict:
    return wait_until(batch, job_id, lambda detail: detail["status"] == status)


def training_job_name(detail: dict) -> str:
    return detail["latestAttempt"]["serviceResourceId"]["value"].rsplit("/", 1)[1]


def log_lines(logs, detail: dict) -> list[str]:
    """The messages of the training job's one log stream, `<TrainingJobName>/algo-1-<epoch s>`."""
    prefix = f"{training_job_name(detail)}/algo-1-"
    [stream] = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=prefix)["logStreams"]
    assert stream["logStreamName"][len(prefix) :].isdigit()
    events = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def test_training_container_reads_its_config_and_succeeds(batch, logs, training_image):
    command = (
        'test "$(cat /opt/ml/input/config/hyperparameters.json)" = \'{"epochs": "3"}\' || exit 9; '
        "cat /opt/ml/input/config/hyperparameters.json; echo; "
        "cat /opt/ml/input/config/resourceconfig.json; echo; "
        'echo "program=$0 arguments=$# host=$(hostname) job=$TRAINING_JOB_NAME"; '
        "test -d /opt/ml/model && test -d /opt/ml/output/data"
    )
    job_id = submit(batch, training_image, command)

    detail = wait_for_status(batch, job_id, "SUCCEEDED")

    assert detail["statusReason"] == COMPLETED
    [attempt] = detail["attempts"]
    assert attempt["statusReason"] == COMPLETED
    assert detail["createdAt"] <= detail["scheduledAt"] <= detail["startedAt"] <= detail["stoppedAt"]
    name = training_job_name(detail)
    assert name.startswith("AWSBatchtrain")
    assert log_lines(logs, detail) == [
        '{"epochs": "3"}',
        json.dumps(
            {
                "current_host": "algo-1",
                "hosts": ["algo-1"],
                "current_instance_type": "ml.m5.large",
                "network_interface_name": "eth0",
            }
        ),
        f"program=/bin/train arguments=0 host=algo-1 job={name}",
    ]


def test_non_zero_exit_fails_with_the_failure_file_as_the_reason(batch, logs, training_image):
    command = "echo loading data; echo 'Loss diverged at epoch 2' > /opt/ml/output/failure; exit 3"
    job_id = submit(batch, training_image, command)

    detail = wait_for_status(batch, job_id, "FAILED")

    reason = "Received status from SageMaker: AlgorithmError: Loss diverged at epoch 2, exit code: 3"
    assert detail["statusReason"] == reason
    assert detail["attempts"][0]["statusReason"] == reason
    assert detail["isTerminated"] is False
    assert log_lines(logs, detail) == ["loading data"]


def test_terminate_stops_the_training_container(batch, emulator, training_image):
    job_id = submit(batch, training_image, "echo started; sleep 60")
    wait_for_status(batch, job_id, "RUNNING")
    assert emulator.runtime.training_runner.live_attempts() == [f"{job_id}/1"]

    batch.terminate_service_job(jobId=job_id, reason="no longer needed")

    detail = wait_for_status(batch, job_id, "FAILED")
    assert detail["statusReason"] == "no longer needed"
    assert detail["isTerminated"] is True
    eventually(lambda: not emulator.runtime.training_runner.live_attempts(), what="the container to go")


def test_max_runtime_stops_the_training_container(batch, emulator, training_image):
    started = time.monotonic()
    job_id = submit(batch, training_image, "sleep 60", StoppingCondition={"MaxRuntimeInSeconds": 1})

    detail = wait_for_status(batch, job_id, "FAILED")

    assert detail["statusReason"] == (
        "Received status from SageMaker: Training job runtime exceeded MaxRuntimeInSeconds provided"
    )
    assert time.monotonic() - started < 30
    eventually(lambda: not emulator.runtime.training_runner.live_attempts(), what="the container to go")


def test_an_image_the_daemon_lacks_is_not_pulled_and_the_job_is_simulated(batch, docker_client):
    image = "batch-emulator-test/never-built:latest"
    job_id = submit(batch, image, "exit 1")

    detail = wait_for_status(batch, job_id, "SUCCEEDED")

    assert detail["statusReason"] == COMPLETED
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image)
