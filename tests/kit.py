"""Set-up and waiting shared by the tests that drive an emulator from outside: integration, Docker
and executor tests.

Imported as `kit`: tests/conftest.py puts tests/ on sys.path (pytest's default import mode), as
tests/unit/engine/conftest.py does for engine_kit. What a single module needs stays in that module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import emulator
from emulator.app import close_app, create_app, runtime_of
from emulator.config import Settings
from emulator.executors.base import LogTarget
from emulator.testing import Emulator
from emulator.testing.server import ServerThread

REQUIREMENTS = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]
URL = re.compile(r"http://127\.0\.0\.1:\d+")


# ---- servers -------------------------------------------------------------------------------


@contextmanager
def serving(settings: Settings) -> Iterator[ServerThread]:
    """An app built from `settings`, served on a free port until the block ends."""
    app = create_app(settings)
    runtime_of(app).server_errors.recording = True  # for assert_no_server_errors
    thread = ServerThread(app).start()
    yield thread
    thread.stop()
    close_app(app)


def assert_no_server_errors(server: ServerThread) -> None:
    """Errors the server thread recorded fail the test that caused them, once."""
    errors = runtime_of(server.app).server_errors.drain()
    assert errors == [], f"server raised: {errors!r}"


def batch_client_for(url: str):
    """boto3 against `url` with dummy credentials and retries off, so a failure shows at once."""
    return boto3.client(
        "batch",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def start_server_process(arguments: list[str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """`python -m emulator --port 0 <arguments>` with stderr appended to `log_path`; returns the
    process once it has printed its banner, and the URL it printed."""
    with log_path.open("a") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    url = ""
    for line in process.stdout:
        url = url or (URL.search(line).group(0) if URL.search(line) else "")
        if line.strip().startswith("aws batch"):
            break
    if not url:
        process.kill()
        raise AssertionError(f"server did not start; log: {log_path.read_text()[-3000:]}")
    return process, url


@contextmanager
def fresh_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """Around a test on a module's own emulator: reset with the clock running before and after;
    fail on what the server raised in between."""
    emulator.reset()
    emulator.controls.resume_clock()
    yield emulator
    emulator.controls.resume_clock()
    emulator.reset()
    errors = emulator.runtime.server_errors
    assert not errors, f"the emulator failed while serving this test: {errors!r}"


def reset_after_containers(emulator: Emulator) -> None:
    """Reset, then wait for the attempts it stopped to be gone; fail if any stay or the server raised."""
    emulator.reset()
    deadline = time.monotonic() + 20
    while emulator.runtime.live_attempts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not emulator.runtime.live_attempts(), "containers still running after reset"
    assert not emulator.runtime.server_errors, f"server raised: {emulator.runtime.server_errors!r}"


def run_pytest(directory: Path, settings: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh interpreter on the tests in `directory`, as a user of the plugin runs
    them: with only this project's plugin loaded (no other installed plugin), and a conftest.py
    whose `batch_emulator_settings` returns `settings` (a Python expression)."""
    (directory / "conftest.py").write_text(
        "import pytest\n\n\n"
        '@pytest.fixture(scope="session")\n'
        f"def batch_emulator_settings():\n    return {settings}\n"
    )
    source_root = str(Path(emulator.__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")])),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    plugins = ["-p", "emulator.testing.plugin", "-p", "no:cacheprovider", "-p", "no:logging"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, "."],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )


# ---- resources -----------------------------------------------------------------------------


def create_queue(batch, queue: str, compute_environment: str, **environment: Any) -> str:
    """An UNMANAGED compute environment (or what `environment` says) and a queue using only it."""
    environment.setdefault("type", "UNMANAGED")
    batch.create_compute_environment(computeEnvironmentName=compute_environment, **environment)
    batch.create_job_queue(
        jobQueueName=queue,
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute_environment}],
    )
    return queue


def define(
    batch,
    name: str,
    command: list[str],
    requirements: list[dict[str, str]] = REQUIREMENTS,
    *,
    container: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    """Register a busybox container job definition running `command`; returns its name.
    `container` adds to containerProperties, `extra` to the request."""
    properties = {"image": "busybox", "command": command, "resourceRequirements": requirements}
    properties.update(container or {})
    batch.register_job_definition(
        jobDefinitionName=name, type="container", containerProperties=properties, **extra
    )
    return name


def submit(batch, queue: str, definition: str, name: str | None = None, **extra: Any) -> str:
    """Submit `definition` (to `queue` unless `extra` names a jobQueue) as `name` or the definition's
    name; returns the job id."""
    extra.setdefault("jobQueue", queue)
    return batch.submit_job(jobName=name or definition, jobDefinition=definition, **extra)["jobId"]


# ---- reading and waiting -------------------------------------------------------------------


def describe(batch, job_id: str) -> dict[str, Any]:
    return batch.describe_jobs(jobs=[job_id])["jobs"][0]


def log_lines(logs, detail: dict[str, Any]) -> list[str]:
    """The messages of the job's log stream, oldest first."""
    events = logs.get_log_events(
        logGroupName="/aws/batch/job", logStreamName=detail["container"]["logStreamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def eventually(probe: Callable[[], Any], *, timeout_seconds: float = 15.0, what: str = "condition") -> Any:
    """Poll `probe` until it returns something truthy; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_seconds} s waiting for {what}")
        time.sleep(0.02)


def poll(probe: Callable[[], Any], timeout_seconds: float = 10.0) -> Any:
    """Poll `probe` until it returns something truthy or the deadline passes; returns its last value,
    for the caller to assert on."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# ---- executors -----------------------------------------------------------------------------


class RecordingLogStore:
    """Just enough of a LogStore to see what an executor wrote."""

    def __init__(self) -> None:
        self.streams: set[tuple[str, str, str, str]] = set()
        self.events: dict[tuple[str, str, str, str], list[tuple[int, str]]] = {}
        self._lock = threading.Lock()

    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        with self._lock:
            self.streams.add((account_id, region, group, stream))

    def put_events(
        self, account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        key = (account_id, region, group, stream)
        with self._lock:
            self.streams.add(key)
            self.events.setdefault(key, []).extend(events)

    def lines(self, target: LogTarget) -> list[str]:
        with self._lock:
            key = (target.account_id, target.region, target.group, target.stream)
            return [line for _, line in self.events.get(key, [])]
