"""Fixtures for tests against a real Docker daemon and a tiny locally built image.

No registry is reachable where these run, so the image is built here, FROM scratch around Debian's
static busybox. Without a daemon or without /bin/busybox the tests are skipped with a reason, except
under CI=true, where a missing prerequisite is a failure rather than silently less coverage.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest
import requests.exceptions
from kit import RecordingLogStore, create_queue, reset_after_containers

from emulator.executors.docker import DOCKER_API_TIMEOUT_SECONDS, OWNER_LABEL, _this_process_as_owner
from emulator.testing import Emulator, running_emulator

TEST_IMAGE = "batch-emulator-test/busybox:latest"
DAEMON_SETTLE_SECONDS = 300
BUSYBOX = "/bin/busybox"
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: Docker tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env(timeout=DOCKER_API_TIMEOUT_SECONDS)
        client.ping()
    except docker.errors.DockerException as exc:
        _missing(f"no Docker daemon: {exc}")
    yield client
    client.close()


@pytest.fixture(autouse=True)
def daemon_answering(docker_client: docker.DockerClient) -> None:
    """Start each test on a daemon that answers promptly. A daemon on slow storage can stall for
    minutes after removing hundreds of containers; a test started then would fail for the
    daemon's sake, not the emulator's. Waits up to DAEMON_SETTLE_SECONDS, then fails."""
    deadline = time.monotonic() + DAEMON_SETTLE_SECONDS
    probe = docker.from_env(timeout=10)
    try:
        while True:
            try:
                probe.ping()
                probe.containers.list(limit=1)
                return
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                if time.monotonic() > deadline:
                    pytest.fail(f"the Docker daemon has not answered for {DAEMON_SETTLE_SECONDS} s: {exc}")
                time.sleep(2)
    finally:
        probe.close()


@pytest.fixture(scope="session")
def test_image(docker_client: docker.DockerClient) -> str:
    """The busybox image, built once if the daemon does not have it yet."""
    try:
        docker_client.images.get(TEST_IMAGE)
        return TEST_IMAGE
    except docker.errors.ImageNotFound:
        pass
    if not os.access(BUSYBOX, os.X_OK):
        _missing(f"no {BUSYBOX} to build {TEST_IMAGE} from: apt-get install busybox-static")
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(BUSYBOX, os.path.join(context, "busybox"))
        with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
            dockerfile.write(DOCKERFILE)
        docker_client.images.build(
            path=context, tag=TEST_IMAGE, rm=True, forcerm=True, labels={"batch-emulator.test": "true"}
        )
    return TEST_IMAGE


@pytest.fixture(autouse=True)
def no_managed_containers_left(docker_client: docker.DockerClient) -> Iterator[None]:
    """Every test leaves the daemon as it found it; leftovers fail the test and are removed anyway.
    Only what this process made counts: other test runs may share the daemon."""
    yield
    ours = {"label": f"{OWNER_LABEL}={_this_process_as_owner()}"}
    leftovers = docker_client.containers.list(all=True, filters=ours)
    volumes = docker_client.volumes.list(filters=ours)
    for container in leftovers:
        container.remove(force=True, v=True)
    for volume in volumes:
        volume.remove(force=True)
    assert not leftovers, f"containers left behind: {[c.name for c in leftovers]}"
    assert not volumes, f"volumes left behind: {[v.name for v in volumes]}"


@pytest.fixture
def log_store() -> RecordingLogStore:
    return RecordingLogStore()


@pytest.fixture(scope="module")
def emulator_settings() -> dict[str, Any]:
    """Settings of the module's `emulator`; a module overrides this fixture to change them."""
    return {"executor": "docker", "stop_timeout_seconds": 1, "max_running": 4}


@pytest.fixture(scope="module")
def emulator(docker_client: docker.DockerClient, emulator_settings: dict[str, Any]) -> Iterator[Emulator]:
    with running_emulator(**emulator_settings) as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator, test_image: str, queue_names: tuple[str, str]):
    """A batch client on a reset `emulator` with the module's queue and compute environment
    (`queue_names`); afterwards every container the test started must be gone."""
    emulator.reset()
    client = emulator.client("batch")
    create_queue(client, *queue_names)
    yield client
    reset_after_containers(emulator)
