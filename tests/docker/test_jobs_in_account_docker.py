"""Jobs in the account, in real containers: an image named by an ECR URI runs the local image it
stands for, and a definition's secrets reach the container's environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import docker
import pytest

from emulator.account.secret_store import SSM_FAILED
from emulator.testing import Emulator
from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

QUEUE, CE = "account-q", "account-ce"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
LOCAL_REPOSITORY = "batch-emulator-test/ecr-jobs"


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return QUEUE, CE


@pytest.fixture
def logs(emulator: Emulator):
    return emulator.client("logs")


@pytest.fixture
def locally_built(docker_client: docker.DockerClient, test_image: str) -> Iterator[str]:
    """The test image, also tagged as a locally built `<repo>:v1` that was never pushed to ECR."""
    docker_client.images.get(test_image).tag(LOCAL_REPOSITORY, "v1")
    yield f"{LOCAL_REPOSITORY}:v1"
    docker_client.images.remove(f"{LOCAL_REPOSITORY}:v1")


def run(
    batch, name: str, image: str, command: list[str], status: str = "SUCCEEDED", **container: Any
) -> dict:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={
            "image": image,
            "command": command,
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            **container,
        },
    )
    job_id = batch.submit_job(jobName=name, jobQueue=QUEUE, jobDefinition=name)["jobId"]
    return wait_for_job(batch, job_id, status, timeout_seconds=60)


def log_lines(logs, detail: dict[str, Any]) -> list[str]:
    stream = detail["container"]["logStreamName"]
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)
    return [event["message"] for event in events["events"]]


def test_an_ecr_image_runs_the_local_image_it_stands_for(batch, logs, locally_built):
    detail = run(batch, "from-ecr", f"{REGISTRY}/{LOCAL_REPOSITORY}:v1", ["echo", "ran the local image"])

    assert detail["container"]["image"] == f"{REGISTRY}/{LOCAL_REPOSITORY}:v1"  # as the definition says
    assert log_lines(logs, detail) == ["ran the local image"]


def test_an_ecr_image_the_daemon_lacks_is_pulled_and_fails_as_any_pull(batch):
    image = f"{REGISTRY}/{LOCAL_REPOSITORY}:never-built"
    detail = run(batch, "ecr-missing", image, ["true"], "FAILED")

    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"].startswith("CannotPullContainerError: Error response from daemon: ")
    assert REGISTRY in detail["container"]["reason"]  # the URI was pulled, not the local name


def test_secrets_reach_the_containers_environment(batch, logs, emulator, test_image):
    emulator.client("ssm").put_parameter(Name="/app/token", Value="t0k3n", Type="SecureString")
    secrets = [{"name": "TOKEN", "valueFrom": "/app/token"}]

    detail = run(batch, "secret", test_image, ["sh", "-c", "echo token=$TOKEN"], secrets=secrets)

    assert log_lines(logs, detail) == ["token=t0k3n"]


def test_a_missing_secret_fails_before_any_container_is_created(batch, emulator, test_image, docker_client):
    secrets = [{"name": "TOKEN", "valueFrom": "/app/missing"}]

    detail = run(batch, "no-secret", test_image, ["true"], "FAILED", secrets=secrets)

    assert detail["container"]["reason"] == f"{SSM_FAILED}invalid parameters: /app/missing"
    attempt_label = f"batch-emulator.attempt-id={detail['jobId']}/1"
    assert docker_client.containers.list(all=True, filters={"label": attempt_label}) == []
