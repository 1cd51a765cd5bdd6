"""The Batch control plane through real boto3 clients against a real server on a real socket:
every non-job operation answers valid input and parses, invalid input is a ClientException (never a
500), paginators walk every page, regions are isolated, and statuses move CREATING -> VALID."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.app import close_app, create_app, runtime_of
from emulator.config import Settings
from emulator.testing.server import ServerThread

EC2_RESOURCES = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 16,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}
CONTAINER = {
    "image": "busybox",
    "command": ["echo", "hello"],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    app = create_app(Settings(executor="simulated", transition_seconds=0.2))
    runtime_of(app).server_errors.recording = True
    thread = ServerThread(app).start()
    yield thread
    thread.stop()
    close_app(app)


@pytest.fixture(autouse=True)
def fresh_state(server: ServerThread) -> Iterator[None]:
    runtime = runtime_of(server.app)
    runtime.resources.clear()
    yield
    errors = runtime.server_errors.drain()
    assert errors == [], f"server raised: {errors!r}"


def client(server: ServerThread, region: str = "us-east-1"):
    return boto3.client(
        "batch",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def batch(server: ServerThread):
    return client(server)


def wait_for_status(poll, wanted: str, timeout_seconds: float = 5.0) -> list[str]:
    """Poll until `poll()` returns `wanted`; returns every status seen, in order."""
    deadline = time.monotonic() + timeout_seconds
    seen: list[str] = []
    while time.monotonic() < deadline:
        status = poll()
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == wanted:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"status never became {wanted}; saw {seen}")


def create_ce(batch, name: str = "ce") -> str:
    return batch.create_compute_environment(
        computeEnvironmentName=name, type="MANAGED", computeResources=EC2_RESOURCES
    )["computeEnvironmentArn"]


def create_queue(batch, name: str = "q", ce: str = "ce", **params) -> str:
    return batch.create_job_queue(
        jobQueueName=name,
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce}],
        **params,
    )["jobQueueArn"]


def expect_client_error(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response
    assert error["Error"]["Code"] == "ClientException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Error"]["Message"]


def test_compute_environment_polls_from_creating_to_valid(batch):
    create_ce(batch)

    def status() -> str:
        return batch.describe_compute_environments(computeEnvironments=["ce"])["computeEnvironments"][0][
            "status"
        ]

    assert wait_for_status(status, "VALID") == ["CREATING", "VALID"]
    detail = batch.describe_compute_environments()["computeEnvironments"][0]
    assert detail["statusReason"] == "ComputeEnvironment Healthy"
    assert detail["tags"] == {}


def test_compute_environment_update_and_delete(batch):
    arn = create_ce(batch)
    updated = batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")
    assert (updated["computeEnvironmentName"], updated["computeEnvironmentArn"]) == ("ce", arn)
    wait_for_status(
        lambda: batch.describe_compute_environments()["computeEnvironments"][0]["status"], "VALID"
    )
    batch.delete_compute_environment(computeEnvironment=arn)
    wait_for_status(
        lambda: (batch.describe_compute_environments()["computeEnvironments"] or [{"status": "GONE"}])[0][
            "status"
        ],
        "GONE",
    )


def test_job_queue_lifecycle(batch):
    create_ce(batch)
    arn = create_queue(batch, tags={"team": "a"})
    wait_for_status(lambda: batch.describe_job_queues(jobQueues=["q"])["jobQueues"][0]["status"], "VALID")
    detail = batch.describe_job_queues(jobQueues=[arn])["jobQueues"][0]
    assert detail["statusReason"] == "JobQueue Healthy"
    assert detail["jobStateTimeLimitActions"] == [] and detail["tags"] == {"team": "a"}
    batch.update_job_queue(jobQueue="q", state="DISABLED", priority=3)
    assert "being modified" in expect_client_error(batch.delete_job_queue, jobQueue="q")
    wait_for_status(lambda: batch.describe_job_queues()["jobQueues"][0]["status"], "VALID")
    batch.delete_job_queue(jobQueue="q")
    assert batch.describe_job_queues()["jobQueues"][0]["status"] in ("DELETING", "DELETED")


def test_job_definitions_register_describe_deregister(batch):
    first = batch.register_job_definition(
        jobDefinitionName="jd", type="container", containerProperties=CONTAINER
    )
    second = batch.register_job_definition(
        jobDefinitionName="jd", type="container", containerProperties=CONTAINER, retryStrategy={"attempts": 2}
    )
    assert (first["revision"], second["revision"]) == (1, 2)
    batch.deregister_job_definition(jobDefinition="jd:1")
    described = batch.describe_job_definitions(jobDefinitionName="jd")["jobDefinitions"]
    assert [(d["revision"], d["status"]) for d in described] == [(2, "ACTIVE"), (1, "INACTIVE")]
    assert described[0]["retryStrategy"] == {"attempts": 2, "evaluateOnExit": []}
    assert described[0]["containerProperties"]["volumes"] == []


def test_scheduling_policies(batch):
    arn = batch.create_scheduling_policy(
        name="fs", fairsharePolicy={"shareDistribution": [{"shareIdentifier": "A", "weightFactor": 0.5}]}
    )["arn"]
    batch.update_scheduling_policy(arn=arn, fairsharePolicy={"shareDecaySeconds": 3600})
    [detail] = batch.describe_scheduling_policies(arns=[arn])["schedulingPolicies"]
    assert detail["fairsharePolicy"]["shareDecaySeconds"] == 3600
    assert batch.list_scheduling_policies()["schedulingPolicies"] == [{"arn": arn}]
    batch.delete_scheduling_policy(arn=arn)
    assert batch.describe_scheduling_policies(arns=[arn])["schedulingPolicies"] == []


def test_consumable_resources(batch):
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=4)
    updated = batch.update_consumable_resource(consumableResource="licenses", operation="ADD", quantity=2)
    assert updated["totalQuantity"] == 6
    described = batch.describe_consumable_resource(consumableResource="licenses")
    assert described["availableQuantity"] == 6 and described["tags"] == {}
    assert len(batch.list_consumable_resources()["consumableResources"]) == 1
    assert batch.list_jobs_by_consumable_resource(consumableResource="licenses")["jobs"] == []
    batch.delete_consumable_resource(consumableResource="licenses")


def test_service_environments_quota_shares_and_service_jobs(batch):
    batch.create_service_environment(
        serviceEnvironmentName="se",
        serviceEnvironmentType="SAGEMAKER_TRAINING",
        capacityLimits=[{"maxCapacity": 4, "capacityUnit": "NUM_INSTANCES"}],
    )
    batch.update_service_environment(
        serviceEnvironment="se", capacityLimits=[{"maxCapacity": 8, "capacityUnit": "NUM_INSTANCES"}]
    )
    assert (
        batch.describe_service_environments()["serviceEnvironments"][0]["capacityLimits"][0]["maxCapacity"]
        == 8
    )
    policy = batch.create_scheduling_policy(
        name="qs", quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"}
    )["arn"]
    batch.create_job_queue(
        jobQueueName="sq",
        priority=1,
        schedulingPolicyArn=policy,
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "se"}],
        jobQueueType="SAGEMAKER_TRAINING",
    )
    share = batch.create_quota_share(
        quotaShareName="teamA",
        jobQueue="sq",
        capacityLimits=[{"maxCapacity": 2, "capacityUnit": "ml.m5.large"}],
        resourceSharingConfiguration={"strategy": "RESERVE"},
        preemptionConfiguration={"inSharePreemption": "DISABLED"},
    )["quotaShareArn"]
    batch.update_quota_share(quotaShareArn=share, state="DISABLED")
    assert batch.describe_quota_share(quotaShareArn=share)["state"] == "DISABLED"
    assert [s["quotaShareName"] for s in batch.list_quota_shares(jobQueue="sq")["quotaShares"]] == ["teamA"]
    batch.update_quota_share(quotaShareArn=share, state="ENABLED")
    # An hour-long simulated training job (HyperParameters rule), so it is still live below.
    payload = '{"HyperParameters": {"batch-emulator-duration-seconds": "3600"}}'
    job = batch.submit_service_job(
        jobName="train",
        jobQueue="sq",
        serviceRequestPayload=payload,
        serviceJobType="SAGEMAKER_TRAINING",
        quotaShareName="teamA",
    )
    status = batch.describe_service_job(jobId=job["jobId"])["status"]
    assert status in ("SUBMITTED", "RUNNABLE", "SCHEDULED", "STARTING", "RUNNING")
    named = batch.list_service_jobs(jobQueue="sq", filters=[{"name": "JOB_NAME", "values": ["train"]}])
    assert [summary["jobId"] for summary in named["jobSummaryList"]] == [job["jobId"]]
    batch.update_service_job(jobId=job["jobId"], schedulingPriority=3)
    batch.terminate_service_job(jobId=job["jobId"], reason="done")
    assert batch.describe_service_job(jobId=job["jobId"])["status"] == "FAILED"
    batch.update_quota_share(quotaShareArn=share, state="DISABLED")
    batch.delete_quota_share(quotaShareArn=share)


def test_tags_round_trip_through_the_uri_path(batch):
    arn = create_ce(batch)
    batch.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    batch.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    share_like = "arn:aws:batch:us-east-1:123456789012:job-queue/q/quota-share/none"
    assert "does not exist" in expect_client_error(batch.list_tags_for_resource, resourceArn=share_like)


@pytest.mark.parametrize(
    ("operation", "params", "fragment"),
    [
        pytest.param(
            "create_compute_environment",
            {
                "computeEnvironmentName": "c",
                "type": "MANAGED",
                "computeResources": {**EC2_RESOURCES, "instanceRole": ""},
            },
            "Instance role is required.",
            id="ce-without-instance-role",
        ),
        pytest.param(
            "create_compute_environment",
            {
                "computeEnvironmentName": "c",
                "type": "MANAGED",
                "computeResources": {
                    "type": "FARGATE",
                    "maxvCpus": 4,
                    "subnets": ["s"],
                    "securityGroupIds": ["g"],
                    "desiredvCpus": 1,
                },
            },
            "desiredvCpus is not applicable for Fargate.",
            id="fargate-desired",
        ),
        pytest.param(
            "create_compute_environment",
            {"computeEnvironmentName": "c", "type": "UNMANAGED", "tags": {f"k{i}": "v" for i in range(51)}},
            "tags",
            id="51-tags",
        ),
        pytest.param(
            "create_job_queue",
            {
                "jobQueueName": "q",
                "priority": 1,
                "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ghost"}],
            },
            "ComputeEnvironment ghost not found.",
            id="queue-unknown-ce",
        ),
        pytest.param(
            "register_job_definition",
            {
                "jobDefinitionName": "jd",
                "type": "container",
                "containerProperties": CONTAINER,
                "retryStrategy": {"evaluateOnExit": []},
            },
            "RetryAttempts must be provided with retry strategy",
            id="retry-without-attempts",
        ),
        pytest.param(
            "register_job_definition",
            {
                "jobDefinitionName": "jd",
                "type": "container",
                "containerProperties": CONTAINER,
                "timeout": {"attemptDurationSeconds": 10},
            },
            "at least 60",
            id="short-timeout",
        ),
        pytest.param("describe_compute_environments", {"maxResults": 1000}, "maxResults", id="max-results"),
        pytest.param(
            "describe_job_queues", {"nextToken": "not-a-token"}, "Invalid nextToken", id="bad-token"
        ),
        pytest.param(
            "describe_job_definitions",
            {"jobDefinitions": [f"jd:{i}" for i in range(101)]},
            "Maximum number",
            id="101-definitions",
        ),
        pytest.param(
            "describe_consumable_resource",
            {"consumableResource": "ghost"},
            "does not exist",
            id="unknown-consumable",
        ),
        pytest.param(
            "create_scheduling_policy",
            {"name": "p", "fairsharePolicy": {"computeReservation": 100}},
            "computeReservation",
            id="reservation-too-high",
        ),
    ],
)
def test_invalid_input_is_a_client_exception(batch, operation, params, fragment):
    message = expect_client_error(getattr(batch, operation), **params)
    assert fragment in message


def test_wrapped_messages_carry_the_request_id(batch):
    with pytest.raises(ClientError) as caught:
        batch.create_compute_environment(computeEnvironmentName="bad name", type="UNMANAGED")
    response = caught.value.response
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["Error"]["Message"] == (
        f"Error executing request, Exception : Compute environment name should match valid pattern, "
        f"RequestId: {request_id}"
    )


def test_paginators_walk_every_page(batch):
    for index in range(5):
        batch.create_compute_environment(computeEnvironmentName=f"u{index}", type="UNMANAGED")
        batch.register_job_definition(
            jobDefinitionName=f"jd{index}", type="container", containerProperties=CONTAINER
        )
        batch.create_scheduling_policy(name=f"p{index}")
        batch.create_consumable_resource(consumableResourceName=f"r{index}")
    create_queue(batch, "q0", "u0")
    create_queue(batch, "q1", "u1")
    create_queue(batch, "q2", "u2")

    def walk(operation: str, key: str) -> list:
        pages = list(batch.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2}))
        return [item for page in pages for item in page[key]]

    assert len(walk("describe_compute_environments", "computeEnvironments")) == 5
    assert len(walk("describe_job_queues", "jobQueues")) == 3
    assert len(walk("describe_job_definitions", "jobDefinitions")) == 5
    assert len(walk("list_scheduling_policies", "schedulingPolicies")) == 5
    assert len(walk("list_consumable_resources", "consumableResources")) == 5


def test_regions_are_isolated(server, batch):
    create_ce(batch)
    ireland = client(server, "eu-west-1")
    assert ireland.describe_compute_environments()["computeEnvironments"] == []
    arn = batch.describe_compute_environments()["computeEnvironments"][0]["computeEnvironmentArn"]
    assert ireland.describe_compute_environments(computeEnvironments=[arn])["computeEnvironments"] == []
    create_ce(ireland)  # the same name is free in another region
    assert ireland.describe_compute_environments()["computeEnvironments"][0][
        "computeEnvironmentArn"
    ].startswith("arn:aws:batch:eu-west-1:")
