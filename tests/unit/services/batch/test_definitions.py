from __future__ import annotations

import pytest

from emulator.protocol.errors import ServiceError
from emulator.services.batch.definitions import resolve_definition_for_submit

from .conftest import PREFIX

CONTAINER = {
    "image": "busybox",
    "command": ["echo", "hi"],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
}
FARGATE_CONTAINER = {
    "image": "busybox",
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
    "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": "512"}],
}
NODES = {
    "numNodes": 2,
    "mainNode": 0,
    "nodeRangeProperties": [{"targetNodes": "0:1", "container": CONTAINER}],
}


def register(batch, **params):
    return batch.call("RegisterJobDefinition", **{"jobDefinitionName": "jd", "type": "container", **params})


INVALID = [
    pytest.param(
        {"jobDefinitionName": "bad name", "containerProperties": CONTAINER},
        "Job definition name should match valid pattern",
        id="bad-name",
    ),
    pytest.param(
        {},
        "Exactly one of containerProperties, ecsProperties or eksProperties must be specified for "
        "container job definitions",
        id="container-without-properties",
    ),
    pytest.param(
        {"containerProperties": CONTAINER, "nodeProperties": NODES},
        "nodeProperties is only valid for multinode job definitions",
        id="container-with-nodes",
    ),
    pytest.param(
        {"containerProperties": CONTAINER, "retryStrategy": {}},
        "RetryAttempts must be provided with retry strategy",
        id="retry-without-attempts",
    ),
    pytest.param(
        {"containerProperties": CONTAINER, "retryStrategy": {"attempts": 11}},
        "Retry attempts should be between 1 and 10",
        id="eleven-attempts",
    ),
    pytest.param(
        {
            "containerProperties": CONTAINER,
            "retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": "EXIT", "onExitCode": "1"}] * 6},
        },
        "Maximum 5 evaluateOnExit conditions are allowed",
        id="six-exit-rules",
    ),
    pytest.param(
        {
            "containerProperties": CONTAINER,
            "retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": "EXIT", "onExitCode": "a*"}]},
        },
        "onExitCode should match valid pattern",
        id="non-numeric-exit-code",
    ),
    pytest.param(
        {"containerProperties": CONTAINER, "timeout": {"attemptDurationSeconds": 59}},
        "timeout.attemptDurationSeconds must be at least 60",
        id="timeout-below-60",
    ),
    pytest.param(
        {"containerProperties": {**CONTAINER, "environment": [{"name": "AWS_BATCH_X", "value": "1"}]}},
        "Environment variable AWS_BATCH_X is invalid: names starting with AWS_BATCH are reserved",
        id="reserved-environment",
    ),
    pytest.param(
        {"containerProperties": {**CONTAINER, "vcpus": 2}},
        "vcpus and resourceRequirements VCPU cannot both be specified",
        id="legacy-and-requirements",
    ),
    pytest.param(
        {"containerProperties": {**CONTAINER, "networkConfiguration": {"assignPublicIp": "ENABLED"}}},
        "networkConfiguration not applicable for EC2.",
        id="network-on-ec2",
    ),
    pytest.param(
        {"containerProperties": {"command": ["x"]}},
        "image must be specified in containerProperties",
        id="no-image",
    ),
    pytest.param(
        {
            "platformCapabilities": ["FARGATE"],
            "containerProperties": {**FARGATE_CONTAINER, "executionRoleArn": ""},
        },
        "Execution role is required for Fargate.",
        id="fargate-no-execution-role",
    ),
    pytest.param(
        {
            "platformCapabilities": ["FARGATE"],
            "containerProperties": {
                **FARGATE_CONTAINER,
                "resourceRequirements": [
                    {"type": "VCPU", "value": "0.25"},
                    {"type": "MEMORY", "value": "4096"},
                ],
            },
        },
        "Fargate resource requirements VCPU=0.25 MEMORY=4096.0 are not a supported combination",
        id="fargate-bad-pair",
    ),
    pytest.param(
        {
            "platformCapabilities": ["FARGATE"],
            "containerProperties": {**FARGATE_CONTAINER, "privileged": True},
        },
        "privileged is not applicable for Fargate.",
        id="fargate-privileged",
    ),
    pytest.param(
        {"type": "multinode", "platformCapabilities": ["FARGATE"], "nodeProperties": NODES},
        "multinode job definitions are not supported on FARGATE",
        id="multinode-fargate",
    ),
    pytest.param(
        {"type": "multinode"},
        "nodeProperties must be specified for multinode job definitions",
        id="multinode-without-nodes",
    ),
    pytest.param(
        {"type": "multinode", "nodeProperties": {**NODES, "mainNode": 2}},
        "mainNode must be less than numNodes",
        id="main-node-out-of-range",
    ),
    pytest.param(
        {
            "type": "multinode",
            "nodeProperties": {
                **NODES,
                "nodeRangeProperties": [{"targetNodes": "0", "container": CONTAINER}],
            },
        },
        "targetNodes in nodeRangeProperties must cover every node exactly once",
        id="uncovered-node",
    ),
    pytest.param(
        {
            "type": "multinode",
            "nodeProperties": {
                **NODES,
                "nodeRangeProperties": [
                    {"targetNodes": "0:", "container": CONTAINER},
                    {"targetNodes": "1", "container": CONTAINER},
                ],
            },
        },
        "targetNodes in nodeRangeProperties must cover every node exactly once",
        id="overlapping-ranges",
    ),
    pytest.param(
        {"ecsProperties": {"taskProperties": [{"containers": [{"image": "a", "essential": False}]}]}},
        "At least one container must be essential",
        id="ecs-no-essential",
    ),
    pytest.param(
        {"eksProperties": {"podProperties": {"containers": [{"image": "a"}]}}, "propagateTags": True},
        "propagateTags is not applicable for EKS job definitions",
        id="eks-propagate-tags",
    ),
    pytest.param(
        {"containerProperties": CONTAINER, "schedulingPriority": 10000},
        "schedulingPriority must be between 0 and 9999",
        id="priority-too-high",
    ),
    pytest.param(
        {"containerProperties": {**CONTAINER, "command": ["x" * 25000]}},
        "Job definition size must be less than 24 KiB, got 25 KiB",
        id="over-24-kib",
    ),
]


@pytest.mark.parametrize(("params", "message"), INVALID)
def test_register_rejects_invalid_definitions(batch, params, message):
    error = batch.error("RegisterJobDefinition", **{"jobDefinitionName": "jd", "type": "container", **params})
    assert (error.message, error.wrapped) == (message, True)


def test_eks_definition_takes_propagate_tags_false(batch):
    """The Terraform AWS provider sends `propagateTags: false` with every definition, EKS ones
    included, and AWS registers them: only `true` is refused."""
    pod = {"podProperties": {"containers": [{"image": "a"}]}}
    registered = register(batch, eksProperties=pod, propagateTags=False)
    [definition] = batch.call("DescribeJobDefinitions", jobDefinitions=[registered["jobDefinitionArn"]])[
        "jobDefinitions"
    ]
    assert definition["eksProperties"]["podProperties"]["containers"][0]["image"] == "a"
    assert definition.get("propagateTags", False) is False


def test_revisions_count_up_and_are_never_reused(batch):
    assert register(batch, containerProperties=CONTAINER)["revision"] == 1
    second = register(batch, containerProperties=CONTAINER)
    assert second == {
        "jobDefinitionName": "jd",
        "jobDefinitionArn": PREFIX + "job-definition/jd:2",
        "revision": 2,
    }
    batch.call("DeregisterJobDefinition", jobDefinition="jd:2")
    assert register(batch, containerProperties=CONTAINER)["revision"] == 3


def test_describe_echoes_aws_defaults(batch):
    register(
        batch,
        containerProperties={
            "image": "busybox",
            "vcpus": 1,
            "memory": 512,
            "logConfiguration": {"logDriver": "awslogs"},
        },
        retryStrategy={"attempts": 3},
        tags={"team": "a"},
    )
    [definition] = batch.call("DescribeJobDefinitions")["jobDefinitions"]
    container = definition["containerProperties"]
    assert container["command"] == [] and container["resourceRequirements"] == []
    assert (container["vcpus"], container["memory"]) == (1, 512)
    assert container["logConfiguration"] == {"logDriver": "awslogs", "secretOptions": []}
    for member in ("volumes", "environment", "mountPoints", "ulimits", "secrets"):
        assert container[member] == []
    assert definition["parameters"] == {} and definition["tags"] == {"team": "a"}
    assert definition["retryStrategy"] == {"attempts": 3, "evaluateOnExit": []}
    assert (definition["status"], definition["containerOrchestrationType"]) == ("ACTIVE", "ECS")
    assert "platformCapabilities" not in definition


def test_describe_filters_and_orders_newest_first(batch):
    for _ in range(3):
        register(batch, containerProperties=CONTAINER)
    register(batch, jobDefinitionName="other", containerProperties=CONTAINER)
    batch.call("DeregisterJobDefinition", jobDefinition=PREFIX + "job-definition/jd:1")
    by_name = batch.call("DescribeJobDefinitions", jobDefinitionName="jd")["jobDefinitions"]
    assert [d["revision"] for d in by_name] == [3, 2, 1]
    active = batch.call("DescribeJobDefinitions", jobDefinitionName="jd", status="ACTIVE")["jobDefinitions"]
    assert [d["revision"] for d in active] == [3, 2]
    listed = batch.call(
        "DescribeJobDefinitions", jobDefinitions=["jd:1", PREFIX + "job-definition/other:1", "x:9"]
    )
    assert sorted(d["jobDefinitionArn"] for d in listed["jobDefinitions"]) == [
        PREFIX + "job-definition/jd:1",
        PREFIX + "job-definition/other:1",
    ]
    error = batch.error("DescribeJobDefinitions", jobDefinitions=["jd:1"], status="ACTIVE")
    assert error.message == "jobDefinitions cannot be combined with jobDefinitionName or status"
    page = batch.call("DescribeJobDefinitions", maxResults=3)
    rest = batch.call("DescribeJobDefinitions", maxResults=3, nextToken=page["nextToken"])
    assert len(page["jobDefinitions"]) == 3 and len(rest["jobDefinitions"]) == 1


def test_deregister_of_unknown_or_inactive_revision_succeeds(batch):
    register(batch, containerProperties=CONTAINER)
    assert batch.call("DeregisterJobDefinition", jobDefinition="ghost:1") == {}
    batch.call("DeregisterJobDefinition", jobDefinition="jd:1")
    assert batch.call("DeregisterJobDefinition", jobDefinition="jd:1") == {}


def test_resolve_for_submit_picks_latest_active_revision(batch):
    register(batch, containerProperties=CONTAINER)
    register(batch, containerProperties=CONTAINER)
    register(batch, containerProperties=CONTAINER)
    batch.call("DeregisterJobDefinition", jobDefinition="jd:3")
    ctx = batch.ctx
    assert resolve_definition_for_submit(batch.store, ctx, "jd")["revision"] == 2
    assert resolve_definition_for_submit(batch.store, ctx, PREFIX + "job-definition/jd")["revision"] == 2
    assert resolve_definition_for_submit(batch.store, ctx, "jd:1")["revision"] == 1
    assert resolve_definition_for_submit(batch.store, ctx, PREFIX + "job-definition/jd:1")["tags"] == {}
    with pytest.raises(ServiceError) as caught:
        resolve_definition_for_submit(batch.store, ctx, "nextflow")
    assert caught.value.message == "JobDefinition name nextflow does not exist or is not in ACTIVE status"
    assert caught.value.wrapped is False
    with pytest.raises(ServiceError):
        resolve_definition_for_submit(batch.store, ctx, "jd:3")


def test_valid_fargate_multinode_and_ecs_definitions_register(batch):
    register(batch, platformCapabilities=["FARGATE"], containerProperties=FARGATE_CONTAINER)
    batch.call("RegisterJobDefinition", jobDefinitionName="mnp", type="multinode", nodeProperties=NODES)
    register(
        batch, jobDefinitionName="ecs", ecsProperties={"taskProperties": [{"containers": [{"image": "a"}]}]}
    )
    definitions = batch.call("DescribeJobDefinitions")["jobDefinitions"]
    assert len(definitions) == 3
    mnp = next(d for d in definitions if d["jobDefinitionName"] == "mnp")
    assert mnp["nodeProperties"]["nodeRangeProperties"][0]["container"]["volumes"] == []
