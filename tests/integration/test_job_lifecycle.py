"""One job's life through real boto3 against the plugin's server, with the process executor (this
repository's conftest.py): the states it visits, its timestamps and attempts, exit codes, the
AWS_BATCH_* variables it sees, parameters and overrides, retries, timeouts, CancelJob versus
TerminateJob, and the injected faults (host termination, unpullable image).

Waiting is always a poll with a deadline (`wait_for_job` or `eventually`), never a bare sleep.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
from kit import create_queue, describe, eventually, log_lines

QUEUE = "jobs-q"
CE = "jobs-ce"
ORDER = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]


# ---- helpers -------------------------------------------------------------------------------


def log_variables(logs_client, detail: dict[str, Any]) -> dict[str, str]:
    """`NAME=value` lines of the job's log as a dict."""
    return dict(line.split("=", 1) for line in log_lines(logs_client, detail) if "=" in line)


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, QUEUE, CE)


# ---- the happy path ------------------------------------------------------------------------


def test_trivial_job_visits_every_state_in_order(
    batch_client, define, submit, wait_for_job, batch_emulator_controls
):
    job_id = submit(define("trivial", ["true"]))
    detail = wait_for_job(job_id, "SUCCEEDED")

    history = batch_emulator_controls.job_history(job_id)
    statuses = [status for status, _ in history]
    assert statuses == ["SUBMITTED", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    times = [at_ms for _, at_ms in history]
    assert times == sorted(times)
    assert detail["statusReason"] == "Essential container in task exited"
    assert detail["container"]["exitCode"] == 0


def test_trivial_job_succeeds_well_under_a_second(define, submit, wait_for_job):
    definition = define("quick", ["true"])
    started = time.monotonic()
    job_id = submit(definition)
    wait_for_job(job_id, "SUCCEEDED", timeout_seconds=5)
    elapsed = time.monotonic() - started
    print(f"trivial job SUBMITTED -> SUCCEEDED (seen by DescribeJobs) in {elapsed * 1000:.0f} ms")


def test_succeeded_job_timestamps_attempt_and_log_stream(batch_client, define, submit, wait_for_job):
    job_id = submit(define("stamped", ["sh", "-c", "echo hello from the job"]))
    detail = wait_for_job(job_id, "SUCCEEDED")

    assert detail["createdAt"] <= detail["startedAt"] <= detail["stoppedAt"]
    [attempt] = detail["attempts"]
    assert attempt["startedAt"] == detail["startedAt"]
    assert attempt["stoppedAt"] == detail["stoppedAt"]
    assert attempt["statusReason"] == "Essential container in task exited"
    container = attempt["container"]
    assert container["exitCode"] == 0
    assert re.fullmatch(r"stamped/default/[0-9a-f]{32}", container["logStreamName"])
    assert container["taskArn"].endswith("/" + container["logStreamName"].rsplit("/", 1)[1])
    assert container["taskArn"].startswith("arn:aws:ecs:us-east-1:")
    assert detail["container"]["logStreamName"] == container["logStreamName"]
    assert detail["jobDefinition"].endswith(":job-definition/stamped:1")
    assert detail["dependsOn"] == [] and detail["parameters"] == {} and detail["eksAttempts"] == []


def test_job_output_is_in_its_log_stream(logs_client, define, submit, wait_for_job):
    job_id = submit(define("talker", ["sh", "-c", "echo one; echo two >&2; printf three"]))
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert sorted(log_lines(logs_client, detail)) == ["one", "three", "two"]


@pytest.mark.parametrize("exit_code", [1, 3, 255])
def test_non_zero_exit_fails_with_the_exit_code(define, submit, wait_for_job, exit_code):
    job_id = submit(define("exits", ["sh", "-c", f"exit {exit_code}"]))
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "Essential container in task exited"
    assert detail["container"]["exitCode"] == exit_code
    [attempt] = detail["attempts"]
    assert attempt["container"]["exitCode"] == exit_code
    assert attempt["statusReason"] == "Essential container in task exited"
    assert detail["createdAt"] <= detail["startedAt"] <= detail["stoppedAt"]
    assert "isCancelled" not in detail and "isTerminated" not in detail


def test_missing_command_binary_fails_to_start(define, submit, wait_for_job):
    job_id = submit(define("nobinary", ["/definitely/not/a/binary"]))
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"].startswith("CannotStartContainerError:")
    assert "exitCode" not in detail["container"]


# ---- what the job sees ---------------------------------------------------------------------


def test_job_sees_the_aws_batch_variables(logs_client, define, submit, wait_for_job):
    job_id = submit(define("env", ["sh", "-c", "env | grep ^AWS_BATCH_"]))
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert log_variables(logs_client, detail) == {
        "AWS_BATCH_JOB_ID": job_id,
        "AWS_BATCH_JOB_ATTEMPT": "1",
        "AWS_BATCH_JQ_NAME": QUEUE,
        "AWS_BATCH_CE_NAME": CE,
    }


def test_array_children_see_their_index_and_the_array_size(
    batch_client, logs_client, define, submit, wait_for_job
):
    parent_id = submit(
        define("arrayenv", ["sh", "-c", "env | grep ^AWS_BATCH_"]), arrayProperties={"size": 3}
    )
    wait_for_job(parent_id, "SUCCEEDED")
    for index in range(3):
        child = describe(batch_client, f"{parent_id}:{index}")
        assert child["arrayProperties"] == {"index": index}
        variables = log_variables(logs_client, child)
        assert variables["AWS_BATCH_JOB_ID"] == f"{parent_id}:{index}"
        assert variables["AWS_BATCH_JOB_ARRAY_INDEX"] == str(index)
        assert variables["AWS_BATCH_JOB_ARRAY_SIZE"] == "3"
        assert variables["AWS_BATCH_JOB_ATTEMPT"] == "1"
        assert variables["AWS_BATCH_JQ_NAME"] == QUEUE
        assert variables["AWS_BATCH_CE_NAME"] == CE


def test_parameters_are_substituted_submit_values_winning(logs_client, define, submit, wait_for_job):
    definition = define(
        "params",
        ["echo", "Ref::greeting", "Ref::name"],
        parameters={"greeting": "hello", "name": "default-name"},
    )
    job_id = submit(definition, parameters={"name": "world"})
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert detail["parameters"] == {"greeting": "hello", "name": "world"}
    assert detail["container"]["command"] == ["echo", "hello", "world"]
    assert log_lines(logs_client, detail) == ["hello world"]


def test_container_overrides_replace_command_and_merge_environment(logs_client, define, submit, wait_for_job):
    definition = define(
        "overrides",
        ["echo", "definition command"],
        container={"environment": [{"name": "KEEP", "value": "kept"}, {"name": "CHANGE", "value": "old"}]},
        parameters={"word": "substituted"},
    )
    job_id = submit(
        definition,
        containerOverrides={
            "command": [
                "sh",
                "-c",
                'echo "KEEP=$KEEP"; echo "CHANGE=$CHANGE"; echo "ADDED=$ADDED"; echo "$0"',
                "Ref::word",
            ],
            "environment": [{"name": "CHANGE", "value": "new"}, {"name": "ADDED", "value": "added"}],
        },
    )
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert log_lines(logs_client, detail) == ["KEEP=kept", "CHANGE=new", "ADDED=added", "substituted"]
    environment = {v["name"]: v["value"] for v in detail["container"]["environment"]}
    assert environment == {"KEEP": "kept", "CHANGE": "new", "ADDED": "added"}
    assert detail["container"]["command"][-1] == "substituted"


# ---- retries and timeouts ------------------------------------------------------------------

SUCCEED_ON_SECOND_ATTEMPT = ["sh", "-c", 'test "$AWS_BATCH_JOB_ATTEMPT" = 2']


def test_failed_attempt_is_retried_and_the_second_succeeds(
    define, submit, wait_for_job, batch_emulator_controls
):
    job_id = submit(
        define("retry", SUCCEED_ON_SECOND_ATTEMPT),
        retryStrategy={"attempts": 3, "evaluateOnExit": [{"action": "RETRY", "onExitCode": "1"}]},
    )
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [1, 0]
    first, second = detail["attempts"]
    assert first["stoppedAt"] <= second["startedAt"]
    assert first["container"]["logStreamName"] != second["container"]["logStreamName"]
    assert detail["container"]["logStreamName"] == second["container"]["logStreamName"]
    assert detail["retryStrategy"]["attempts"] == 3
    statuses = [status for status, _ in batch_emulator_controls.job_history(job_id)]
    assert statuses == [
        "SUBMITTED", "RUNNABLE", "STARTING", "RUNNING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED",
    ]  # fmt: skip


def test_retry_strategy_of_the_definition_applies(define, submit, wait_for_job):
    job_id = submit(define("defretry", SUCCEED_ON_SECOND_ATTEMPT, retryStrategy={"attempts": 2}))
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert len(detail["attempts"]) == 2
    assert detail["retryStrategy"] == {"attempts": 2, "evaluateOnExit": []}


def test_exit_rule_stops_retries(define, submit, wait_for_job):
    job_id = submit(
        define("noretry", ["sh", "-c", "exit 7"]),
        retryStrategy={
            "attempts": 5,
            "evaluateOnExit": [{"action": "EXIT", "onExitCode": "7"}, {"action": "RETRY", "onExitCode": "*"}],
        },
    )
    detail = wait_for_job(job_id, "FAILED")
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [7]
    assert detail["statusReason"] == "Essential container in task exited"


def test_attempts_are_used_up_then_the_job_fails(define, submit, wait_for_job):
    job_id = submit(define("alwaysfails", ["sh", "-c", "exit 2"]), retryStrategy={"attempts": 3})
    detail = wait_for_job(job_id, "FAILED")
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [2, 2, 2]


def test_timeout_fails_the_job_and_is_not_retried(define, submit, wait_for_job):
    job_id = submit(
        define("slow", ["sleep", "30"]),
        timeout={"attemptDurationSeconds": 1},
        retryStrategy={"attempts": 3},
    )
    started = time.monotonic()
    detail = wait_for_job(job_id, "FAILED", timeout_seconds=20)
    assert time.monotonic() - started < 15
    assert detail["statusReason"] == "Job attempt duration exceeded timeout"
    [attempt] = detail["attempts"]
    assert attempt["statusReason"] == "Job attempt duration exceeded timeout"
    assert attempt["container"]["exitCode"] in (137, 143)
    assert attempt["stoppedAt"] - attempt["startedAt"] >= 1000
    assert detail["timeout"] == {"attemptDurationSeconds": 1}


# ---- CancelJob and TerminateJob ------------------------------------------------------------


def test_cancel_fails_a_runnable_job(batch_client, define, blocked_queue, wait_for_job):
    definition = define("waits", ["true"])
    job_id = batch_client.submit_job(jobName="waits", jobQueue=blocked_queue, jobDefinition=definition)[
        "jobId"
    ]
    wait_for_job(job_id, "RUNNABLE")

    batch_client.cancel_job(jobId=job_id, reason="no longer needed")
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "no longer needed"
    assert detail["isCancelled"] is True
    assert "isTerminated" not in detail
    assert detail["attempts"] == []
    assert "startedAt" not in detail
    assert detail["stoppedAt"] >= detail["createdAt"]


def test_cancel_fails_a_job_waiting_for_capacity(batch_client, define, submit, wait_for_job):
    """A compute environment with room for one job: the second waits RUNNABLE behind the first."""
    batch_client.create_compute_environment(
        computeEnvironmentName="small-ce",
        type="MANAGED",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 1,
            "instanceTypes": ["optimal"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": "ecsInstanceRole",
        },
    )
    batch_client.create_job_queue(
        jobQueueName="small-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "small-ce"}],
    )
    definition = define("hog", ["sleep", "30"])
    hog = batch_client.submit_job(jobName="hog", jobQueue="small-q", jobDefinition=definition)["jobId"]
    wait_for_job(hog, "RUNNING")
    waiter = batch_client.submit_job(jobName="waiter", jobQueue="small-q", jobDefinition=definition)["jobId"]
    wait_for_job(waiter, "RUNNABLE")

    batch_client.cancel_job(jobId=waiter, reason="gave up waiting")
    detail = wait_for_job(waiter, "FAILED")
    assert detail["statusReason"] == "gave up waiting"
    assert detail["isCancelled"] is True
    assert describe(batch_client, hog)["status"] == "RUNNING"
    batch_client.terminate_job(jobId=hog, reason="done")
    wait_for_job(hog, "FAILED")


def test_cancel_leaves_a_running_job_alone(batch_client, define, submit, wait_for_job):
    job_id = submit(define("sleeper", ["sleep", "30"]))
    wait_for_job(job_id, "RUNNING")

    batch_client.cancel_job(jobId=job_id, reason="please stop")
    # The engine applies commands in order: once a job submitted after the cancel has finished,
    # the cancel has been applied too.
    marker = submit(define("marker", ["true"]))
    wait_for_job(marker, "SUCCEEDED")
    detail = describe(batch_client, job_id)
    assert detail["status"] == "RUNNING"
    assert "isCancelled" not in detail

    batch_client.terminate_job(jobId=job_id, reason="now really stop")
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "now really stop"
    assert detail["isTerminated"] is True
    assert "isCancelled" not in detail


def test_terminate_stops_a_running_job_and_its_process(
    batch_client, logs_client, define, submit, wait_for_job
):
    job_id = submit(define("victim", ["sh", "-c", "echo pid=$$; exec sleep 30"]))
    detail = wait_for_job(job_id, "RUNNING")
    pid = int(eventually(lambda: log_variables(logs_client, detail).get("pid"), what="the job's pid"))

    batch_client.terminate_job(jobId=job_id, reason="terminated by the test")
    detail = wait_for_job(job_id, "FAILED", timeout_seconds=10)
    assert detail["statusReason"] == "terminated by the test"
    assert detail["isTerminated"] is True
    [attempt] = detail["attempts"]
    assert attempt["statusReason"] == "terminated by the test"
    assert attempt["container"]["exitCode"] == 143  # sleep dies of SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_terminate_is_not_retried(batch_client, define, submit, wait_for_job):
    job_id = submit(define("noretryterm", ["sleep", "30"]), retryStrategy={"attempts": 3})
    wait_for_job(job_id, "RUNNING")
    batch_client.terminate_job(jobId=job_id, reason="stop")
    detail = wait_for_job(job_id, "FAILED", timeout_seconds=10)
    assert len(detail["attempts"]) == 1


def test_terminate_fails_a_runnable_job(batch_client, define, blocked_queue, wait_for_job):
    job_id = batch_client.submit_job(
        jobName="t", jobQueue=blocked_queue, jobDefinition=define("t", ["true"])
    )["jobId"]
    wait_for_job(job_id, "RUNNABLE")
    batch_client.terminate_job(jobId=job_id, reason="never mind")
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "never mind"
    assert detail["isTerminated"] is True
    assert detail["attempts"] == []


def test_cancel_and_terminate_of_unknown_or_finished_jobs_answer_ok(
    batch_client, define, submit, wait_for_job
):
    assert batch_client.cancel_job(jobId="00000000-0000-0000-0000-000000000000", reason="x")
    job_id = submit(define("finished", ["true"]))
    wait_for_job(job_id, "SUCCEEDED")
    batch_client.terminate_job(jobId=job_id, reason="too late")
    batch_client.cancel_job(jobId=job_id, reason="too late")
    marker = submit(define("marker2", ["true"]))
    wait_for_job(marker, "SUCCEEDED")
    detail = describe(batch_client, job_id)
    assert detail["status"] == "SUCCEEDED"
    assert detail["statusReason"] == "Essential container in task exited"


# ---- injected faults -----------------------------------------------------------------------


def test_host_termination_is_retried_and_the_second_attempt_succeeds(
    batch_client, define, submit, wait_for_job, batch_emulator_controls
):
    job_id = submit(
        define("spot", ["sh", "-c", 'test "$AWS_BATCH_JOB_ATTEMPT" = 2 || exec sleep 30']),
        retryStrategy={"attempts": 2},
    )
    wait_for_job(job_id, "RUNNING")
    batch_emulator_controls.terminate_host(job_id)
    detail = wait_for_job(job_id, "SUCCEEDED", timeout_seconds=15)

    first, second = detail["attempts"]
    assert first["statusReason"].startswith("Host EC2 (instance i-")
    assert first["statusReason"].endswith("terminated.")
    assert "exitCode" not in first["container"]
    assert second["container"]["exitCode"] == 0
    assert detail["statusReason"] == "Essential container in task exited"


def test_host_termination_matches_an_on_status_reason_exit_rule(
    batch_client, define, submit, wait_for_job, batch_emulator_controls
):
    job_id = submit(
        define("spotexit", ["sleep", "30"]),
        retryStrategy={"attempts": 3, "evaluateOnExit": [{"action": "EXIT", "onStatusReason": "Host EC2*"}]},
    )
    wait_for_job(job_id, "RUNNING")
    batch_emulator_controls.terminate_host(job_id)
    detail = wait_for_job(job_id, "FAILED", timeout_seconds=15)
    assert len(detail["attempts"]) == 1
    assert detail["statusReason"].startswith("Host EC2 (instance i-")


def test_unpullable_image_fails_to_start(define, submit, wait_for_job, batch_emulator_controls):
    image = "registry.example.com/team/missing:1.0"
    batch_emulator_controls.make_image_unpullable(image)
    job_id = submit(define("unpullable", ["true"], container={"image": image}))
    detail = wait_for_job(job_id, "FAILED")

    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"].startswith("CannotPullContainerError:")
    assert "exitCode" not in detail["container"]
    [attempt] = detail["attempts"]
    assert attempt["statusReason"] == "Task failed to start"
    assert attempt["container"]["reason"].startswith("CannotPullContainerError:")
    assert "startedAt" not in attempt
    assert "startedAt" not in detail
    assert detail["stoppedAt"] >= detail["createdAt"]


def test_unpullable_image_is_retried_on_task_failed_to_start(
    define, submit, wait_for_job, batch_emulator_controls
):
    image = "registry.example.com/team/missing:2.0"
    batch_emulator_controls.make_image_unpullable(image)
    job_id = submit(
        define("unpullable2", ["true"], container={"image": image}),
        retryStrategy={
            "attempts": 2,
            "evaluateOnExit": [{"action": "RETRY", "onStatusReason": "Task failed to start"}],
        },
    )
    detail = wait_for_job(job_id, "FAILED")
    assert len(detail["attempts"]) == 2


def test_out_of_memory_fault(define, submit, wait_for_job, batch_emulator_controls):
    job_id = submit(define("oom", ["sleep", "30"]))
    wait_for_job(job_id, "RUNNING")
    batch_emulator_controls.kill_out_of_memory(job_id)
    detail = wait_for_job(job_id, "FAILED", timeout_seconds=15)
    assert detail["statusReason"] == "Essential container in task exited"
    assert detail["container"]["exitCode"] == 137
    assert detail["container"]["reason"] == "OutOfMemoryError: Container killed due to memory usage"


def test_terminate_kills_what_the_job_started_in_the_background(
    batch_client, logs_client, define, submit, wait_for_job
):
    job_id = submit(define("parent", ["sh", "-c", "sleep 30 & echo child=$!; wait"]))
    detail = wait_for_job(job_id, "RUNNING")
    child = int(eventually(lambda: log_variables(logs_client, detail).get("child"), what="the child's pid"))
    batch_client.terminate_job(jobId=job_id, reason="stop the family")
    wait_for_job(job_id, "FAILED", timeout_seconds=10)
    eventually(lambda: not _is_alive(child), timeout_seconds=5, what=f"pid {child} to be gone")


def test_what_a_finished_job_left_running_is_killed(logs_client, define, submit, wait_for_job):
    """As when PID 1 of a container exits: the rest of the container goes with it."""
    job_id = submit(define("leaver", ["sh", "-c", "sleep 30 > /dev/null 2>&1 & echo orphan=$!"]))
    detail = wait_for_job(job_id, "SUCCEEDED")
    orphan = int(log_variables(logs_client, detail)["orphan"])
    eventually(lambda: not _is_alive(orphan), timeout_seconds=5, what=f"pid {orphan} to be gone")


def _is_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie waiting to be reaped by init."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
