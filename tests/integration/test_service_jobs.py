"""Service jobs (SageMaker Training) through boto3 against a real server: a service environment
and a SAGEMAKER_TRAINING queue, jobs that run through the simulated SageMaker, scripted failures
and retries, capacity limits, timeouts, TerminateServiceJob and a time-limit TERMINATE action.
Long jobs finish by advancing the emulator's clock, never by sleeping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kit import fresh_emulator

from emulator.testing import Emulator, running_emulator

QUEUE = "sm-q"
COMPLETED = "Received status from SageMaker: Training job completed"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated") as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    with fresh_emulator(emulator):
        client = emulator.client("batch")
        client.create_service_environment(
            serviceEnvironmentName="sm-env",
            serviceEnvironmentType="SAGEMAKER_TRAINING",
            capacityLimits=[{"maxCapacity": 2, "capacityUnit": "NUM_INSTANCES"}],
        )
        yield client


@pytest.fixture
def controls(emulator: Emulator):
    return emulator.controls


def create_queue(batch, **extra: Any) -> None:
    batch.create_job_queue(
        jobQueueName=QUEUE,
        priority=1,
        jobQueueType="SAGEMAKER_TRAINING",
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "sm-env"}],
        **extra,
    )


def submit(
    batch, name: str = "train", *, instances: int = 1, hyper: dict[str, str] | None = None, **extra
) -> str:
    payload = {
        "AlgorithmSpecification": {"TrainingImage": "example/train:latest", "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": instances, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        "HyperParameters": hyper or {},
    }
    return batch.submit_service_job(
        jobName=name,
        jobQueue=QUEUE,
        serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=json.dumps(payload),
        **extra,
    )["jobId"]


def wait_until(batch, job_id: str, condition: Callable[[dict], bool], timeout_seconds: float = 10.0) -> dict:
    """Poll DescribeServiceJob until `condition` holds; fail with the last detail at the deadline."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        detail = batch.describe_service_job(jobId=job_id)
        if condition(detail):
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"service job {job_id} never got there: {detail['status']} {detail}")
        time.sleep(0.02)


def wait_for_status(batch, job_id: str, status: str) -> dict:
    return wait_until(batch, job_id, lambda detail: detail["status"] == status)


def test_submitted_service_jobs_run_to_succeeded(batch):
    create_queue(batch)
    job_ids = [submit(batch, f"train-{i}") for i in range(3)]
    for job_id in job_ids:
        detail = wait_for_status(batch, job_id, "SUCCEEDED")
        assert detail["statusReason"] == COMPLETED
        assert detail["isTerminated"] is False
        [attempt] = detail["attempts"]
        assert attempt["serviceResourceId"]["name"] == "TrainingJobArn"
        assert ":training-job/AWSBatchtrain-" in attempt["serviceResourceId"]["value"]
        assert attempt["statusReason"] == COMPLETED
        assert detail["createdAt"] <= detail["scheduledAt"] <= detail["startedAt"] <= detail["stoppedAt"]
        assert detail["capacityUsage"] == [{"capacityUnit": "NUM_INSTANCES", "quantity": 1.0}]
    listed = batch.list_service_jobs(jobQueue=QUEUE, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert [summary["jobId"] for summary in listed] == job_ids[::-1]


def test_capacity_limit_holds_the_third_job_runnable_until_the_clock_finishes_the_others(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcome("long", duration_seconds=3600)
    first, second, third = (submit(batch, "long") for _ in range(3))
    for job_id in (first, second):
        wait_for_status(batch, job_id, "RUNNING")
    running = batch.list_service_jobs(jobQueue=QUEUE)["jobSummaryList"]  # RUNNING by default
    assert sorted(summary["jobId"] for summary in running) == sorted([first, second])
    assert batch.describe_service_job(jobId=third)["status"] == "RUNNABLE"
    controls.advance_clock(3600)
    for job_id in (first, second):
        wait_for_status(batch, job_id, "SUCCEEDED")
    wait_for_status(batch, third, "RUNNING")
    controls.advance_clock(3600)
    wait_for_status(batch, third, "SUCCEEDED")


def test_scheduled_jobs_show_scheduled_at(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcome("slow-start", scheduled_seconds=600)
    job_id = submit(batch, "slow-start")
    detail = wait_for_status(batch, job_id, "SCHEDULED")
    assert "scheduledAt" in detail and "startedAt" not in detail
    listed = batch.list_service_jobs(jobQueue=QUEUE, jobStatus="SCHEDULED")["jobSummaryList"]
    assert [summary["jobId"] for summary in listed] == [job_id]
    controls.advance_clock(600)
    wait_for_status(batch, job_id, "SUCCEEDED")


def test_scripted_failure_is_retried_then_the_job_fails(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcome("flaky", succeeded=False, failure_reason="AlgorithmError: exit 1")
    job_id = submit(batch, "flaky", retryStrategy={"attempts": 3})
    detail = wait_for_status(batch, job_id, "FAILED")
    reason = "Received status from SageMaker: AlgorithmError: exit 1"
    assert detail["statusReason"] == reason
    assert [attempt["statusReason"] for attempt in detail["attempts"]] == [reason] * 3
    assert detail["retryStrategy"] == {"attempts": 3}
    assert detail["isTerminated"] is False


def test_failure_then_success_scripts_one_retry(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcomes("second-time", [{"succeeded": False}, {"succeeded": True}])
    job_id = submit(batch, "second-time", retryStrategy={"attempts": 2})
    detail = wait_for_status(batch, job_id, "SUCCEEDED")
    assert [attempt["statusReason"] for attempt in detail["attempts"]] == [
        "Received status from SageMaker: Training job failed",
        COMPLETED,
    ]


def test_hyper_parameters_fail_the_job_and_evaluate_on_exit_stops_retries(batch):
    create_queue(batch)
    job_id = submit(
        batch,
        hyper={"batch-emulator-exit": "failed", "batch-emulator-failure-reason": "ClientError: bad input"},
        retryStrategy={
            "attempts": 5,
            "evaluateOnExit": [
                {"action": "EXIT", "onStatusReason": "Received status from SageMaker: ClientError*"}
            ],
        },
    )
    detail = wait_for_status(batch, job_id, "FAILED")
    assert len(detail["attempts"]) == 1
    assert detail["statusReason"] == "Received status from SageMaker: ClientError: bad input"


def test_attempt_timeout_fails_the_job_without_retrying(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcome("too-long", duration_seconds=3600)
    job_id = submit(
        batch, "too-long", timeoutConfig={"attemptDurationSeconds": 60}, retryStrategy={"attempts": 3}
    )
    wait_for_status(batch, job_id, "RUNNING")
    controls.advance_clock(60)
    detail = wait_for_status(batch, job_id, "FAILED")
    assert detail["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(detail["attempts"]) == 1


def test_terminate_service_job_stops_a_running_job(batch, controls):
    create_queue(batch)
    controls.script_service_job_outcome("long", duration_seconds=3600)
    job_id = submit(batch, "long")
    wait_for_status(batch, job_id, "RUNNING")
    response = batch.terminate_service_job(jobId=job_id, reason="no longer needed")
    assert set(response) == {"ResponseMetadata"}
    batch.terminate_service_job(jobId=job_id, reason="again")  # a finished job is left alone
    detail = batch.describe_service_job(jobId=job_id)
    assert (detail["status"], detail["statusReason"], detail["isTerminated"]) == (
        "FAILED",
        "no longer needed",
        True,
    )
    [attempt] = detail["attempts"]
    assert attempt["statusReason"] == "no longer needed"


def test_job_too_big_for_the_environment_is_terminated_by_the_time_limit_action(batch, controls):
    create_queue(
        batch,
        jobStateTimeLimitActions=[
            {
                "reason": "MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE",
                "state": "RUNNABLE",
                "maxTimeSeconds": 600,
                "action": "TERMINATE",
            }
        ],
    )
    job_id = submit(batch, "huge", instances=5)
    detail = wait_until(batch, job_id, lambda d: d.get("statusReason", "").startswith("MISCONFIGURATION"))
    assert detail["status"] == "RUNNABLE"
    assert detail["statusReason"].startswith("MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE - ")
    controls.advance_clock(600)
    detail = wait_for_status(batch, job_id, "FAILED")
    assert detail["statusReason"] == (
        "Terminated by JobStateTimeLimit action due to reason: MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE"
    )
    assert detail["isTerminated"] is True
