"""Executors across a restart on a state directory, and the Docker daemon failing mid-run, with
stand-in Docker clients (no daemon needed) and real local processes.

- DockerExecutor.adopt follows a container an earlier server started, skipping the output lines
  already stored, and never adopts a container that was created but never started;
- the daemon vanishing while a container runs ends the attempt with AWS's
  CannotInspectContainerError and no exit code, and the engine retries it per the strategy;
- ProcessExecutor.adopt kills what a killed server's attempt left running and reports it lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests.exceptions

from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.records import (
    ComputeEnvironment,
    ContainerSpec,
    JobQueue,
    JobStatus,
    JobSubmission,
    RetryPolicy,
)
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.docker import DockerExecutor
from emulator.executors.process import ProcessExecutor
from emulator.stores.memory import MemoryLogStore

ACCOUNT, REGION, GROUP = "123456789012", "us-east-1", "/aws/batch/job"
LOG = LogTarget(ACCOUNT, REGION, GROUP, "def/default/abc")


class FakeContainer:
    def __init__(
        self, status: str = "running", output: list[bytes] | None = None, fail_after: int | None = None
    ):
        self.status = status
        self.short_id = "c0ffee"
        self.output = output or []
        self.fail_after = fail_after  # chunks served before the daemon "goes away"
        self.attrs = {"State": {"OOMKilled": False}}
        self.removed = False
        self.started = 0

    def start(self) -> None:
        self.started += 1

    def logs(self, **options):
        for index, chunk in enumerate(self.output):
            if self.fail_after is not None and index >= self.fail_after:
                raise requests.exceptions.ConnectionError("daemon went away")
            yield chunk

    def wait(self):
        return {"StatusCode": 0}

    def reload(self) -> None:
        pass

    def stop(self, timeout: int) -> None:
        pass

    def remove(self, force: bool, v: bool) -> None:
        self.removed = True


class FakeContainers:
    def __init__(self, found=(), created=()):
        self.found = list(found)
        self.created = list(created)
        self.create_calls = 0

    def list(self, **filters):
        return list(self.found) if "attempt-id" in str(filters) else []

    def create(self, **options):
        self.create_calls += 1
        return self.created.pop(0)


class FakeImages:
    def get(self, name):
        return object()


class FakeVolumes:
    def list(self, **filters):
        return []


class FakeClient:
    def __init__(self, containers: FakeContainers) -> None:
        self.containers = containers
        self.images = FakeImages()
        self.volumes = FakeVolumes()
        self.networks = FakeVolumes()  # nothing labelled to list

    def info(self):
        return {"NCPU": 2}


def request(attempt_id: str = "job-1/1", **fields) -> ExecutionRequest:
    values = {
        "attempt_id": attempt_id,
        "job_id": attempt_id.split("/")[0],
        "image": "busybox",
        "command": ("true",),
        "environment": {},
        "vcpus": 1.0,
        "memory_mib": 64,
        "log": LOG,
    }
    values.update(fields)
    return ExecutionRequest(**values)


def updates_until_exit(executor, timeout_seconds: float = 10) -> list[ExecutionUpdate]:
    seen: list[ExecutionUpdate] = []
    deadline = time.monotonic() + timeout_seconds
    while not any(u.kind is not UpdateKind.RUNNING for u in seen):
        assert time.monotonic() < deadline, f"no final update; got {seen}"
        seen += executor.poll()
        time.sleep(0.01)
    return seen


def messages(store: MemoryLogStore) -> list[str]:
    return [e.message for e in store.read_events(ACCOUNT, REGION, GROUP, LOG.stream, limit=100)]


def test_adopt_follows_a_running_container_and_stores_only_the_lines_not_stored_yet() -> None:
    store = MemoryLogStore()
    store.put_events(ACCOUNT, REGION, GROUP, LOG.stream, [(1, "one"), (2, "two")])  # before the crash
    container = FakeContainer(output=[b"one\ntw", b"o\nthree\n", b"four"])
    executor = DockerExecutor(store, client=FakeClient(FakeContainers(found=[container])))
    assert executor.adopt(request())
    updates = updates_until_exit(executor)
    assert [u.kind for u in updates] == [UpdateKind.RUNNING, UpdateKind.EXITED]
    assert updates[-1].exit_code == 0
    assert messages(store) == ["one", "two", "three", "four"]
    assert container.removed and container.started == 0
    executor.close()


def test_adopt_refuses_what_is_missing_or_never_started() -> None:
    store = MemoryLogStore()
    assert not DockerExecutor(store, client=FakeClient(FakeContainers())).adopt(request())
    created = FakeContainer(status="created")
    executor = DockerExecutor(store, client=FakeClient(FakeContainers(found=[created])))
    assert not executor.adopt(request())
    assert created.started == 0
    assert executor.live_attempts() == []


def test_the_daemon_vanishing_mid_run_ends_the_attempt_as_aws_does() -> None:
    container = FakeContainer(output=[b"working\n", b"more\n"], fail_after=1)
    executor = DockerExecutor(MemoryLogStore(), client=FakeClient(FakeContainers(created=[container])))
    executor.start(request())
    final = updates_until_exit(executor)[-1]
    assert final.kind is UpdateKind.EXITED
    assert final.exit_code is None
    assert final.reason.startswith("CannotInspectContainerError")
    executor.close()


def test_the_engine_retries_an_attempt_lost_to_the_daemon_and_carries_on() -> None:
    lost = FakeContainer(output=[b"a\n", b"b\n"], fail_after=1)
    fine = FakeContainer(output=[b"ok\n"])
    containers = FakeContainers(created=[lost, fine])
    executor = DockerExecutor(MemoryLogStore(), client=FakeClient(containers))
    clock = ManualClock(1_000_000)
    engine = Engine(clock=clock, executor=executor, max_running=2)
    ce = f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/ce"
    queue = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/q"
    engine.put_compute_environment(ComputeEnvironment(ce, "ce", True, True, 4))
    engine.put_queue(JobQueue(queue, "q", True, 1, (ce,)))
    job = engine.submit(
        JobSubmission(
            ACCOUNT,
            REGION,
            "j",
            queue,
            "q",
            "jd",
            ContainerSpec(image="busybox"),
            retry=RetryPolicy(attempts=2),
        )
    )
    deadline = time.monotonic() + 10
    while not engine.get_job(job.job_id).status.is_terminal:
        assert time.monotonic() < deadline
        engine.run_pass()
        time.sleep(0.01)
    finished = engine.get_job(job.job_id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.attempts[0].reason.startswith("CannotInspectContainerError")
    assert containers.create_calls == 2
    executor.close()


def test_process_adopt_kills_what_a_killed_server_left_and_reports_the_attempt_lost(tmp_path) -> None:
    environment = {**os.environ, "AWS_BATCH_JOB_ID": "job-orphan", "AWS_BATCH_JOB_ATTEMPT": "1"}
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=environment, start_new_session=True
    )
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={**environment, "AWS_BATCH_JOB_ATTEMPT": "2"},
        start_new_session=True,
    )
    try:
        executor = ProcessExecutor(MemoryLogStore())
        adopted = executor.adopt(
            request(
                "job-orphan/1", environment={"AWS_BATCH_JOB_ID": "job-orphan", "AWS_BATCH_JOB_ATTEMPT": "1"}
            )
        )
        assert adopted is False
        assert orphan.wait(timeout=10) == -9
        assert bystander.poll() is None  # another attempt's process is not touched
    finally:
        for process in (orphan, bystander):
            process.kill()
            process.wait()
