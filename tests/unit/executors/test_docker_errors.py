"""How DockerExecutor names failures the daemon causes, with a stand-in client (no daemon needed),
and the pure helpers that shape a container's settings."""

from __future__ import annotations

import time

import pytest
import requests.exceptions

from emulator.engine.records import Device, Mount, Volume
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.docker import TIMEOUT_REASON, DockerExecutor, _binds, _device, _via_host_alias

LOG = LogTarget("123456789012", "us-east-1", "/aws/batch/job", "def/default/abc")


class NullLogStore:
    def ensure_stream(self, account_id, region, group, stream) -> None:
        pass

    def put_events(self, account_id, region, group, stream, events) -> None:
        pass


class FailingImages:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, name):
        raise self.error


class Listing:
    def list(self, **filters):
        return []


class FailingClient:
    """Answers the constructor's calls, then fails every image lookup with `error`."""

    def __init__(self, error: Exception) -> None:
        self.images = FailingImages(error)
        self.containers = Listing()
        self.volumes = Listing()
        self.networks = Listing()  # leftover networks of crashed runs are removed too

    def info(self):
        return {"NCPU": 2}


def request(**fields: object) -> ExecutionRequest:
    values: dict[str, object] = {
        "attempt_id": "job-1/1",
        "job_id": "job-1",
        "image": "busybox",
        "command": ("true",),
        "environment": {},
        "vcpus": 1.0,
        "memory_mib": 64,
        "log": LOG,
    }
    values.update(fields)
    return ExecutionRequest(**values)  # type: ignore[arg-type]


def final_update(executor: DockerExecutor) -> ExecutionUpdate:
    deadline = time.monotonic() + 10
    while True:
        updates = executor.poll()
        if updates:
            return updates[0]
        assert time.monotonic() < deadline, "no update within 10 s"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("error", "expected_reason"),
    [
        pytest.param(requests.exceptions.ReadTimeout("read timed out"), TIMEOUT_REASON, id="timeout"),
        pytest.param(
            requests.exceptions.ConnectionError("connection refused"),
            "CannotStartContainerError: connection refused",
            id="daemon-unreachable",
        ),
    ],
)
def test_daemon_failures_before_the_container_runs_fail_the_start(error, expected_reason):
    executor = DockerExecutor(NullLogStore(), FailingClient(error))  # type: ignore[arg-type]
    try:
        executor.start(request())

        assert final_update(executor) == ExecutionUpdate(
            "job-1/1", UpdateKind.FAILED_TO_START, reason=expected_reason
        )
        assert executor.live_attempts() == []
    finally:
        executor.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8734", "http://host.docker.internal:8734"),
        ("http://localhost:8734/path", "http://host.docker.internal:8734/path"),
        ("https://localhost", "https://host.docker.internal"),
        ("http://[::1]:8734", "http://host.docker.internal:8734"),
        ("http://emulator:8734", "http://emulator:8734"),
        ("https://batch.us-east-1.amazonaws.com", "https://batch.us-east-1.amazonaws.com"),
    ],
)
def test_loopback_endpoint_urls_point_at_the_host_from_inside_a_container(url, expected):
    assert _via_host_alias(url) == expected


def test_volumes_become_binds_and_scratch_volumes_use_the_attempts_docker_volume():
    attempt_request = request(
        volumes=(Volume("data", "/srv/data"), Volume("scratch", None)),
        mounts=(
            Mount("data", "/data", read_only=True),
            Mount("scratch", "/tmp/a"),
            Mount("scratch", "/tmp/b"),
            Mount("unknown", "/nowhere"),
        ),
    )

    binds = _binds(attempt_request, iter(["batch-emulator-1234-scratch"]))

    assert binds == [
        "/srv/data:/data:ro",
        "batch-emulator-1234-scratch:/tmp/a:rw",
        "batch-emulator-1234-scratch:/tmp/b:rw",
    ]


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (Device("/dev/fuse"), "/dev/fuse:/dev/fuse:rwm"),
        (Device("/dev/xvdb", "/dev/disk", ("READ",)), "/dev/xvdb:/dev/disk:r"),
        (Device("/dev/xvdb", None, ("READ", "WRITE")), "/dev/xvdb:/dev/xvdb:rw"),
    ],
)
def test_devices_use_dockers_host_container_permissions_form(device, expected):
    assert _device(device.host_path, device.container_path, device.permissions) == expected
