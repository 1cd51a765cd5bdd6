from __future__ import annotations

import pytest

from .conftest import ACCOUNT, PREFIX

EC2 = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 16,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}
FARGATE = {"type": "FARGATE", "maxvCpus": 8, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}


def without(resources: dict, member: str) -> dict:
    return {key: value for key, value in resources.items() if key != member}


INVALID_CREATES = [
    pytest.param(
        {"computeEnvironmentName": "bad name!", "type": "MANAGED", "computeResources": EC2},
        "Compute environment name should match valid pattern",
        id="bad-name",
    ),
    pytest.param(
        {"computeEnvironmentName": "x" * 129, "type": "MANAGED", "computeResources": EC2},
        "Compute environment name should match valid pattern",
        id="name-too-long",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED"},
        "computeResources must be specified for MANAGED compute environments",
        id="managed-without-resources",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "UNMANAGED", "computeResources": EC2},
        "computeResources is not applicable for UNMANAGED compute environments",
        id="unmanaged-with-resources",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": EC2, "unmanagedvCpus": 4},
        "unmanagedvCpus is only supported for UNMANAGED compute environments",
        id="managed-with-unmanaged-vcpus",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": without(EC2, "instanceRole")},
        "Instance role is required.",
        id="ec2-without-instance-role",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": without(EC2, "minvCpus")},
        "Resource minvCpus is required.",
        id="ec2-without-min-vcpus",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": without(EC2, "instanceTypes")},
        "Resource instanceTypes is required.",
        id="ec2-without-instance-types",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": without(EC2, "securityGroupIds"),
        },
        "At least one security group is required.",
        id="ec2-without-security-groups",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": {**EC2, "minvCpus": 32}},
        "minvCpus must be less than or equal to maxvCpus",
        id="min-above-max",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": {**EC2, "desiredvCpus": 64}},
        "desiredvCpus must be between minvCpus and maxvCpus",
        id="desired-above-max",
    ),
    pytest.param(
        {"computeEnvironmentName": "c", "type": "MANAGED", "computeResources": {**EC2, "type": "SPOT"}},
        "ComputeResources.spotIamFleetRole cannot not be null or empty",
        id="spot-best-fit-without-fleet-role",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": {**EC2, "allocationStrategy": "SPOT_CAPACITY_OPTIMIZED"},
        },
        "Allocation strategy SPOT_CAPACITY_OPTIMIZED is only supported for SPOT compute resources.",
        id="spot-strategy-on-ec2",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": {**FARGATE, "desiredvCpus": 1},
        },
        "desiredvCpus is not applicable for Fargate.",
        id="fargate-desired-vcpus",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": {**FARGATE, "tags": {"a": "b"}},
        },
        "tags is not applicable for Fargate.",
        id="fargate-tags",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": {**FARGATE, "instanceRole": "r"},
        },
        "instanceRole is not applicable for Fargate.",
        id="fargate-instance-role",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": without(FARGATE, "securityGroupIds"),
        },
        "Security group ids are required for Fargate.",
        id="fargate-without-security-groups",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": {**FARGATE, "securityGroupIds": [f"sg-{i}" for i in range(6)]},
        },
        "At most 5 security groups are supported for Fargate.",
        id="fargate-six-security-groups",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": EC2,
            "tags": {"aws:owner": "me"},
        },
        "Tag keys starting with 'aws:' are reserved for AWS use",
        id="reserved-tag",
    ),
    pytest.param(
        {
            "computeEnvironmentName": "c",
            "type": "MANAGED",
            "computeResources": EC2,
            "eksConfiguration": {
                "eksClusterArn": "arn:aws:eks:us-east-1:1:cluster/c",
                "kubernetesNamespace": "kube-system",
            },
        },
        "kubernetesNamespace should match valid pattern",
        id="eks-kube-namespace",
    ),
]


@pytest.mark.parametrize(("params", "message"), INVALID_CREATES)
def test_create_compute_environment_rejects_invalid_input(batch, params, message):
    error = batch.error("CreateComputeEnvironment", **params)
    assert error.message == message
    assert error.wrapped is True


@pytest.mark.parametrize(
    "instance_types",
    [["t2.small", "t2.medium"], ["c5"], ["optimal"], ["default_arm64", "m6g.large"]],
    ids=["sizes", "family", "optimal", "special-and-size"],
)
def test_known_instance_types_and_families_are_accepted(batch, instance_types):
    batch.call(
        "CreateComputeEnvironment",
        computeEnvironmentName="c",
        type="MANAGED",
        computeResources={**EC2, "instanceTypes": instance_types},
    )
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["computeResources"]["instanceTypes"] == instance_types


def test_unknown_instance_type_is_refused_with_the_accepted_list(batch):
    """AWS lists every value it accepts, special values and families included (reference §5.1)."""
    error = batch.error(
        "CreateComputeEnvironment",
        computeEnvironmentName="c",
        type="MANAGED",
        computeResources={**EC2, "instanceTypes": ["m5.large", "m5.hyper"]},
    )
    assert error.wrapped is True
    assert error.message.startswith(
        "Instance type can only be one of [optimal, default_x86_64, default_arm64, "
    )
    accepted = error.message.removeprefix("Instance type can only be one of [").removesuffix("]").split(", ")
    assert {"c5", "m5.large", "t2.small"} <= set(accepted)
    assert "m5.hyper" not in accepted


def test_update_to_an_unknown_instance_type_is_refused(batch):
    batch.ec2_ce("ce1")
    batch.settle()
    error = batch.error(
        "UpdateComputeEnvironment", computeEnvironment="ce1", computeResources={"instanceTypes": ["unknown"]}
    )
    assert error.message.startswith("Instance type can only be one of [")
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["computeResources"]["instanceTypes"] == ["optimal"]


def test_created_environment_is_creating_then_valid_with_defaults(batch):
    arn = batch.ec2_ce("ce1")
    assert arn == PREFIX + "compute-environment/ce1"
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["status"] == "CREATING"
    assert "statusReason" not in detail
    assert detail["state"] == "ENABLED"
    assert detail["tags"] == {}
    assert detail["serviceRole"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
    )
    assert detail["containerOrchestrationType"] == "ECS"
    assert detail["ecsClusterArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/AWSBatch-ce1-{detail['uuid']}"
    assert detail["computeResources"]["ec2Configuration"] == [{"imageType": "ECS_AL2023"}]
    assert detail["computeResources"]["tags"] == {}
    batch.settle()
    [detail] = batch.call("DescribeComputeEnvironments", computeEnvironments=["ce1"])["computeEnvironments"]
    assert (detail["status"], detail["statusReason"]) == ("VALID", "ComputeEnvironment Healthy")


def test_engine_is_told_about_each_environment_change(batch):
    arn = batch.ec2_ce("ce1")
    record = batch.engine.environments[arn]
    assert (record.name, record.is_enabled, record.is_valid, record.max_vcpus, record.is_fargate) == (
        "ce1",
        True,
        True,
        16,
        False,
    )
    batch.call("UpdateComputeEnvironment", computeEnvironment=arn, state="DISABLED")
    assert batch.engine.environments[arn].is_enabled is False
    batch.settle()
    batch.call("DeleteComputeEnvironment", computeEnvironment="ce1")
    assert ("remove_compute_environment", arn) in batch.engine.calls


def test_unmanaged_environment_has_no_vcpu_limit_for_the_engine(batch):
    arn = batch.call(
        "CreateComputeEnvironment", computeEnvironmentName="u", type="UNMANAGED", unmanagedvCpus=4
    )["computeEnvironmentArn"]
    assert batch.engine.environments[arn].max_vcpus is None
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["unmanagedvCpus"] == 4 and "computeResources" not in detail


def test_bare_service_role_name_is_expanded(batch):
    batch.ec2_ce("ce1", serviceRole="MyRole")
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["serviceRole"] == f"arn:aws:iam::{ACCOUNT}:role/MyRole"


def test_duplicate_name_is_refused(batch):
    batch.ec2_ce("ce1")
    error = batch.error("CreateComputeEnvironment", computeEnvironmentName="ce1", type="UNMANAGED")
    assert (error.message, error.wrapped) == ("Object already exists", False)


def test_fifty_environments_is_the_quota(batch):
    for index in range(50):
        batch.call("CreateComputeEnvironment", computeEnvironmentName=f"u{index}", type="UNMANAGED")
    error = batch.error("CreateComputeEnvironment", computeEnvironmentName="u50", type="UNMANAGED")
    assert error.message == "Maximum number of compute environments supported is 50"


def test_update_changes_only_given_members_and_goes_through_updating(batch):
    batch.ec2_ce("ce1")
    batch.settle()
    batch.call("UpdateComputeEnvironment", computeEnvironment="ce1", computeResources={"maxvCpus": 32})
    [detail] = batch.call("DescribeComputeEnvironments")["computeEnvironments"]
    assert detail["status"] == "UPDATING"
    assert detail["computeResources"]["maxvCpus"] == 32
    assert detail["computeResources"]["instanceTypes"] == ["optimal"]
    batch.settle()
    assert batch.call("DescribeComputeEnvironments")["computeEnvironments"][0]["status"] == "VALID"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"computeResources": {"minvCpus": 4}},
            "minvCpus is not applicable for Fargate.",
            id="fargate-min-vcpus",
        ),
        pytest.param(
            {"unmanagedvCpus": 2},
            "unmanagedvCpus is only supported for UNMANAGED compute environments",
            id="unmanaged-vcpus-on-managed",
        ),
    ],
)
def test_update_rejects_invalid_changes(batch, params, message):
    batch.fargate_ce("f")
    assert batch.error("UpdateComputeEnvironment", computeEnvironment="f", **params).message == message


def test_update_of_unknown_environment_is_refused(batch):
    error = batch.error("UpdateComputeEnvironment", computeEnvironment="nope", state="DISABLED")
    assert (error.message, error.wrapped) == ("ComputeEnvironment nope not found.", False)


def test_fargate_empty_subnet_list_means_no_change(batch):
    batch.fargate_ce("f")
    batch.call(
        "UpdateComputeEnvironment", computeEnvironment="f", computeResources={"subnets": [], "maxvCpus": 4}
    )
    resources = batch.call("DescribeComputeEnvironments")["computeEnvironments"][0]["computeResources"]
    assert (resources["subnets"], resources["maxvCpus"]) == (["subnet-1"], 4)


def test_delete_requires_disabled_state(batch):
    batch.ec2_ce("ce1")
    error = batch.error("DeleteComputeEnvironment", computeEnvironment="ce1")
    assert error.message == "Cannot delete, compute environment must be in DISABLED state"


def test_delete_refuses_while_a_queue_uses_it(batch):
    batch.ec2_ce("ce1")
    batch.queue("q", "ce1")
    batch.call("UpdateComputeEnvironment", computeEnvironment="ce1", state="DISABLED")
    batch.settle()
    error = batch.error("DeleteComputeEnvironment", computeEnvironment="ce1")
    assert error.message == "Cannot delete, found existing JobQueue relationship"


def test_delete_refuses_while_updating(batch):
    batch.ec2_ce("ce1")
    batch.call("UpdateComputeEnvironment", computeEnvironment="ce1", state="DISABLED")
    assert batch.error("DeleteComputeEnvironment", computeEnvironment="ce1").message == (
        "Cannot delete, resource is being modified"
    )


def test_deleted_environment_goes_deleting_deleted_then_disappears(batch):
    batch.ec2_ce("ce1")
    batch.call("UpdateComputeEnvironment", computeEnvironment="ce1", state="DISABLED")
    batch.settle()
    batch.call("DeleteComputeEnvironment", computeEnvironment="ce1")
    assert batch.call("DescribeComputeEnvironments")["computeEnvironments"][0]["status"] == "DELETING"
    batch.settle()
    assert batch.call("DescribeComputeEnvironments")["computeEnvironments"][0]["status"] == "DELETED"
    batch.settle()
    assert batch.call("DescribeComputeEnvironments")["computeEnvironments"] == []
    batch.ec2_ce("ce1")  # the name is free again


def test_describe_omits_unknown_names_and_refuses_more_than_100(batch):
    batch.ec2_ce("ce1")
    found = batch.call(
        "DescribeComputeEnvironments", computeEnvironments=["ce1", "ghost", PREFIX + "compute-environment/x"]
    )
    assert [d["computeEnvironmentName"] for d in found["computeEnvironments"]] == ["ce1"]
    error = batch.error("DescribeComputeEnvironments", computeEnvironments=[f"c{i}" for i in range(101)])
    assert error.message == "Maximum number of compute environments supported is 100"


def test_describe_paginates_stably_while_environments_are_added(batch):
    for index in range(5):
        batch.call("CreateComputeEnvironment", computeEnvironmentName=f"u{index}", type="UNMANAGED")
    first = batch.call("DescribeComputeEnvironments", maxResults=2)
    assert [d["computeEnvironmentName"] for d in first["computeEnvironments"]] == ["u0", "u1"]
    batch.call("CreateComputeEnvironment", computeEnvironmentName="late", type="UNMANAGED")
    second = batch.call("DescribeComputeEnvironments", maxResults=2, nextToken=first["nextToken"])
    third = batch.call("DescribeComputeEnvironments", maxResults=2, nextToken=second["nextToken"])
    names = [d["computeEnvironmentName"] for page in (second, third) for d in page["computeEnvironments"]]
    assert names == ["u2", "u3", "u4", "late"]
    assert "nextToken" not in third


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"maxResults": 0}, "maxResults must be between 1 and 100", id="zero"),
        pytest.param({"maxResults": 101}, "maxResults must be between 1 and 100", id="above-100"),
        pytest.param({"nextToken": "garbage"}, "Invalid nextToken", id="garbage-token"),
    ],
)
def test_describe_rejects_bad_paging(batch, params, message):
    assert batch.error("DescribeComputeEnvironments", **params).message == message


def test_environments_are_invisible_from_another_region(batch):
    from emulator.protocol.dispatch import RequestContext

    batch.ec2_ce("ce1")
    elsewhere = RequestContext(batch.ctx.account_id, "eu-west-1", "r")
    assert batch.call("DescribeComputeEnvironments", ctx=elsewhere)["computeEnvironments"] == []
    assert (
        batch.call(
            "DescribeComputeEnvironments",
            ctx=elsewhere,
            computeEnvironments=[PREFIX + "compute-environment/ce1"],
        )["computeEnvironments"]
        == []
    )


def test_51_tags_are_refused_by_model_validation(batch):
    error = batch.error(
        "CreateComputeEnvironment",
        computeEnvironmentName="c",
        type="UNMANAGED",
        tags={f"k{i}": "v" for i in range(51)},
    )
    assert "at 'tags' failed to satisfy constraint" in error.message
