"""Batch wired into the account's Step Functions: a state machine's `batch:submitJob.sync` task runs
a job on this emulator's engine and waits for it, ending SUCCEEDED with the job's description as
output or FAILED with `States.TaskFailed` and the description as cause; the plain `submitJob`
returns as soon as the job is submitted. Jobs run as processes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kit import define, eventually

ROLE_ARN = "arn:aws:iam::123456789012:role/states"


@pytest.fixture
def queue(batch_client) -> str:
    batch_client.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
    batch_client.create_job_queue(
        jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
    )
    define(batch_client, "ok", ["true"])
    define(batch_client, "fails", ["false"])
    return "q"


@pytest.fixture
def start_state_machine(aws_client):
    """`start_state_machine(resource, parameters)`: start one execution of a one-task machine; its ARN."""
    sfn = aws_client("stepfunctions")

    def start(resource: str, parameters: dict[str, Any]) -> str:
        task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
        definition = json.dumps({"StartAt": "Batch", "States": {"Batch": task}})
        machine = sfn.create_state_machine(name="run-batch", definition=definition, roleArn=ROLE_ARN)
        return sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]

    return start


@pytest.fixture
def run_state_machine(aws_client, start_state_machine, queue):
    """`run_state_machine(resource, parameters)`: one execution of a one-task machine, to its end."""
    sfn = aws_client("stepfunctions")

    def run(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
        execution_arn = start_state_machine(resource, parameters)
        return eventually(
            lambda: _finished(sfn.describe_execution(executionArn=execution_arn)),
            timeout_seconds=60,
            what="the execution to end",
        )

    return run


def _finished(execution: dict[str, Any]) -> dict[str, Any] | None:
    return execution if execution["status"] != "RUNNING" else None


def test_submit_job_sync_succeeds_with_the_jobs_description(run_state_machine, batch_client, queue):
    execution = run_state_machine(
        "arn:aws:states:::batch:submitJob.sync",
        {
            "JobName": "from-sfn",
            "JobQueue": queue,
            "JobDefinition": "ok",
            "ContainerOverrides": {"Command": ["true"]},
        },
    )

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    described = batch_client.describe_jobs(jobs=[output["JobId"]])["jobs"][0]
    assert (described["status"], described["jobName"]) == ("SUCCEEDED", "from-sfn")
    assert (output["Status"], output["JobName"], output["JobArn"]) == (
        "SUCCEEDED",
        "from-sfn",
        described["jobArn"],
    )
    assert output["Container"]["ExitCode"] == 0
    assert output["Container"]["LogStreamName"] == described["container"]["logStreamName"]
    assert {"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"} in output["Container"][
        "Environment"
    ]


def test_submit_job_sync_fails_with_the_jobs_description_as_cause(run_state_machine, batch_client, queue):
    execution = run_state_machine(
        "arn:aws:states:::batch:submitJob.sync",
        {"JobName": "doomed", "JobQueue": queue, "JobDefinition": "fails"},
    )

    assert (execution["status"], execution["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(execution["cause"])
    described = batch_client.describe_jobs(jobs=[cause["JobId"]])["jobs"][0]
    assert (cause["Status"], described["status"]) == ("FAILED", "FAILED")
    assert cause["Container"]["ExitCode"] == 1


def test_submit_job_returns_once_the_job_is_submitted(run_state_machine, batch_client, queue, wait_for_job):
    execution = run_state_machine(
        "arn:aws:states:::batch:submitJob",
        {"JobName": "fire-and-forget", "JobQueue": queue, "JobDefinition": "fails"},
    )

    assert execution["status"] == "SUCCEEDED"  # the failing job was submitted; nobody waited for it
    output = json.loads(execution["output"])
    assert set(output) == {"JobArn", "JobId", "JobName"}
    assert wait_for_job(output["JobId"], "FAILED")["jobName"] == "fire-and-forget"


def test_a_batch_error_fails_the_task_with_its_code(run_state_machine):
    execution = run_state_machine(
        "arn:aws:states:::batch:submitJob.sync",
        {"JobName": "lost", "JobQueue": "no-such-queue", "JobDefinition": "ok"},
    )

    assert (execution["status"], execution["error"]) == ("FAILED", "Batch.ClientException")


def test_reset_stops_an_execution_still_waiting_for_its_job(
    start_state_machine, batch_emulator, batch_client, blocked_queue
):
    """moto's reset alone would leave the execution's thread polling DescribeJobs, every half
    second for ever, for a job the reset forgot."""
    define(batch_client, "waits", ["true"])
    start_state_machine(
        "arn:aws:states:::batch:submitJob.sync",
        {"JobName": "stuck", "JobQueue": blocked_queue, "JobDefinition": "waits"},
    )
    eventually(
        lambda: batch_client.list_jobs(jobQueue=blocked_queue, jobStatus="RUNNABLE")["jobSummaryList"],
        what="the task to submit its job",
    )
    assert _execution_threads()

    batch_emulator.reset()

    eventually(lambda: not _execution_threads(), what="the execution to stop")


def _execution_threads() -> list[threading.Thread]:
    """moto runs each execution on a thread of its own (its ExecutionWorker's `_execution_logic`)."""
    return [thread for thread in threading.enumerate() if thread.name.endswith("(_execution_logic)")]
