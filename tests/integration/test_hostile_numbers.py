"""Numbers a client writes as text, and tokens it forges, through boto3 against the plugin's
server (process executor): values that parse to infinity or NaN, very long digit strings,
non-ASCII digits, exit codes no SDK can read, deeply nested pagination tokens. Each is refused by
the request that carries it with AWS's error type, never a 500, and nothing refused is stored to
break a later request; service jobs and container jobs still run afterwards.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from kit import create_queue, eventually

QUEUE = "numbers-q"
SERVICE_QUEUE = "numbers-sq"
LONG_DIGITS = "9" * 5000
NESTED_TOKEN = base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode()
BAD_EXIT_CODE = "99999999999999999999"
COMPLETED = "Received status from SageMaker: Training job completed"


def refused(call, *args: Any, **kwargs: Any) -> dict[str, str]:
    """The error a call is refused with (it must be refused)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    return raised.value.response["Error"]


def container(*requirements: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "image": "busybox",
        "command": ["true"],
        "resourceRequirements": [{"type": kind, "value": value} for kind, value in requirements],
        **extra,
    }


def multinode(num_nodes: int, target: str = "0:") -> dict[str, Any]:
    node_range = {"targetNodes": target, "container": container(("VCPU", "1"), ("MEMORY", "512"))}
    return {"numNodes": num_nodes, "mainNode": 0, "nodeRangeProperties": [node_range]}


def eks_properties(**limits: str) -> dict[str, Any]:
    return {"podProperties": {"containers": [{"image": "busybox", "resources": {"limits": limits}}]}}


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, QUEUE, "numbers-ce")


@pytest.fixture
def service_queue(batch_client) -> str:
    batch_client.create_service_environment(
        serviceEnvironmentName="numbers-se",
        serviceEnvironmentType="SAGEMAKER_TRAINING",
        capacityLimits=[{"maxCapacity": 5, "capacityUnit": "NUM_INSTANCES"}],
    )
    batch_client.create_job_queue(
        jobQueueName=SERVICE_QUEUE,
        priority=1,
        jobQueueType="SAGEMAKER_TRAINING",
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "numbers-se"}],
    )
    return SERVICE_QUEUE


def submit_service_job(batch_client, name: str, hyper_parameters: dict[str, str] | None = None) -> str:
    payload = json.dumps({"HyperParameters": hyper_parameters or {}})
    return batch_client.submit_service_job(
        jobName=name,
        jobQueue=SERVICE_QUEUE,
        serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=payload,
    )["jobId"]


def service_job_status(batch_client, job_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        detail = batch_client.describe_service_job(jobId=job_id)
        return detail if detail["status"] == status else None

    return eventually(reached, what=f"service job {job_id} {status}")


# ---- service jobs: the simulated SageMaker's hyperparameters ----------------------------------


@pytest.mark.parametrize("duration", ["inf", "1e400", "1e308", "nan", "-1", "²", LONG_DIGITS[:60]])
def test_unreadable_simulated_training_duration_is_refused_at_submit(batch_client, service_queue, duration):
    error = refused(submit_service_job, batch_client, "bad", {"batch-emulator-duration-seconds": duration})

    assert error["Code"] == "ClientException"
    assert (
        "HyperParameters batch-emulator-duration-seconds must be a number from 0 to 315360000"
        in (error["Message"])
    )
    assert (
        batch_client.list_service_jobs(jobQueue=service_queue, jobStatus="SUBMITTED")["jobSummaryList"] == []
    )


def test_unreadable_capacity_failure_count_is_refused_at_submit(batch_client, service_queue):
    error = refused(
        submit_service_job, batch_client, "bad", {"batch-emulator-insufficient-capacity": LONG_DIGITS}
    )

    assert error["Code"] == "ClientException"
    assert "batch-emulator-insufficient-capacity must be an integer from 0 to 2147483647" in error["Message"]


def test_instance_count_beyond_an_integer_is_read_as_absent(batch_client, service_queue):
    payload = '{"ResourceConfig": {"InstanceCount": 1' + "0" * 400 + "}}"
    job_id = batch_client.submit_service_job(
        jobName="big",
        jobQueue=service_queue,
        serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=payload,
    )["jobId"]

    detail = service_job_status(batch_client, job_id, "SUCCEEDED")
    assert detail["capacityUsage"] == [{"capacityUnit": "NUM_INSTANCES", "quantity": 1.0}]
    listed = batch_client.list_service_jobs(jobQueue=service_queue, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert [summary["jobId"] for summary in listed] == [job_id]


# ---- resource requirements and Kubernetes quantities ------------------------------------------


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        pytest.param(
            {"containerProperties": container(("VCPU", "1"), ("MEMORY", value))},
            f"Invalid MEMORY value in resourceRequirements: {value}",
            id=f"memory-{value}",
        )
        for value in ("inf", "nan", "1e400", "-512", "٥١٢")
    ]
    + [
        pytest.param(
            {"containerProperties": container(("VCPU", value), ("MEMORY", "512"))},
            f"Invalid VCPU value in resourceRequirements: {value}",
            id=f"vcpu-{value}",
        )
        for value in ("inf", "nan")
    ]
    + [
        pytest.param(
            {"containerProperties": container(("VCPU", "1"), ("MEMORY", "512"), ("GPU", value))},
            f"Invalid GPU value in resourceRequirements: {value}",
            id=f"gpu-{value}",
        )
        for value in ("inf", "nan", "1e400")
    ]
    + [
        pytest.param(
            {
                "platformCapabilities": ["FARGATE"],
                "containerProperties": container(
                    ("VCPU", "0.25"), ("MEMORY", value), executionRoleArn="arn:aws:iam::123456789012:role/x"
                ),
            },
            f"Invalid MEMORY value in resourceRequirements: {value}",
            id=f"fargate-memory-{value}",
        )
        for value in ("inf", "nan")
    ]
    + [
        pytest.param(
            {"eksProperties": eks_properties(**{name: value})},
            f"Invalid {name} value in resources: {value}",
            id=f"eks-{name}-{value}",
        )
        for name, value in (
            ("memory", "inf"),
            ("memory", "1e400"),
            ("memory", "1e400Gi"),
            ("memory", "infMi"),
            ("cpu", "nan"),
            ("nvidia.com/gpu", "inf"),
        )
    ],
)
def test_register_refuses_a_figure_that_is_not_a_finite_number(batch_client, properties, message):
    error = refused(
        batch_client.register_job_definition, jobDefinitionName="bad", type="container", **properties
    )

    assert error["Code"] == "ClientException"
    assert f"Error executing request, Exception : {message}, RequestId: " in error["Message"]
    assert batch_client.describe_job_definitions(jobDefinitionName="bad")["jobDefinitions"] == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param(
            {"containerOverrides": {"resourceRequirements": [{"type": "GPU", "value": value}]}},
            f"Invalid GPU value in resourceRequirements: {value}",
            id=f"gpu-{value}",
        )
        for value in ("inf", "nan", "1e400")
    ]
    + [
        pytest.param(
            {"containerOverrides": {"resourceRequirements": [{"type": "MEMORY", "value": "inf"}]}},
            "Invalid MEMORY value in resourceRequirements: inf",
            id="memory-inf",
        )
    ],
)
def test_submit_refuses_an_override_that_is_not_a_finite_number(
    batch_client, define, queue, override, message
):
    definition = define("plain", ["true"])

    error = refused(
        batch_client.submit_job, jobName="bad", jobQueue=queue, jobDefinition=definition, **override
    )

    assert error["Code"] == "ClientException"
    assert message in error["Message"]


def test_legacy_figures_below_one_vcpu_or_four_mib_are_refused(batch_client, queue):
    error = refused(
        batch_client.register_job_definition,
        jobDefinitionName="legacy",
        type="container",
        containerProperties={"image": "busybox", "vcpus": -4, "memory": 512},
    )
    assert error["Code"] == "ClientException"
    assert "vcpus must be at least 1" in error["Message"]

    batch_client.register_job_definition(
        jobDefinitionName="legacy",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 512},
    )
    error = refused(
        batch_client.submit_job,
        jobName="j",
        jobQueue=queue,
        jobDefinition="legacy",
        containerOverrides={"memory": -512},
    )
    assert error["Code"] == "ClientException"
    assert "memory must be at least 4" in error["Message"]


def test_submit_refuses_an_eks_override_that_is_not_a_quantity(batch_client, queue):
    batch_client.register_job_definition(
        jobDefinitionName="pod", type="container", eksProperties=eks_properties(memory="512Mi")
    )
    override = {"podProperties": {"containers": [{"resources": {"limits": {"memory": "1e400Gi"}}}]}}

    error = refused(
        batch_client.submit_job,
        jobName="bad",
        jobQueue=queue,
        jobDefinition="pod",
        eksPropertiesOverride=override,
    )

    assert error["Code"] == "ClientException"
    assert "Invalid memory value in resources: 1e400Gi" in error["Message"]


# ---- revisions, node indexes, creation-time filters -------------------------------------------


def test_revision_of_thousands_of_digits_names_no_definition(batch_client, define, queue):
    define("d", ["true"])
    identifier = "d:" + LONG_DIGITS

    error = refused(batch_client.submit_job, jobName="j", jobQueue=queue, jobDefinition=identifier)

    assert error["Code"] == "ClientException"
    assert error["Message"].startswith("JobDefinition name d:999")
    assert error["Message"].endswith("does not exist or is not in ACTIVE status")
    assert batch_client.describe_job_definitions(jobDefinitions=[identifier])["jobDefinitions"] == []
    batch_client.deregister_job_definition(jobDefinition=identifier)
    [described] = batch_client.describe_job_definitions(jobDefinitionName="d")["jobDefinitions"]
    assert described["status"] == "ACTIVE"


def test_revision_in_non_ascii_digits_names_no_definition(batch_client, define):
    for _ in range(3):
        define("d", ["true"])

    assert batch_client.describe_job_definitions(jobDefinitions=["d:3"])["jobDefinitions"][0]["revision"] == 3
    assert batch_client.describe_job_definitions(jobDefinitions=["d:٣"])["jobDefinitions"] == []


def test_target_nodes_of_thousands_of_digits_are_refused(batch_client):
    target = LONG_DIGITS + ":"
    nodes = {
        "numNodes": 2,
        "mainNode": 0,
        "nodeRangeProperties": [
            {"targetNodes": target, "container": container(("VCPU", "1"), ("MEMORY", "512"))}
        ],
    }

    error = refused(
        batch_client.register_job_definition, jobDefinitionName="mnp", type="multinode", nodeProperties=nodes
    )

    assert error["Code"] == "ClientException"
    assert f"Invalid targetNodes: {target}" in error["Message"]


def test_more_nodes_than_a_multi_node_job_may_have_are_refused(batch_client, queue):
    # Any Integer was taken, and the emulator laid out that many nodes (2**31 - 1: gigabytes).
    error = refused(
        batch_client.register_job_definition,
        jobDefinitionName="mnp",
        type="multinode",
        nodeProperties=multinode(1001),
    )
    assert error["Code"] == "ClientException"
    assert "numNodes must be between 1 and 1000" in error["Message"]

    batch_client.register_job_definition(
        jobDefinitionName="mnp", type="multinode", nodeProperties=multinode(2)
    )
    error = refused(
        batch_client.submit_job,
        jobName="big",
        jobQueue=queue,
        jobDefinition="mnp",
        nodeOverrides={"numNodes": 1001},
    )
    assert error["Code"] == "ClientException"
    assert "numNodes must be between 1 and 1000" in error["Message"]


@pytest.mark.parametrize("filter_name", ["BEFORE_CREATED_AT", "AFTER_CREATED_AT"])
@pytest.mark.parametrize("value", ["²", LONG_DIGITS, "soon"], ids=["superscript-two", "5000-digits", "word"])
def test_list_jobs_refuses_a_creation_time_that_is_not_epoch_milliseconds(
    batch_client, define, submit, filter_name, value
):
    submit(define("listed", ["true"]))

    error = refused(
        batch_client.list_jobs, jobQueue=QUEUE, filters=[{"name": filter_name, "values": [value]}]
    )

    assert error["Code"] == "ClientException"
    assert f"{filter_name} must be a timestamp in epoch milliseconds" in error["Message"]


@pytest.mark.parametrize("value", ["²", LONG_DIGITS], ids=["superscript-two", "5000-digits"])
def test_list_service_jobs_refuses_a_creation_time_that_is_not_epoch_milliseconds(
    batch_client, service_queue, value
):
    error = refused(
        batch_client.list_service_jobs,
        jobQueue=service_queue,
        filters=[{"name": "BEFORE_CREATED_AT", "values": [value]}],
    )

    assert error["Code"] == "ClientException"
    assert "BEFORE_CREATED_AT must be a timestamp in epoch milliseconds" in error["Message"]


# ---- forged pagination tokens -----------------------------------------------------------------

BATCH_PAGINATED = [
    ("describe_compute_environments", {}),
    ("describe_job_queues", {}),
    ("describe_job_definitions", {}),
    ("describe_service_environments", {}),
    ("list_jobs", {"jobQueue": QUEUE}),
    ("list_jobs", {"jobQueue": QUEUE, "filters": [{"name": "JOB_NAME", "values": ["*"]}]}),
    ("list_service_jobs", {}),
    ("list_scheduling_policies", {}),
    ("list_consumable_resources", {}),
    ("list_jobs_by_consumable_resource", {"consumableResource": "licences"}),
    ("list_quota_shares", {"jobQueue": QUEUE}),
]


@pytest.mark.parametrize(
    ("operation", "params"), BATCH_PAGINATED, ids=[f"{op}-{i}" for i, (op, _) in enumerate(BATCH_PAGINATED)]
)
def test_batch_refuses_a_deeply_nested_next_token(batch_client, queue, operation, params):
    batch_client.create_consumable_resource(consumableResourceName="licences", totalQuantity=1)

    error = refused(getattr(batch_client, operation), nextToken=NESTED_TOKEN, **params)

    assert error["Code"] == "ClientException"
    assert "Invalid nextToken" in error["Message"]


LOGS_FORGED = [
    ("describe_log_groups", {}, NESTED_TOKEN),
    ("describe_log_streams", {"logGroupName": "numbers"}, NESTED_TOKEN),
    ("describe_log_streams", {"logGroupName": "numbers", "orderBy": "LastEventTime"}, NESTED_TOKEN),
    ("filter_log_events", {"logGroupName": "numbers"}, NESTED_TOKEN),
    # GetLogEvents tokens are `f/<56 digits>/s`: ASCII digits only, within what a stream can hold.
    ("get_log_events", {"logGroupName": "numbers", "logStreamName": "s"}, "f/" + "٠" * 56 + "/s"),
    ("get_log_events", {"logGroupName": "numbers", "logStreamName": "s"}, "f/" + "9" * 56 + "/s"),
]


@pytest.mark.parametrize(
    ("operation", "params", "token"),
    LOGS_FORGED,
    ids=[
        "groups",
        "streams-by-name",
        "streams-by-time",
        "filter",
        "events-arabic-digits",
        "events-beyond-64-bits",
    ],
)
def test_logs_refuses_a_forged_next_token(logs_client, operation, params, token):
    logs_client.create_log_group(logGroupName="numbers")
    logs_client.create_log_stream(logGroupName="numbers", logStreamName="s")

    error = refused(getattr(logs_client, operation), nextToken=token, **params)

    assert error["Code"] == "InvalidParameterException"


# ---- exit codes of the simulated executor -----------------------------------------------------


def test_register_refuses_a_simulated_exit_code_no_sdk_can_read(batch_client):
    environment = [{"name": "BATCH_EMULATOR_EXIT_CODE", "value": BAD_EXIT_CODE}]

    error = refused(
        batch_client.register_job_definition,
        jobDefinitionName="bad",
        type="container",
        containerProperties=container(("VCPU", "1"), ("MEMORY", "512"), environment=environment),
    )

    assert error["Code"] == "ClientException"
    assert (
        f"Environment variable BATCH_EMULATOR_EXIT_CODE must be an integer from 0 to 255, not '{BAD_EXIT_CODE}'"
        in error["Message"]
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BATCH_EMULATOR_EXIT_CODE", BAD_EXIT_CODE),
        ("BATCH_EMULATOR_EXIT_CODE", "-1"),
        ("BATCH_EMULATOR_DURATION_MS", "inf"),
    ],
)
def test_submit_refuses_a_simulated_figure_out_of_range(batch_client, define, queue, name, value):
    definition = define("plain", ["true"])
    overrides = {"environment": [{"name": name, "value": value}]}

    error = refused(
        batch_client.submit_job,
        jobName="bad",
        jobQueue=queue,
        jobDefinition=definition,
        containerOverrides=overrides,
    )

    assert error["Code"] == "ClientException"
    assert f"Environment variable {name} must be an integer from 0 to" in error["Message"]


# ---- consumable quantities, shown as Longs ----------------------------------------------------


def test_adding_past_a_long_is_refused(batch_client):
    batch_client.create_consumable_resource(consumableResourceName="licences", totalQuantity=2**63 - 1)

    error = refused(
        batch_client.update_consumable_resource, consumableResource="licences", operation="ADD", quantity=1
    )

    assert error["Code"] == "ClientException"
    assert "totalQuantity must be between 0 and 9223372036854775807" in error["Message"]
    assert (
        batch_client.describe_consumable_resource(consumableResource="licences")["totalQuantity"] == 2**63 - 1
    )


def test_claims_of_one_resource_adding_past_a_long_are_refused(batch_client, define, queue):
    batch_client.create_consumable_resource(consumableResourceName="licences", totalQuantity=1)
    definition = define("plain", ["true"])
    claims = [{"consumableResource": "licences", "quantity": 2**62} for _ in range(2)]

    error = refused(
        batch_client.submit_job,
        jobName="greedy",
        jobQueue=queue,
        jobDefinition=definition,
        consumableResourcePropertiesOverride={"consumableResourceList": claims},
    )

    assert error["Code"] == "ClientException"
    assert "quantity must be between 1 and 9223372036854775807" in error["Message"]


# ---- and afterwards, jobs still run -----------------------------------------------------------


def test_valid_jobs_succeed_after_the_hostile_requests(
    batch_client, define, queue, service_queue, wait_for_job
):
    for duration in ("inf", "1e400", "1e308"):
        refused(submit_service_job, batch_client, "bad", {"batch-emulator-duration-seconds": duration})
    refused(
        batch_client.register_job_definition,
        jobDefinitionName="bad",
        type="container",
        containerProperties=container(("VCPU", "1"), ("MEMORY", "nan")),
    )
    refused(batch_client.describe_job_queues, nextToken=NESTED_TOKEN)
    definition = define("fine", ["true"])
    refused(
        batch_client.submit_job,
        jobName="bad",
        jobQueue=queue,
        jobDefinition=definition,
        containerOverrides={"environment": [{"name": "BATCH_EMULATOR_EXIT_CODE", "value": BAD_EXIT_CODE}]},
    )

    service_job = submit_service_job(batch_client, "fine", {"batch-emulator-duration-seconds": "0.1"})
    job_id = batch_client.submit_job(jobName="fine", jobQueue=queue, jobDefinition=definition)["jobId"]

    assert wait_for_job(job_id, "SUCCEEDED")["container"]["exitCode"] == 0
    assert service_job_status(batch_client, service_job, "SUCCEEDED")["statusReason"] == COMPLETED
