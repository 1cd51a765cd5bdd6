"""ProcessExecutor against real subprocesses: exit codes, output, environment, stop, start failures."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

import kit
import pytest

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.process import ProcessExecutor

LOG = LogTarget("123456789012", "us-east-1", "/aws/batch/job", "def/default/abc")


class RecordingLogStore(kit.RecordingLogStore):
    def lines(self, target: LogTarget = LOG) -> list[str]:
        return super().lines(target)


def _key(target: LogTarget) -> tuple[str, str, str, str]:
    return (target.account_id, target.region, target.group, target.stream)


def request(*command: str, attempt_id: str = "job-1/1", **fields: object) -> ExecutionRequest:
    values: dict[str, object] = {
        "attempt_id": attempt_id,
        "job_id": attempt_id.split("/")[0],
        "image": "busybox",
        "command": command,
        "environment": {"AWS_BATCH_JOB_ID": attempt_id.split("/")[0]},
        "vcpus": 1.0,
        "memory_mib": 128,
        "log": LOG,
    }
    values.update(fields)
    return ExecutionRequest(**values)  # type: ignore[arg-type]


class Collector:
    """Accumulates polled updates and waits, with a deadline, for the one a test needs."""

    def __init__(self, executor: ProcessExecutor) -> None:
        self.executor = executor
        self.updates: list[ExecutionUpdate] = []

    def wait_for(
        self, predicate: Callable[[ExecutionUpdate], bool], timeout_seconds: float = 10.0
    ) -> ExecutionUpdate:
        deadline = time.monotonic() + timeout_seconds
        while True:
            self.updates.extend(self.executor.poll())
            for update in self.updates:
                if predicate(update):
                    return update
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching update within {timeout_seconds} s; got {self.updates}")
            time.sleep(0.01)

    def final(self, attempt_id: str = "job-1/1", timeout_seconds: float = 10.0) -> ExecutionUpdate:
        return self.wait_for(
            lambda u: u.attempt_id == attempt_id and u.kind != UpdateKind.RUNNING, timeout_seconds
        )


@pytest.fixture
def log_store() -> RecordingLogStore:
    return RecordingLogStore()


@pytest.fixture
def executor(log_store: RecordingLogStore) -> Iterator[ProcessExecutor]:
    executor = ProcessExecutor(log_store, stop_timeout_seconds=1.0)
    yield executor
    executor.close()


@pytest.fixture
def updates(executor: ProcessExecutor) -> Collector:
    return Collector(executor)


def test_successful_command_reports_running_then_exit_code_zero(executor, updates, log_store):
    executor.start(request("true"))

    final = updates.final()

    assert final == ExecutionUpdate("job-1/1", UpdateKind.EXITED, exit_code=0)
    assert [u.kind for u in updates.updates] == [UpdateKind.RUNNING, UpdateKind.EXITED]
    assert _key(LOG) in log_store.streams


def test_non_zero_exit_code_is_reported(executor, updates):
    executor.start(request("sh", "-c", "exit 3"))

    assert updates.final().exit_code == 3


def test_stdout_and_stderr_lines_reach_the_log_store(executor, updates, log_store):
    executor.start(request("sh", "-c", "echo one; echo two >&2; printf 'no newline'"))

    updates.final()

    assert sorted(log_store.lines()) == ["no newline", "one", "two"]
    timestamps = [ts for ts, _ in log_store.events[_key(LOG)]]
    assert all(abs(ts - time.time() * 1000) < 60_000 for ts in timestamps)


def test_output_is_streamed_while_the_job_runs(executor, updates, log_store):
    executor.start(request("sh", "-c", "echo early; sleep 30"))

    deadline = time.monotonic() + 10
    while "early" not in log_store.lines():
        assert time.monotonic() < deadline, "line not streamed while the process runs"
        time.sleep(0.01)
    assert not any(u.kind == UpdateKind.EXITED for u in executor.poll())
    executor.stop("job-1/1", "test over")
    updates.final()


def test_environment_is_exactly_the_requested_one_plus_path_and_home(executor, updates, log_store):
    environment = {"AWS_BATCH_JOB_ID": "job-1", "GREETING": "hello world"}
    executor.start(request("env", environment=environment))

    updates.final()

    seen = dict(line.split("=", 1) for line in log_store.lines())
    expected = dict(environment)
    for name in ("PATH", "HOME"):
        if name in os.environ:
            expected[name] = os.environ[name]
    assert seen == expected


def test_requested_path_wins_over_the_servers(executor, updates, log_store):
    executor.start(request("/usr/bin/env", environment={"PATH": "/nowhere"}))

    updates.final()

    assert "PATH=/nowhere" in log_store.lines()


@pytest.mark.parametrize(
    ("script", "expected_exit_code"),
    [
        pytest.param("sleep 30 & sleep 30; wait", 143, id="sigterm-kills-shell-and-grandchild"),
        pytest.param("trap '' TERM; sleep 30 & sleep 30; wait", 137, id="sigkill-after-ignored-sigterm"),
    ],
)
def test_stop_kills_the_whole_process_group(executor, updates, log_store, script, expected_exit_code):
    executor.start(request("sh", "-c", f"echo grandchild=$$; {script}"))
    updates.wait_for(lambda u: u.kind == UpdateKind.RUNNING)
    shell_pid = _wait_for_logged_pid(log_store)
    grandchildren = _children_of(shell_pid)
    assert grandchildren, "the shell should have started its sleeps"

    executor.stop("job-1/1", "Terminated by test")
    final = updates.final()

    assert final.kind == UpdateKind.EXITED
    assert final.exit_code == expected_exit_code
    for pid in grandchildren:
        assert not _is_alive(pid), f"grandchild {pid} outlived the stop"


def test_leftover_background_processes_are_killed_when_the_main_process_exits(executor, updates, log_store):
    executor.start(request("sh", "-c", "echo grandchild=$$; sleep 30 & sleep 0.2; exit 0"))
    shell_pid = _wait_for_logged_pid(log_store)
    grandchildren = _children_of(shell_pid)

    assert updates.final().exit_code == 0
    for pid in grandchildren:
        assert not _is_alive(pid)


def test_missing_binary_fails_to_start(executor, updates):
    executor.start(request("/definitely/not/a/binary"))

    final = updates.final()

    assert final.kind == UpdateKind.FAILED_TO_START
    assert final.reason is not None
    assert final.reason.startswith("CannotStartContainerError: ")
    assert "/definitely/not/a/binary" in final.reason


def test_non_executable_file_fails_to_start(executor, updates, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")

    executor.start(request(str(script)))

    final = updates.final()
    assert final.kind == UpdateKind.FAILED_TO_START
    assert "Permission denied" in (final.reason or "")


def test_empty_command_fails_to_start(executor, updates):
    executor.start(request())

    final = updates.final()

    assert final.kind == UpdateKind.FAILED_TO_START
    assert (final.reason or "").startswith("CannotStartContainerError: ")


def test_trivial_job_finishes_within_milliseconds(executor, updates):
    executor.start(request("true", attempt_id="warmup/1"))
    updates.final("warmup/1")

    started = time.monotonic()
    executor.start(request("true"))
    final = updates.wait_for(lambda u: u.attempt_id == "job-1/1" and u.kind == UpdateKind.EXITED)

    assert final.exit_code == 0
    # Measured, not asserted (timings are noisy); bench/ reports the latency to done.
    print(f"process start -> EXITED in {(time.monotonic() - started) * 1000:.1f} ms")


def test_many_attempts_share_one_thread(executor, updates):
    threads_before = threading.active_count()

    for index in range(20):
        executor.start(request("sh", "-c", f"exit {index % 3}", attempt_id=f"array:{index}/1"))
    peak_threads = threading.active_count()
    for index in range(20):
        assert updates.final(f"array:{index}/1").exit_code == index % 3

    assert peak_threads - threads_before <= 1


def test_stop_of_unknown_attempt_is_ignored(executor, updates):
    executor.stop("never-started/1", "whatever")
    executor.start(request("true"))

    assert updates.final().exit_code == 0


def test_close_stops_running_processes(log_store):
    executor = ProcessExecutor(log_store, stop_timeout_seconds=1.0)
    executor.start(request("sh", "-c", "echo grandchild=$$; sleep 30"))
    shell_pid = _wait_for_logged_pid(log_store)

    executor.close()

    assert not _is_alive(shell_pid)
    assert any(u.kind == UpdateKind.EXITED for u in executor.poll())


def test_start_after_close_fails_to_start(log_store):
    executor = ProcessExecutor(log_store)
    executor.close()

    executor.start(request("true"))

    assert [u.kind for u in executor.poll()] == [UpdateKind.FAILED_TO_START]


def test_exit_is_detected_without_pidfd(monkeypatch, executor, updates):
    monkeypatch.delattr(os, "pidfd_open", raising=False)

    executor.start(request("sh", "-c", "exit 4"))

    assert updates.final().exit_code == 4


def _wait_for_logged_pid(log_store: RecordingLogStore) -> int:
    deadline = time.monotonic() + 10
    while True:
        for line in log_store.lines():
            if line.startswith("grandchild="):
                return int(line.split("=", 1)[1])
        assert time.monotonic() < deadline, "the job never logged its pid"
        time.sleep(0.01)


def _children_of(pid: int) -> list[int]:
    """Pids whose parent is `pid`, once at least one has appeared (Linux /proc)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("needs /proc to find grandchildren")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    children.append(int(entry))
        if children:
            return children
        time.sleep(0.01)
    return []


def _is_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_signal_death_maps_to_128_plus_signal(executor, updates):
    executor.start(request("sh", "-c", f"kill -{signal.SIGUSR1.value} $$"))

    assert updates.final().exit_code == 128 + signal.SIGUSR1.value


def test_exit_is_reported_even_if_an_escaped_process_keeps_the_pipes_open(executor, updates, log_store):
    executor.start(
        request("sh", "-c", "setsid sh -c 'echo escaped=$$; exec sleep 30' & sleep 0.2; echo done")
    )
    try:
        final = updates.final(timeout_seconds=5)
        assert final.exit_code == 0
        assert "done" in log_store.lines()
    finally:
        for line in log_store.lines():
            if line.startswith("escaped="):
                os.kill(int(line.split("=", 1)[1]), signal.SIGKILL)


def test_long_lines_are_split_like_dockers_log_driver(executor, updates, log_store):
    executor.start(request("sh", "-c", "head -c 40000 /dev/zero | tr '\\0' a; echo"))

    updates.final()

    assert [len(line) for line in log_store.lines()] == [16384, 16384, 40000 - 2 * 16384]


def test_live_attempts_lists_an_attempt_until_it_is_reported_ended(executor, updates):
    executor.start(request("sleep", "30"))
    updates.wait_for(lambda u: u.kind == UpdateKind.RUNNING)

    assert executor.live_attempts() == ["job-1/1"]
    executor.stop("job-1/1", "test over")
    updates.final()
    assert executor.live_attempts() == []
