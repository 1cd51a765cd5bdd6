"""The simulated executor through boto3 in its own emulator: outcomes scripted with the test
controls, measured on the emulator's clock, which a test pauses and moves forward. An hour-long job
finishes the moment the clock is advanced by an hour.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kit import create_queue, define, fresh_emulator

from emulator.testing import Emulator, running_emulator
from emulator.testing.client import ControlError
from emulator.testing.waiting import wait_for_job

QUEUE = "sim-q"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated") as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    with fresh_emulator(emulator):
        client = emulator.client("batch")
        create_queue(client, QUEUE, "sim-ce")
        define(client, "sim", ["run-for-an-hour"])
        yield client


@pytest.fixture
def controls(emulator: Emulator):
    return emulator.controls


def submit(batch, name: str, **extra: Any) -> str:
    return batch.submit_job(jobName=name, jobQueue=QUEUE, jobDefinition="sim", **extra)["jobId"]


def status_after_a_pass(batch, job_id: str) -> str:
    """The job's status once the engine has applied everything asked before this call: a job
    submitted now (which succeeds at once) has ended only after a later pass."""
    marker = submit(batch, "marker")
    wait_for_job(batch, marker, "SUCCEEDED", timeout_seconds=10)
    return batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"]


def test_scripted_hour_long_job_ends_when_the_clock_advances(batch, controls, emulator):
    controls.script_outcome("hour", exit_code=3, duration_seconds=3600, output=["working", "giving up"])
    job_id = submit(batch, "hour")
    wait_for_job(batch, job_id, "RUNNING", timeout_seconds=10)
    assert status_after_a_pass(batch, job_id) == "RUNNING"

    controls.advance_clock(3600)
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=10)

    assert detail["container"]["exitCode"] == 3
    assert detail["statusReason"] == "Essential container in task exited"
    [attempt] = detail["attempts"]
    assert attempt["stoppedAt"] - attempt["startedAt"] >= 3_600_000
    events = emulator.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=detail["container"]["logStreamName"]
    )["events"]
    assert [event["message"] for event in events] == ["working", "giving up"]


def test_paused_clock_holds_a_job_until_advanced(batch, controls):
    controls.script_outcome("paused", duration_seconds=10)
    paused_at = controls.pause_clock()
    job_id = submit(batch, "paused")
    wait_for_job(batch, job_id, "RUNNING", timeout_seconds=10)
    assert controls.now_ms() == paused_at

    controls.advance_clock(5)
    assert status_after_a_pass(batch, job_id) == "RUNNING"
    assert controls.now_ms() == paused_at + 5000

    controls.advance_clock(5)
    detail = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=10)
    [attempt] = detail["attempts"]
    assert attempt["stoppedAt"] - attempt["startedAt"] == 10_000
    assert detail["createdAt"] == paused_at


def test_scripted_retry_then_success(batch, controls):
    controls.script_outcomes(
        "flaky", [{"exitCode": 1, "durationSeconds": 60}, {"exitCode": 0, "durationSeconds": 60}]
    )
    controls.pause_clock()
    job_id = submit(batch, "flaky", retryStrategy={"attempts": 2})
    wait_for_job(batch, job_id, "RUNNING", timeout_seconds=10)
    controls.advance_clock(60)
    # The retry reaches RUNNING on the paused clock, then needs another minute.
    deadline = time.monotonic() + 10
    while True:
        detail = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if (detail["status"] == "RUNNING" and detail["attempts"]) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert detail["status"] == "RUNNING"
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [1]
    controls.advance_clock(60)
    detail = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=10)
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [1, 0]


def test_timeout_on_the_simulated_clock(batch, controls):
    controls.script_outcome("too-long", duration_seconds=3600)
    controls.pause_clock()
    job_id = submit(batch, "too-long", timeout={"attemptDurationSeconds": 60}, retryStrategy={"attempts": 3})
    wait_for_job(batch, job_id, "RUNNING", timeout_seconds=10)
    controls.advance_clock(61)
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=10)
    assert detail["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(detail["attempts"]) == 1


def test_scripted_failure_to_start(batch, controls):
    reason = "CannotPullContainerError: Error response from daemon: manifest unknown"
    controls.script_outcome("nopull", fail_to_start_reason=reason)
    job_id = submit(batch, "nopull")
    detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=10)
    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"] == reason


def test_dependency_chain_on_the_simulated_clock(batch, controls):
    controls.script_outcome("step", duration_seconds=600)
    controls.pause_clock()
    first = submit(batch, "step")
    second = submit(batch, "step", dependsOn=[{"jobId": first}])
    wait_for_job(batch, first, "RUNNING", timeout_seconds=10)
    assert batch.describe_jobs(jobs=[second])["jobs"][0]["status"] == "PENDING"
    controls.advance_clock(600)
    wait_for_job(batch, second, "RUNNING", timeout_seconds=10)
    controls.advance_clock(600)
    detail = wait_for_job(batch, second, "SUCCEEDED", timeout_seconds=10)
    [first_detail] = batch.describe_jobs(jobs=[first])["jobs"]
    assert detail["startedAt"] - first_detail["startedAt"] == 600_000


def test_controls_refuse_figures_no_sdk_could_read(controls):
    with pytest.raises(ControlError, match="exitCode must be an integer from 0 to 255"):
        controls.script_outcome("huge", exit_code=99999999999999999999)
    with pytest.raises(ControlError, match="durationSeconds must be a number from 0 to 315360000"):
        controls.script_service_job_outcome("huge", duration_seconds=float("inf"))
    with pytest.raises(ControlError, match="advance needs a number of seconds from 0 to 315360000"):
        controls.advance_clock(1e308)
