"""Jobs through boto3 against an emulator running them in real Docker containers (the locally built
busybox image): output and AWS_BATCH_* variables in the log, exit codes, an image that cannot be
pulled, TerminateJob and timeouts stopping a container, and whether a job can call the emulator
back.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from emulator.executors.docker import ATTEMPT_LABEL, MANAGED_LABEL
from emulator.testing import Emulator
from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

QUEUE = "docker-q"
CE = "docker-ce"


@pytest.fixture(scope="module")
def emulator_settings(emulator_settings: dict[str, Any]) -> dict[str, Any]:
    return {**emulator_settings, "min_timeout_seconds": 1}


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return QUEUE, CE


@pytest.fixture
def logs(emulator: Emulator):
    return emulator.client("logs")


def define(batch, name: str, command: list[str], image: str, **container: Any) -> str:
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
    return name


def submit(batch, definition: str, **extra: Any) -> str:
    return batch.submit_job(jobName=definition, jobQueue=QUEUE, jobDefinition=definition, **extra)["jobId"]


def log_lines(logs, detail: dict[str, Any]) -> list[str]:
    events = logs.get_log_events(
        logGroupName="/aws/batch/job", logStreamName=detail["container"]["logStreamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def test_container_job_succeeds_with_its_output_and_variables(batch, logs, test_image):
    definition = define(
        batch,
        "hello",
        ["sh", "-c", "echo hello from a container; env | grep ^AWS_BATCH_ | sort"],
        test_image,
    )
    parent = submit(batch, definition, arrayProperties={"size": 2})
    wait_for_job(batch, parent, "SUCCEEDED", timeout_seconds=60)

    child = batch.describe_jobs(jobs=[f"{parent}:1"])["jobs"][0]
    assert child["container"]["exitCode"] == 0
    assert child["statusReason"] == "Essential container in task exited"
    lines = log_lines(logs, child)
    assert lines[0] == "hello from a container"
    assert dict(line.split("=", 1) for line in lines[1:]) == {
        "AWS_BATCH_CE_NAME": CE,
        "AWS_BATCH_JOB_ARRAY_INDEX": "1",
        "AWS_BATCH_JOB_ARRAY_SIZE": "2",
        "AWS_BATCH_JOB_ATTEMPT": "1",
        "AWS_BATCH_JOB_ID": f"{parent}:1",
        "AWS_BATCH_JQ_NAME": QUEUE,
    }


def test_container_non_zero_exit_fails_the_job(batch, test_image):
    job_id = submit(batch, define(batch, "exit42", ["sh", "-c", "exit 42"], test_image))
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=60)
    assert detail["container"]["exitCode"] == 42
    assert detail["statusReason"] == "Essential container in task exited"
    assert detail["createdAt"] <= detail["startedAt"] <= detail["stoppedAt"]


def test_image_that_is_not_local_fails_to_start(batch):
    """No registry is reachable here, so the pull fails, as a pull of a missing image does on AWS."""
    image = "batch-emulator-test/no-such-image:never"
    job_id = submit(batch, define(batch, "nopull", ["true"], image))
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=90)
    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"].startswith("CannotPullContainerError:")
    assert "exitCode" not in detail["container"]
    [attempt] = detail["attempts"]
    assert "startedAt" not in attempt


def test_terminate_stops_the_container(batch, docker_client, test_image):
    job_id = submit(batch, define(batch, "sleeper", ["sleep", "60"], test_image))
    wait_for_job(batch, job_id, "RUNNING", timeout_seconds=60)
    selector = {"label": [f"{MANAGED_LABEL}=true", f"{ATTEMPT_LABEL}={job_id}/1"]}
    assert [c.status for c in docker_client.containers.list(filters=selector)] == ["running"]

    batch.terminate_job(jobId=job_id, reason="stopped by the test")
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    assert detail["statusReason"] == "stopped by the test"
    assert detail["isTerminated"] is True
    assert detail["container"]["exitCode"] in (137, 143)

    deadline = time.monotonic() + 10
    while docker_client.containers.list(all=True, filters=selector) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert docker_client.containers.list(all=True, filters=selector) == []


def test_terminate_while_starting_never_runs_the_container(batch, emulator, test_image):
    """Terminated while Docker still creates its container: FAILED straight from STARTING, with no
    startedAt and no log stream, since nothing ran."""
    definition = define(batch, "early", ["sleep", "60"], test_image)
    for _ in range(5):  # STARTING lasts a few hundred milliseconds; catch it
        job_id = submit(batch, definition)
        status, deadline = "SUBMITTED", time.monotonic() + 30
        while status in ("SUBMITTED", "RUNNABLE") and time.monotonic() < deadline:
            status = batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"]
        batch.terminate_job(jobId=job_id, reason="terminated while starting")
        detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
        if status == "STARTING":
            break
    else:
        pytest.fail("never saw the job in STARTING")

    history = [status for status, _ in emulator.controls.job_history(job_id)]
    assert history == ["SUBMITTED", "RUNNABLE", "STARTING", "FAILED"]
    assert detail["statusReason"] == "terminated while starting"
    assert detail["isTerminated"] is True
    assert "startedAt" not in detail
    [attempt] = detail["attempts"]
    assert "startedAt" not in attempt
    assert "logStreamName" not in attempt["container"]
    assert "exitCode" not in attempt["container"]


def test_timeout_stops_the_container(batch, test_image):
    job_id = submit(
        batch,
        define(batch, "slow", ["sleep", "30"], test_image),
        timeout={"attemptDurationSeconds": 1},
        retryStrategy={"attempts": 2},
    )
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    assert detail["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(detail["attempts"]) == 1


CALL_BACK = (
    'PORT="${AWS_ENDPOINT_URL##*:}"; '
    # busybox's wget crashes resolving names in the static scratch image; nc with the address works.
    "IP=$(grep host.docker.internal /etc/hosts | cut -f1); "
    'printf "GET /_emulator/health HTTP/1.0\\r\\n\\r\\n" | nc -w 5 "$IP" "$PORT"'
)


def test_job_calls_the_emulator_back(batch, logs, test_image):
    job_id = submit(batch, define(batch, "callback", ["sh", "-c", CALL_BACK], test_image))
    detail = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=60)
    assert any('"status": "ok"' in line or '"status":"ok"' in line for line in log_lines(logs, detail))
