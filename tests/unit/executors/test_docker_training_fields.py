"""What DockerExecutor does with the request fields service jobs' training containers use (host
name, files in, files back out, never pulling), with a stand-in client: no daemon needed."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import docker.errors
import requests.exceptions

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.docker import DockerExecutor

LOG = LogTarget("123456789012", "us-east-1", "/aws/sagemaker/TrainingJobs", "train/algo-1-1700000000")


class NullLogStore:
    def ensure_stream(self, account_id, region, group, stream) -> None:
        pass

    def put_events(self, account_id, region, group, stream, events) -> None:
        pass


class FakeContainer:
    id = short_id = "c0ffee"

    def __init__(self, options: dict[str, Any], written: dict[str, bytes], exit_code: int) -> None:
        self.options = options
        self.written = written
        self.exit_code = exit_code
        self.archives: list[tuple[str, bytes]] = []
        self.attrs: dict[str, Any] = {"State": {}}
        self.removed = False

    def put_archive(self, path: str, data: bytes) -> bool:
        self.archives.append((path, data))
        return True

    def start(self) -> None:
        pass

    def logs(self, **options: Any):
        return iter([b"training\n"])

    def wait(self) -> dict[str, int]:
        return {"StatusCode": self.exit_code}

    def reload(self) -> None:
        pass

    def get_archive(self, path: str):
        if path not in self.written:
            raise docker.errors.NotFound(f"Could not find the file {path} in container")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size = len(self.written[path])
            archive.addfile(info, io.BytesIO(self.written[path]))
        return iter([buffer.getvalue()]), {}

    def remove(self, **options: Any) -> None:
        self.removed = True


class FakeImages:
    def __init__(self, present: set[str], error: Exception | None = None) -> None:
        self.present = present
        self.error = error
        self.pulled: list[str] = []

    def get(self, name: str):
        if self.error is not None:
            raise self.error
        if name not in self.present:
            raise docker.errors.ImageNotFound(f"No such image: {name}")
        return name

    def pull(self, name: str):
        self.pulled.append(name)


class FakeContainers:
    def __init__(self, written: dict[str, bytes], exit_code: int) -> None:
        self.written = written
        self.exit_code = exit_code
        self.created: list[FakeContainer] = []

    def create(self, **options: Any) -> FakeContainer:
        container = FakeContainer(options, self.written, self.exit_code)
        self.created.append(container)
        return container

    def list(self, **filters: Any) -> list[Any]:
        return []


class Listing:
    def list(self, **filters: Any) -> list[Any]:
        return []


class FakeClient:
    def __init__(
        self,
        present: set[str] = frozenset({"trainer:1"}),
        *,
        written: dict[str, bytes] | None = None,
        exit_code: int = 0,
        image_error: Exception | None = None,
    ) -> None:
        self.images = FakeImages(set(present), image_error)
        self.containers = FakeContainers(written or {}, exit_code)
        self.volumes = Listing()
        self.networks = Listing()

    def info(self) -> dict[str, Any]:
        return {"NCPU": 2}


def training_request(**fields: Any) -> ExecutionRequest:
    values: dict[str, Any] = {
        "attempt_id": "service-job-1/1",
        "job_id": "service-job-1",
        "image": "trainer:1",
        "command": ("train",),
        "environment": {},
        "vcpus": 0,
        "memory_mib": 0,
        "log": LOG,
        "hostname": "algo-1",
        "files": (("/opt/ml/input/config/hyperparameters.json", "{}"),),
        "directories": ("/opt/ml/model",),
        "collect_files": ("/opt/ml/output/failure",),
        "pull_image": False,
    }
    values.update(fields)
    return ExecutionRequest(**values)


def run(client: FakeClient, request: ExecutionRequest) -> list[ExecutionUpdate]:
    executor = DockerExecutor(NullLogStore(), client, remove_leftovers=False)  # type: ignore[arg-type]
    try:
        executor.start(request)
        updates: list[ExecutionUpdate] = []
        deadline = time.monotonic() + 10
        while not any(update.kind is not UpdateKind.RUNNING for update in updates):
            assert time.monotonic() < deadline, f"no final update within 10 s: {updates}"
            updates += executor.poll()
            time.sleep(0.01)
        return updates
    finally:
        executor.close()


def test_has_image_asks_the_daemon_and_never_pulls():
    client = FakeClient({"trainer:1"})
    executor = DockerExecutor(NullLogStore(), client, remove_leftovers=False)  # type: ignore[arg-type]
    try:
        assert executor.has_image("trainer:1") is True
        assert executor.has_image("absent:1") is False
        assert client.images.pulled == []
    finally:
        executor.close()


def test_has_image_is_false_when_the_daemon_cannot_answer():
    client = FakeClient(image_error=requests.exceptions.ConnectionError("refused"))
    executor = DockerExecutor(NullLogStore(), client, remove_leftovers=False)  # type: ignore[arg-type]
    try:
        assert executor.has_image("trainer:1") is False
    finally:
        executor.close()


def test_an_absent_image_fails_to_start_instead_of_being_pulled():
    client = FakeClient(present=set())

    [update] = run(client, training_request())

    assert update == ExecutionUpdate(
        "service-job-1/1",
        UpdateKind.FAILED_TO_START,
        reason="CannotPullContainerError: Error response from daemon: No such image: trainer:1",
    )
    assert client.images.pulled == [] and client.containers.created == []


def test_files_go_in_before_the_start_and_the_named_files_come_back_after_the_exit():
    client = FakeClient(written={"/opt/ml/output/failure": b"bad learning rate\n"}, exit_code=3)

    updates = run(client, training_request())

    assert [update.kind for update in updates] == [UpdateKind.RUNNING, UpdateKind.EXITED]
    assert updates[-1].exit_code == 3
    assert updates[-1].files == (("/opt/ml/output/failure", "bad learning rate\n"),)
    [container] = client.containers.created
    assert container.options["hostname"] == "algo-1"
    assert container.options["command"] == ["train"]
    [(path, data)] = container.archives
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    assert path == "/"
    assert "opt/ml/input/config/hyperparameters.json" in names and "opt/ml/model" in names
    assert container.removed


def test_a_file_the_container_did_not_write_is_left_out():
    updates = run(FakeClient(exit_code=0), training_request())

    assert updates[-1] == ExecutionUpdate("service-job-1/1", UpdateKind.EXITED, exit_code=0)
