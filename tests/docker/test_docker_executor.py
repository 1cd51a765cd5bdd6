"""DockerExecutor against the real daemon: exit codes, output, environment, OOM, stop, pull failure,
clean-up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import docker
import pytest

from emulator.engine.records import Mount, Volume
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.docker import (
    ATTEMPT_LABEL,
    INSTANCE_LABEL,
    MANAGED_LABEL,
    OOM_REASON,
    OWNER_LABEL,
    DockerExecutor,
    _this_process_as_owner,
)

pytestmark = pytest.mark.docker

LOG = LogTarget("123456789012", "us-east-1", "/aws/batch/job", "def/default/abc")


@pytest.fixture
def executor(docker_client, test_image, log_store) -> Iterator[DockerExecutor]:
    executor = DockerExecutor(log_store, docker_client, stop_timeout_seconds=1.0, max_workers=4)
    yield executor
    executor.close()


def request(image: str, *command: str, attempt_id: str = "job-1/1", **fields: object) -> ExecutionRequest:
    values: dict[str, object] = {
        "attempt_id": attempt_id,
        "job_id": attempt_id.split("/")[0],
        "image": image,
        "command": command,
        "environment": {"AWS_BATCH_JOB_ID": attempt_id.split("/")[0]},
        "vcpus": 1.0,
        "memory_mib": 64,
        "log": LOG,
    }
    values.update(fields)
    return ExecutionRequest(**values)  # type: ignore[arg-type]


def ours(attempt_id: str) -> list[str]:
    """Label filter for one attempt's container made by this process (other test runs may share the
    daemon)."""
    return [f"{ATTEMPT_LABEL}={attempt_id}", f"{OWNER_LABEL}={_this_process_as_owner()}"]


def final_update(
    executor: DockerExecutor, attempt_id: str = "job-1/1", timeout_seconds: float = 20.0
) -> ExecutionUpdate:
    return wait_for(
        executor, lambda u: u.attempt_id == attempt_id and u.kind != UpdateKind.RUNNING, timeout_seconds
    )


def wait_for(
    executor: DockerExecutor, predicate: Callable[[ExecutionUpdate], bool], timeout_seconds: float = 20.0
) -> ExecutionUpdate:
    deadline = time.monotonic() + timeout_seconds
    seen: list[ExecutionUpdate] = []
    while True:
        seen.extend(executor.poll())
        for update in seen:
            if predicate(update):
                return update
        assert time.monotonic() < deadline, f"no matching update within {timeout_seconds} s; got {seen}"
        time.sleep(0.01)


def test_container_exits_zero_and_its_output_reaches_the_log_store(executor, test_image, log_store):
    executor.start(request(test_image, "sh", "-c", "echo hello; echo oops >&2"))

    wait_for(executor, lambda u: u.kind == UpdateKind.RUNNING)
    final = final_update(executor)

    assert final == ExecutionUpdate("job-1/1", UpdateKind.EXITED, exit_code=0)
    assert sorted(log_store.lines(LOG)) == ["hello", "oops"]
    assert ("123456789012", "us-east-1", "/aws/batch/job", "def/default/abc") in log_store.streams


def test_environment_is_visible_inside_the_container(executor, test_image, log_store):
    environment = {"AWS_BATCH_JOB_ID": "job-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:8734"}
    executor.start(
        request(test_image, "sh", "-c", "echo $AWS_BATCH_JOB_ID $AWS_ENDPOINT_URL", environment=environment)
    )

    assert final_update(executor).exit_code == 0
    assert log_store.lines(LOG) == ["job-1 http://host.docker.internal:8734"]


def test_non_zero_exit_code_is_reported(executor, test_image):
    executor.start(request(test_image, "sh", "-c", "exit 7"))

    assert final_update(executor) == ExecutionUpdate("job-1/1", UpdateKind.EXITED, exit_code=7)


def test_memory_hog_is_oom_killed_with_aws_reason(executor, test_image):
    hog = "x=$(head -c 50000000 /dev/zero | tr '\\0' a); echo done"
    executor.start(request(test_image, "sh", "-c", hog, memory_mib=6))

    final = final_update(executor)

    assert final == ExecutionUpdate("job-1/1", UpdateKind.EXITED, exit_code=137, reason=OOM_REASON)


def test_stop_ends_a_long_container_quickly(executor, test_image, docker_client):
    executor.start(request(test_image, "sleep", "300"))
    wait_for(executor, lambda u: u.kind == UpdateKind.RUNNING)

    started = time.monotonic()
    executor.stop("job-1/1", "Terminated by test")
    final = final_update(executor)

    assert final.kind == UpdateKind.EXITED
    assert final.exit_code in (137, 143)  # sleep as PID 1 ignores SIGTERM, so 137 after the 1 s timeout
    assert time.monotonic() - started < 10


def test_stop_while_pulling_or_creating_never_runs_the_container(executor, test_image):
    executor.start(request(test_image, "sleep", "300"))
    executor.stop("job-1/1", "Terminated by test")

    final = final_update(executor)

    assert final.kind == UpdateKind.EXITED


def test_missing_image_that_cannot_be_pulled_fails_to_start(executor):
    executor.start(request("batch-emulator-test/does-not-exist:latest", "true"))

    final = final_update(executor)

    assert final.kind == UpdateKind.FAILED_TO_START
    assert (final.reason or "").startswith("CannotPullContainerError: Error response from daemon: ")


def test_bad_entrypoint_fails_to_start(executor, test_image):
    executor.start(request(test_image, "/no/such/binary"))

    final = final_update(executor)

    assert final.kind == UpdateKind.FAILED_TO_START
    assert (final.reason or "").startswith("CannotStartContainerError: Error response from daemon: ")
    assert "/no/such/binary" in (final.reason or "")


def test_scratch_volume_is_shared_by_its_mount_points_and_removed(executor, test_image, log_store):
    executor.start(
        request(
            test_image,
            "sh",
            "-c",
            "echo shared > /a/file; cat /b/file",
            volumes=(Volume("scratch", None),),
            mounts=(Mount("scratch", "/a"), Mount("scratch", "/b", read_only=True)),
        )
    )

    assert final_update(executor).exit_code == 0
    assert log_store.lines(LOG) == ["shared"]  # the autouse fixture checks the volume is gone


def test_host_path_volume_is_bind_mounted(executor, test_image, tmp_path, log_store):
    (tmp_path / "input.txt").write_text("from the host\n")
    executor.start(
        request(
            test_image,
            "cat",
            "/data/input.txt",
            volumes=(Volume("data", str(tmp_path)),),
            mounts=(Mount("data", "/data", read_only=True),),
        )
    )

    assert final_update(executor).exit_code == 0
    assert log_store.lines(LOG) == ["from the host"]


def test_containers_are_labelled_while_they_run(executor, test_image, docker_client):
    executor.start(request(test_image, "sleep", "300", labels={"team": "data"}))
    wait_for(executor, lambda u: u.kind == UpdateKind.RUNNING)

    (container,) = docker_client.containers.list(filters={"label": ours("job-1/1")})

    assert container.labels[MANAGED_LABEL] == "true"
    assert container.labels[OWNER_LABEL] == _this_process_as_owner()
    assert container.labels["team"] == "data"
    executor.stop("job-1/1", "test over")
    final_update(executor)


def test_leftovers_of_a_crashed_run_are_removed_on_construction(docker_client, test_image, log_store):
    host, pid, _ = _this_process_as_owner().split("/")
    dead_owner = f"{host}/{pid}/1"  # this pid, but a start time it never had: a process long gone
    leftover = docker_client.containers.create(
        test_image, ["sleep", "300"], labels={MANAGED_LABEL: "true", OWNER_LABEL: dead_owner}
    )
    try:
        DockerExecutor(log_store, docker_client).close()

        with pytest.raises(docker.errors.NotFound):
            leftover.reload()
    finally:
        _remove_quietly(leftover)


def test_containers_of_a_live_emulator_sharing_the_daemon_are_left_alone(
    docker_client, test_image, log_store
):
    other = {MANAGED_LABEL: "true", OWNER_LABEL: _this_process_as_owner(), INSTANCE_LABEL: "another"}
    theirs = docker_client.containers.create(test_image, ["sleep", "300"], labels=other)
    try:
        DockerExecutor(log_store, docker_client).close()

        theirs.reload()  # still there
    finally:
        _remove_quietly(theirs)


def _remove_quietly(container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


def test_close_stops_and_removes_running_containers(docker_client, test_image, log_store):
    executor = DockerExecutor(log_store, docker_client, stop_timeout_seconds=1.0)
    executor.start(request(test_image, "sleep", "300"))
    wait_for(executor, lambda u: u.kind == UpdateKind.RUNNING)

    executor.close()

    assert not docker_client.containers.list(all=True, filters={"label": ours("job-1/1")})


def test_factory_builds_a_docker_executor_when_the_daemon_answers(docker_client, log_store):
    from emulator.config import Settings
    from emulator.engine.clock import ManualClock
    from emulator.executors.factory import create_executor, docker_available

    assert docker_available()
    executor = create_executor(Settings(executor="auto"), clock=ManualClock(), log_store=log_store)
    try:
        assert isinstance(executor, DockerExecutor)
    finally:
        executor.close()


def test_live_attempts_lists_an_attempt_until_its_container_is_removed(executor, test_image):
    executor.start(request(test_image, "sleep", "300"))
    wait_for(executor, lambda u: u.kind == UpdateKind.RUNNING)

    assert executor.live_attempts() == ["job-1/1"]
    executor.stop("job-1/1", "test over")
    final_update(executor)
    assert executor.live_attempts() == []


def test_attempts_beyond_the_worker_limit_queue_without_more_threads(docker_client, test_image, log_store):
    import threading

    executor = DockerExecutor(log_store, docker_client, stop_timeout_seconds=1.0, max_workers=2)
    threads_before = threading.active_count()
    try:
        for index in range(6):
            executor.start(request(test_image, "sh", "-c", f"exit {index}", attempt_id=f"array:{index}/1"))
        exit_codes: dict[str, int | None] = {}
        deadline = time.monotonic() + 30
        while len(exit_codes) < 6:
            assert time.monotonic() < deadline, f"only {exit_codes} finished"
            for update in executor.poll():
                if update.kind != UpdateKind.RUNNING:
                    exit_codes[update.attempt_id] = update.exit_code
            assert threading.active_count() - threads_before <= 4  # 2 attempt + 2 stop threads at most
            time.sleep(0.01)
        assert exit_codes == {f"array:{index}/1": index for index in range(6)}
    finally:
        executor.close()
