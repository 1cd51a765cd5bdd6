"""Less travelled paths of the job engine through boto3 (process executor): a single array child
stopped, capacity freed by re-enabling a compute environment, jobs that can never fit, timeouts on
array children, cancelling a job that waits for a dependency, and the queue's time-limit actions.
"""

from __future__ import annotations

import pytest
from kit import create_queue, describe, eventually

QUEUE = "edge-q"
CE = "edge-ce"
MANAGED_RESOURCES = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 2,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, QUEUE, CE)


def test_terminating_one_array_child_fails_the_parent(batch_client, queue, define, wait_for_job):
    parent = batch_client.submit_job(
        jobName="arr",
        jobQueue=queue,
        jobDefinition=define("arr", ["sh", "-c", 'test "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 || exec sleep 30']),
        arrayProperties={"size": 2},
    )["jobId"]
    wait_for_job(f"{parent}:0", "SUCCEEDED")
    wait_for_job(f"{parent}:1", "RUNNING")
    batch_client.terminate_job(jobId=f"{parent}:1", reason="only this child")
    detail = wait_for_job(parent, "FAILED")
    assert detail["statusReason"] == "Array Child Job failed"
    assert "isTerminated" not in detail
    child = describe(batch_client, f"{parent}:1")
    assert child["statusReason"] == "only this child"
    assert child["isTerminated"] is True


def test_enabling_a_compute_environment_releases_runnable_jobs(batch_client, define, wait_for_job):
    create_queue(batch_client, "later-q", "later-ce", state="DISABLED")
    job_id = batch_client.submit_job(
        jobName="later", jobQueue="later-q", jobDefinition=define("later", ["true"])
    )["jobId"]
    wait_for_job(job_id, "RUNNABLE")
    batch_client.update_compute_environment(computeEnvironment="later-ce", state="ENABLED")
    wait_for_job(job_id, "SUCCEEDED")


def test_disabled_queue_still_runs_what_it_holds(batch_client, define, wait_for_job):
    create_queue(batch_client, "dq", "dq-ce", state="DISABLED")
    job_id = batch_client.submit_job(jobName="held", jobQueue="dq", jobDefinition=define("held", ["true"]))[
        "jobId"
    ]
    wait_for_job(job_id, "RUNNABLE")
    batch_client.update_job_queue(jobQueue="dq", state="DISABLED")
    batch_client.update_compute_environment(computeEnvironment="dq-ce", state="ENABLED")
    wait_for_job(job_id, "SUCCEEDED")


def test_job_too_big_for_every_compute_environment_is_blocked(batch_client, define, wait_for_job):
    batch_client.create_compute_environment(
        computeEnvironmentName="small", type="MANAGED", computeResources=MANAGED_RESOURCES
    )
    batch_client.create_job_queue(
        jobQueueName="small-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "small"}],
        jobStateTimeLimitActions=[
            {
                "reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
                "state": "RUNNABLE",
                "maxTimeSeconds": 600,
                "action": "CANCEL",
            }
        ],
    )
    big = define("big", ["true"], [{"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "128"}])
    job_id = batch_client.submit_job(jobName="big", jobQueue="small-q", jobDefinition=big)["jobId"]
    detail = eventually(
        lambda: (d := describe(batch_client, job_id)).get("statusReason") and d,
        what="a blocked-job reason",
    )
    assert detail["status"] == "RUNNABLE"
    assert detail["statusReason"].startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - ")
    # A job that fits, behind it, waits too: the blocked head blocks its queue.
    small_job = batch_client.submit_job(
        jobName="fits", jobQueue="small-q", jobDefinition=define("fits", ["true"])
    )["jobId"]
    wait_for_job(small_job, "RUNNABLE")
    batch_client.cancel_job(jobId=job_id, reason="too big")
    wait_for_job(job_id, "FAILED")
    wait_for_job(small_job, "SUCCEEDED")


def test_time_limit_action_cancels_a_blocked_job(batch_client, define, wait_for_job, batch_emulator_controls):
    batch_client.create_compute_environment(
        computeEnvironmentName="tiny", type="MANAGED", computeResources=MANAGED_RESOURCES
    )
    batch_client.create_job_queue(
        jobQueueName="tiny-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "tiny"}],
        jobStateTimeLimitActions=[
            {
                "reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
                "state": "RUNNABLE",
                "maxTimeSeconds": 600,
                "action": "CANCEL",
            }
        ],
    )
    big = define("big2", ["true"], [{"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "128"}])
    job_id = batch_client.submit_job(jobName="big2", jobQueue="tiny-q", jobDefinition=big)["jobId"]
    eventually(lambda: describe(batch_client, job_id).get("statusReason"), what="a blocked-job reason")
    batch_emulator_controls.advance_clock(601)
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == (
        "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    )
    assert detail["isCancelled"] is True


def test_timeout_applies_to_each_array_child(batch_client, queue, define, wait_for_job):
    parent = batch_client.submit_job(
        jobName="slowarr",
        jobQueue=queue,
        jobDefinition=define("slowarr", ["sleep", "30"]),
        arrayProperties={"size": 2},
        timeout={"attemptDurationSeconds": 1},
    )["jobId"]
    detail = wait_for_job(parent, "FAILED", timeout_seconds=20)
    assert detail["statusReason"] == "Array Child Job failed"
    assert "timeout" in detail
    for index in range(2):
        child = describe(batch_client, f"{parent}:{index}")
        assert child["statusReason"] == "Job attempt duration exceeded timeout"


def test_cancel_a_job_waiting_for_its_dependency(batch_client, queue, define, wait_for_job):
    upstream = batch_client.submit_job(
        jobName="up", jobQueue=queue, jobDefinition=define("up", ["sleep", "30"])
    )["jobId"]
    downstream = batch_client.submit_job(
        jobName="down",
        jobQueue=queue,
        jobDefinition=define("down", ["true"]),
        dependsOn=[{"jobId": upstream}],
    )["jobId"]
    wait_for_job(downstream, "PENDING")
    batch_client.cancel_job(jobId=downstream, reason="not needed")
    detail = wait_for_job(downstream, "FAILED")
    assert detail["statusReason"] == "not needed"
    assert detail["isCancelled"] is True
    batch_client.terminate_job(jobId=upstream, reason="done")
    wait_for_job(upstream, "FAILED")


def test_depending_on_one_array_child(batch_client, queue, define, wait_for_job):
    parent = batch_client.submit_job(
        jobName="kids", jobQueue=queue, jobDefinition=define("kids", ["true"]), arrayProperties={"size": 3}
    )["jobId"]
    wait_for_job(f"{parent}:2", "SUCCEEDED")
    after = batch_client.submit_job(
        jobName="after-kid", jobQueue=queue, jobDefinition=define("after-kid", ["true"]),
        dependsOn=[{"jobId": f"{parent}:1"}],
    )["jobId"]  # fmt: skip
    wait_for_job(after, "SUCCEEDED")


def test_higher_priority_queue_goes_first(batch_client, define, wait_for_job):
    batch_client.create_compute_environment(
        computeEnvironmentName="one", type="MANAGED", computeResources={**MANAGED_RESOURCES, "maxvCpus": 1}
    )
    for name, priority in (("low", 1), ("high", 10)):
        batch_client.create_job_queue(
            jobQueueName=name,
            priority=priority,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "one"}],
        )
    quick = define("quick", ["true"])
    blocker = batch_client.submit_job(
        jobName="blocker", jobQueue="low", jobDefinition=define("block", ["sleep", "30"])
    )["jobId"]
    wait_for_job(blocker, "RUNNING")
    low = batch_client.submit_job(jobName="low-job", jobQueue="low", jobDefinition=quick)["jobId"]
    wait_for_job(low, "RUNNABLE")
    high = batch_client.submit_job(jobName="high-job", jobQueue="high", jobDefinition=quick)["jobId"]
    wait_for_job(high, "RUNNABLE")
    batch_client.terminate_job(jobId=blocker, reason="make room")
    low_detail = wait_for_job(low, "SUCCEEDED")
    high_detail = describe(batch_client, high)
    assert high_detail["status"] == "SUCCEEDED"
    assert high_detail["stoppedAt"] <= low_detail["startedAt"]


@pytest.mark.parametrize("operation", ["cancel_job", "terminate_job"])
@pytest.mark.parametrize(
    "arguments, member",
    [({"jobId": "", "reason": "stop"}, "jobId"), ({"jobId": "some-job", "reason": ""}, "reason")],
    ids=["empty-job-id", "empty-reason"],
)
def test_stopping_with_an_empty_job_id_or_reason_is_refused(batch_client, operation, arguments, member):
    """AWS answers an empty jobId or reason with a ClientException, where an unknown job id gets
    200 (reference §7); botocore sends empty strings, since the model sets no minimum length."""
    with pytest.raises(batch_client.exceptions.ClientException) as refused:
        getattr(batch_client, operation)(**arguments)
    assert f"{member} is required" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize("operation", ["cancel_job", "terminate_job"])
def test_stopping_an_unknown_job_still_answers_200(batch_client, operation):
    answer = getattr(batch_client, operation)(jobId="no-such-job", reason="stop")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
