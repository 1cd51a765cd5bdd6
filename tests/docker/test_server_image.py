"""The server image (top-level Dockerfile) built with no registry, driving the host's Docker.

The base is built from this machine's Python by docker-image/build-base-image.sh and the emulator's
dependencies come from wheels fetched on the host (docker-image/fetch-wheels.sh), so nothing is pulled.
The image is rebuilt only when its sources change: it carries a label with their hash. The server
container runs jobs as sibling containers through the mounted socket, and a job calls the server
back at the address the server gave it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import docker
import docker.errors
import pytest
from botocore.config import Config

from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "batch-emulator-test/server:latest"
BASE = os.environ.get("BATCH_EMULATOR_BASE_IMAGE", "batch-emulator-base:local")
HASH_LABEL = "batch-emulator.source-hash"
TEST_LABEL = "batch-emulator.test"
SOCKET = "/var/run/docker.sock"
SOURCES = (
    "Dockerfile",
    "pyproject.toml",
    "README.md",
    "docker-image/build-base-image.sh",
    "docker-image/fetch-wheels.sh",
)


def _missing(reason: str) -> None:
    """Skip with the reason; under CI=true a missing prerequisite fails instead (as in conftest.py)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: Docker tests must run)", pytrace=False)
    pytest.skip(reason)


def source_hash() -> str:
    digest = hashlib.sha256(BASE.encode())
    paths = [ROOT / name for name in SOURCES] + sorted((ROOT / "emulator").rglob("*.py"))
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run_script(name: str) -> None:
    result = subprocess.run(
        [str(ROOT / "docker-image" / name)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        _missing(f"docker-image/{name} failed: {(result.stderr or result.stdout).strip()[-500:]}")


@pytest.fixture(scope="session")
def server_image(docker_client: docker.DockerClient) -> str:
    wanted = source_hash()
    try:
        if docker_client.images.get(IMAGE).labels.get(HASH_LABEL) == wanted:
            return IMAGE
    except docker.errors.ImageNotFound:
        pass
    try:
        docker_client.images.get(BASE)
    except docker.errors.ImageNotFound:
        run_script("build-base-image.sh")
    run_script("fetch-wheels.sh")
    docker_client.images.build(
        path=str(ROOT),
        tag=IMAGE,
        buildargs={"BASE": BASE, "PIP_OPTIONS": "--no-index"},
        labels={HASH_LABEL: wanted, TEST_LABEL: "true"},
        rm=True,
        forcerm=True,
    )
    return IMAGE


@pytest.fixture
def server_url(docker_client: docker.DockerClient, server_image: str, test_image: str) -> Iterator[str]:
    """The server container, its port published on 127.0.0.1; stopped with SIGTERM and removed."""
    if not os.path.exists(SOCKET):
        _missing(f"no {SOCKET} to mount into the server container")
    container = docker_client.containers.run(
        server_image,
        ["--executor", "docker", "--log-level", "INFO"],
        detach=True,
        labels={TEST_LABEL: "true"},
        ports={"8734/tcp": ("127.0.0.1", None)},
        volumes={SOCKET: {"bind": SOCKET, "mode": "rw"}},
    )
    try:
        container.reload()
        port = container.ports["8734/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, container)
        yield url
        container.stop(timeout=20)  # SIGTERM: the server must stop on its own, cleanly
        assert container.wait(timeout=30)["StatusCode"] == 0, container.logs().decode()[-2000:]
    finally:
        container.remove(force=True)


def wait_until_healthy(url: str, container, timeout_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            container.reload()
            if container.status == "exited" or time.monotonic() > deadline:
                raise AssertionError(
                    f"the server never answered:\n{container.logs().decode()[-2000:]}"
                ) from None
        time.sleep(0.1)


def client(service: str, url: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def test_server_image_runs_a_job_that_calls_the_emulator_back(server_url: str, test_image: str) -> None:
    batch, logs = client("batch", server_url), client("logs", server_url)
    batch.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
    batch.create_job_queue(
        jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
    )
    batch.register_job_definition(
        jobDefinitionName="call-back",
        type="container",
        containerProperties={
            "image": test_image,
            "command": [
                "sh",
                "-c",
                "echo endpoint=$AWS_ENDPOINT_URL; wget -qO- $AWS_ENDPOINT_URL/_emulator/health",
            ],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
        },
    )
    job_id = batch.submit_job(jobName="call-back", jobQueue="q", jobDefinition="call-back")["jobId"]

    detail = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=60, logs_client=logs)

    stream = detail["container"]["logStreamName"]
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)["events"]
    output = "\n".join(event["message"] for event in events)
    assert "endpoint=http://" in output
    assert '"status":"ok"' in output.replace(" ", "")
