"""create_executor picks the executor Settings.executor names, and says plainly when Docker is missing."""

from __future__ import annotations

import pytest

from emulator.config import Settings
from emulator.engine.clock import ManualClock
from emulator.executors import factory
from emulator.executors.process import ProcessExecutor

NO_DAEMON = "unix:///nonexistent/docker.sock"


class NullLogStore:
    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        pass

    def put_events(self, account_id, region, group, stream, events) -> None:
        pass


def build(kind: str, **settings: object):
    return factory.create_executor(
        Settings(executor=kind, **settings), clock=ManualClock(), log_store=NullLogStore()
    )


def test_process_executor_gets_the_stop_timeout():
    executor = build("process", stop_timeout_seconds=2.5)
    try:
        assert isinstance(executor, ProcessExecutor)
        assert executor._stop_timeout_seconds == 2.5
    finally:
        executor.close()


def test_simulated_executor_is_built_on_the_engine_clock():
    from emulator.executors.simulated import SimulatedExecutor

    executor = build("simulated")
    try:
        assert isinstance(executor, SimulatedExecutor)
    finally:
        executor.close()


def test_docker_without_a_daemon_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)

    with pytest.raises(factory.DockerUnavailableError, match="needs a Docker daemon"):
        build("docker")


def test_docker_available_is_false_without_a_daemon(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)

    assert factory.docker_available() is False


def test_auto_falls_back_to_processes_without_a_daemon(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)

    executor = build("auto")
    try:
        assert isinstance(executor, ProcessExecutor)
    finally:
        executor.close()


def test_auto_takes_docker_when_the_daemon_answers(monkeypatch):
    sentinel = object()
    monkeypatch.setattr(factory, "docker_available", lambda: True)
    monkeypatch.setattr(factory, "_docker_executor", lambda settings, log_store: sentinel)

    assert build("auto") is sentinel


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="unknown executor"):
        build("mesos")


def test_auto_resolves_to_process_without_a_daemon(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)

    assert factory.resolve_executor_kind(Settings(executor="auto")) == "process"
    assert factory.resolve_executor_kind(Settings(executor="simulated")) == "simulated"


@pytest.mark.parametrize("kind", ["process", "simulated"])
def test_service_jobs_get_no_training_runner_without_docker(kind):
    runner = factory.create_training_runner(
        Settings(executor=kind), executor_kind=kind, log_store=NullLogStore()
    )

    assert runner is None
