"""Service environments, SageMaker queues, quota shares and service jobs."""

from __future__ import annotations

import pytest

from emulator.engine.service_jobs import ServiceOutcome

from .conftest import PREFIX

LIMITS = [{"maxCapacity": 4, "capacityUnit": "NUM_INSTANCES"}]
SHARE = {
    "capacityLimits": [{"maxCapacity": 2, "capacityUnit": "ml.m5.large"}],
    "resourceSharingConfiguration": {"strategy": "LEND_AND_BORROW", "borrowLimit": 50},
    "preemptionConfiguration": {"inSharePreemption": "DISABLED"},
}


@pytest.fixture
def sagemaker(batch):
    batch.call(
        "CreateServiceEnvironment",
        serviceEnvironmentName="se",
        serviceEnvironmentType="SAGEMAKER_TRAINING",
        capacityLimits=LIMITS,
    )
    return batch


def sagemaker_queue(batch, name="sq", **params):
    return batch.call(
        "CreateJobQueue",
        jobQueueName=name,
        priority=1,
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "se"}],
        **params,
    )["jobQueueArn"]


def test_service_environment_lifecycle(sagemaker):
    [detail] = sagemaker.call("DescribeServiceEnvironments")["serviceEnvironments"]
    assert detail == {
        "serviceEnvironmentName": "se",
        "serviceEnvironmentArn": PREFIX + "service-environment/se",
        "serviceEnvironmentType": "SAGEMAKER_TRAINING",
        "state": "ENABLED",
        "status": "CREATING",
        "capacityLimits": LIMITS,
        "tags": {},
    }
    sagemaker.settle()
    sagemaker.call("UpdateServiceEnvironment", serviceEnvironment="se", state="DISABLED")
    assert sagemaker.call("DescribeServiceEnvironments")["serviceEnvironments"][0]["status"] == "UPDATING"
    sagemaker.call("DeleteServiceEnvironment", serviceEnvironment="se")
    sagemaker.settle()
    sagemaker.settle()
    assert sagemaker.call("DescribeServiceEnvironments")["serviceEnvironments"] == []


def test_service_environment_delete_preconditions(sagemaker):
    assert sagemaker.error("DeleteServiceEnvironment", serviceEnvironment="se").message == (
        "Cannot delete, service environment must be in DISABLED state"
    )
    sagemaker_queue(sagemaker)
    sagemaker.call("UpdateServiceEnvironment", serviceEnvironment="se", state="DISABLED")
    assert sagemaker.error("DeleteServiceEnvironment", serviceEnvironment="se").message == (
        "Cannot delete, found existing JobQueue relationship"
    )


def test_sagemaker_queue_rules(sagemaker):
    arn = sagemaker_queue(sagemaker)
    [detail] = sagemaker.call("DescribeJobQueues")["jobQueues"]
    assert detail["jobQueueType"] == "SAGEMAKER_TRAINING"
    assert detail["serviceEnvironmentOrder"] == [
        {"order": 1, "serviceEnvironment": PREFIX + "service-environment/se"}
    ]
    assert arn not in sagemaker.engine.queues
    error = sagemaker.error(
        "CreateJobQueue",
        jobQueueName="q2",
        priority=1,
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "se"}],
    )
    assert error.message == "Service environment se is already associated with a job queue"


@pytest.fixture
def quota_queue(sagemaker):
    policy = sagemaker.call(
        "CreateSchedulingPolicy", name="qs", quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"}
    )["arn"]
    sagemaker_queue(sagemaker, schedulingPolicyArn=policy)
    return sagemaker


def test_quota_share_lifecycle(quota_queue):
    arn = quota_queue.call("CreateQuotaShare", quotaShareName="teamA", jobQueue="sq", **SHARE)[
        "quotaShareArn"
    ]
    assert arn == PREFIX + "job-queue/sq/quota-share/teamA"
    detail = quota_queue.call("DescribeQuotaShare", quotaShareArn=arn)
    assert (detail["status"], detail["state"], detail["jobQueueArn"]) == (
        "CREATING",
        "ENABLED",
        PREFIX + "job-queue/sq",
    )
    quota_queue.settle()
    assert quota_queue.call("ListQuotaShares", jobQueue="sq")["quotaShares"][0]["status"] == "VALID"
    assert quota_queue.error("DeleteQuotaShare", quotaShareArn=arn).message == (
        "Cannot delete, quota share must be in DISABLED state"
    )
    quota_queue.call("UpdateQuotaShare", quotaShareArn=arn, state="DISABLED")
    quota_queue.call("DeleteQuotaShare", quotaShareArn=arn)
    assert quota_queue.call("DescribeQuotaShare", quotaShareArn=arn)["status"] == "DELETING"
    quota_queue.settle()
    assert (
        quota_queue.error("DescribeQuotaShare", quotaShareArn=arn).message
        == f"Quota share {arn} does not exist"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"capacityLimits": []}, "capacityLimits must contain between 1 and 5 entries", id="no-limits"
        ),
        pytest.param(
            {"resourceSharingConfiguration": {"strategy": "LEND", "borrowLimit": 5}},
            "borrowLimit is only valid with the LEND_AND_BORROW strategy",
            id="borrow-without-borrowing",
        ),
    ],
)
def test_quota_share_validation(quota_queue, overrides, message):
    error = quota_queue.error("CreateQuotaShare", quotaShareName="s", jobQueue="sq", **{**SHARE, **overrides})
    assert error.message == message


def test_quota_share_needs_a_quota_share_queue(batch):
    batch.ec2_ce("ce")
    batch.queue("q", "ce")
    error = batch.error("CreateQuotaShare", quotaShareName="s", jobQueue="q", **SHARE)
    assert error.message == (
        "Quota shares require a job queue with a quota share scheduling policy and a service environment"
    )


def submit(batch, **params):
    return batch.call(
        "SubmitServiceJob",
        **{
            "jobName": "train",
            "jobQueue": "sq",
            "serviceRequestPayload": "{}",
            "serviceJobType": "SAGEMAKER_TRAINING",
            **params,
        },
    )


def test_service_job_is_described_and_terminated_before_the_engine_runs(sagemaker):
    sagemaker_queue(sagemaker)
    job = submit(sagemaker, tags={"a": "b"})
    detail = sagemaker.call("DescribeServiceJob", jobId=job["jobId"])
    assert (detail["status"], detail["jobQueue"], detail["tags"]) == (
        "SUBMITTED",
        PREFIX + "job-queue/sq",
        {"a": "b"},
    )
    assert job["jobArn"] == PREFIX + f"service-job/{job['jobId']}"
    assert sagemaker.call("ListServiceJobs", jobQueue="sq")["jobSummaryList"] == []  # RUNNING by default
    listed = sagemaker.call("ListServiceJobs", jobQueue="sq", jobStatus="SUBMITTED")["jobSummaryList"]
    assert [s["jobId"] for s in listed] == [job["jobId"]]
    updated = sagemaker.call("UpdateServiceJob", jobId=job["jobId"], schedulingPriority=5)
    assert updated == job
    sagemaker.call("TerminateServiceJob", jobId=job["jobId"], reason="stop")
    detail = sagemaker.call("DescribeServiceJob", jobId=job["jobId"])
    assert (detail["status"], detail["statusReason"], detail["isTerminated"]) == ("FAILED", "stop", True)


def settle(batch, passes: int = 20) -> None:
    for _ in range(passes):
        batch.provider.service_engine.run_pass()


def test_service_job_runs_through_its_lifecycle_and_describes_its_attempt(sagemaker):
    sagemaker_queue(sagemaker)
    payload = '{"ResourceConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large"}}'
    job = submit(sagemaker, serviceRequestPayload=payload, timeoutConfig={"attemptDurationSeconds": 3600})
    statuses = []
    for _ in range(5):
        sagemaker.provider.service_engine.run_pass()
        statuses.append(sagemaker.call("DescribeServiceJob", jobId=job["jobId"])["status"])
    assert statuses == ["RUNNABLE", "SCHEDULED", "STARTING", "RUNNING", "SUCCEEDED"]
    detail = sagemaker.call("DescribeServiceJob", jobId=job["jobId"])
    [attempt] = detail["attempts"]
    assert attempt["serviceResourceId"]["name"] == "TrainingJobArn"
    assert attempt["serviceResourceId"]["value"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/AWSBatchtrain"
    )
    assert attempt["statusReason"] == "Received status from SageMaker: Training job completed"
    assert detail["latestAttempt"] == {"serviceResourceId": attempt["serviceResourceId"]}
    assert detail["statusReason"] == "Received status from SageMaker: Training job completed"
    assert detail["capacityUsage"] == [{"capacityUnit": "NUM_INSTANCES", "quantity": 2.0}]
    assert detail["timeoutConfig"] == {"attemptDurationSeconds": 3600}
    assert detail["isTerminated"] is False
    assert {"scheduledAt", "startedAt", "stoppedAt", "createdAt"} <= detail.keys()


def test_service_environment_capacity_limits_what_runs(sagemaker):
    sagemaker_queue(sagemaker)
    sagemaker.provider.service_engine.script("long", ServiceOutcome(duration_ms=60_000))
    payload = '{"ResourceConfig": {"InstanceCount": 2}}'
    ids = [submit(sagemaker, jobName="long", serviceRequestPayload=payload)["jobId"] for _ in range(3)]
    settle(sagemaker)
    running = sagemaker.call("ListServiceJobs", jobQueue="sq")["jobSummaryList"]
    assert sorted(s["jobId"] for s in running) == sorted(ids[:2])
    waiting = sagemaker.call("ListServiceJobs", jobQueue="sq", jobStatus="RUNNABLE")["jobSummaryList"]
    assert [s["jobId"] for s in waiting] == [ids[2]]
    sagemaker.call(
        "UpdateServiceEnvironment",
        serviceEnvironment="se",
        capacityLimits=[{"maxCapacity": 6, "capacityUnit": "NUM_INSTANCES"}],
    )
    settle(sagemaker)
    assert sagemaker.call("DescribeServiceJob", jobId=ids[2])["status"] == "RUNNING"


def test_finished_service_job_cannot_be_updated(sagemaker):
    sagemaker_queue(sagemaker)
    job = submit(sagemaker)
    settle(sagemaker)
    error = sagemaker.error("UpdateServiceJob", jobId=job["jobId"], schedulingPriority=1)
    assert error.message == f"Service job {job['jobId']} is in SUCCEEDED status and cannot be updated"


def test_service_job_filters_and_pagination(sagemaker):
    sagemaker_queue(sagemaker)
    ids = [submit(sagemaker, jobName=f"train{i}")["jobId"] for i in range(3)]
    named = sagemaker.call("ListServiceJobs", filters=[{"name": "JOB_NAME", "values": ["TRAIN1"]}])[
        "jobSummaryList"
    ]
    assert [s["jobId"] for s in named] == [ids[1]]
    first = sagemaker.call("ListServiceJobs", jobStatus="SUBMITTED", maxResults=2)
    second = sagemaker.call(
        "ListServiceJobs", jobStatus="SUBMITTED", maxResults=2, nextToken=first["nextToken"]
    )
    assert [s["jobId"] for s in first["jobSummaryList"] + second["jobSummaryList"]] == ids[::-1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"jobName": "bad name"}, "Job name should match valid pattern", id="bad-name"),
        pytest.param(
            {"serviceRequestPayload": "x" * 10241},
            "serviceRequestPayload must be less than 10 KiB",
            id="payload-too-big",
        ),
        pytest.param(
            {"retryStrategy": {"attempts": 11}}, "Retry attempts should be between 1 and 10", id="attempts"
        ),
        pytest.param({"jobQueue": "ghost"}, "JobQueue ghost not found.", id="unknown-queue"),
        pytest.param(
            {"shareIdentifier": "A"},
            "Job with shareIdentifier or schedulingPriority can onlybe submitted to job queue with fair share "
            "scheduling policy.",
            id="share-on-fifo",
        ),
        pytest.param(
            {"quotaShareName": "s"},
            "quotaShareName is only valid for job queues with a quota share policy",
            id="quota-share-on-plain-queue",
        ),
    ],
)
def test_submit_service_job_rejects_invalid_input(sagemaker, params, message):
    sagemaker_queue(sagemaker)
    assert (
        sagemaker.error(
            "SubmitServiceJob",
            **{
                "jobName": "train",
                "jobQueue": "sq",
                "serviceRequestPayload": "{}",
                "serviceJobType": "SAGEMAKER_TRAINING",
                **params,
            },
        ).message
        == message
    )


def test_same_client_token_and_payload_is_rejected(sagemaker):
    sagemaker_queue(sagemaker)
    submit(sagemaker, clientToken="tok")
    assert sagemaker.error(
        "SubmitServiceJob",
        jobName="train",
        jobQueue="sq",
        serviceRequestPayload="{}",
        serviceJobType="SAGEMAKER_TRAINING",
        clientToken="tok",
    ).message == ("A service job with this clientToken was already submitted")


def test_service_jobs_cannot_go_to_container_queues(batch):
    batch.ec2_ce("ce")
    batch.queue("q", "ce")
    error = batch.error(
        "SubmitServiceJob",
        jobName="t",
        jobQueue="q",
        serviceRequestPayload="{}",
        serviceJobType="SAGEMAKER_TRAINING",
    )
    assert error.message == "Job queue q does not accept SAGEMAKER_TRAINING service jobs"


def test_unknown_service_job_is_an_error(batch):
    assert batch.error("DescribeServiceJob", jobId="nope").message == "Service job nope does not exist"
