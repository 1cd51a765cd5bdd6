from __future__ import annotations

import pytest

from .conftest import PREFIX


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        pytest.param(
            {"shareDecaySeconds": 604801}, "shareDecaySeconds must be between 0 and 604800", id="decay"
        ),
        pytest.param(
            {"computeReservation": 100}, "computeReservation must be between 0 and 99", id="reservation"
        ),
        pytest.param(
            {"shareDistribution": [{"shareIdentifier": "A", "weightFactor": 1000}]},
            "weightFactor must be between 0.0001 and 999.9999",
            id="weight",
        ),
        pytest.param(
            {"shareDistribution": [{"shareIdentifier": "A"}, {"shareIdentifier": "A"}]},
            "shareIdentifier values in shareDistribution must be unique",
            id="duplicate",
        ),
        pytest.param(
            {"shareDistribution": [{"shareIdentifier": "UserA*"}, {"shareIdentifier": "UserA1"}]},
            "shareIdentifier UserA* overlaps with another shareIdentifier",
            id="prefix-overlap",
        ),
        pytest.param(
            {"shareDistribution": [{"shareIdentifier": "bad-id"}]},
            "shareIdentifier should match valid pattern",
            id="bad-identifier",
        ),
    ],
)
def test_fairshare_policy_validation(batch, policy, message):
    assert batch.error("CreateSchedulingPolicy", name="p", fairsharePolicy=policy).message == message


def test_scheduling_policy_lifecycle(batch):
    arn = batch.call(
        "CreateSchedulingPolicy", name="p", fairsharePolicy={"shareDecaySeconds": 60}, tags={"a": "b"}
    )["arn"]
    assert arn == PREFIX + "scheduling-policy/p"
    assert batch.error("CreateSchedulingPolicy", name="p").message == "Object already exists"
    batch.call("UpdateSchedulingPolicy", arn=arn, fairsharePolicy={"computeReservation": 5})
    [detail] = batch.call("DescribeSchedulingPolicies", arns=[arn, PREFIX + "scheduling-policy/ghost"])[
        "schedulingPolicies"
    ]
    assert detail == {
        "name": "p",
        "arn": arn,
        "tags": {"a": "b"},
        "fairsharePolicy": {"computeReservation": 5, "shareDistribution": []},
    }
    error = batch.error(
        "UpdateSchedulingPolicy", arn=arn, quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"}
    )
    assert error.message == "The kind of a scheduling policy cannot be changed"
    batch.ec2_ce("ce")
    batch.queue("q", "ce", schedulingPolicyArn=arn)
    assert (
        batch.error("DeleteSchedulingPolicy", arn=arn).message
        == "Cannot delete, found existing JobQueue relationship"
    )


def test_both_policy_kinds_are_refused(batch):
    error = batch.error(
        "CreateSchedulingPolicy",
        name="p",
        fairsharePolicy={},
        quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"},
    )
    assert error.message == "Only one of fairsharePolicy or quotaSharePolicy can be specified"


def test_list_scheduling_policies_paginates(batch):
    for index in range(3):
        batch.call("CreateSchedulingPolicy", name=f"p{index}")
    first = batch.call("ListSchedulingPolicies", maxResults=2)
    second = batch.call("ListSchedulingPolicies", maxResults=2, nextToken=first["nextToken"])
    arns = [p["arn"] for p in first["schedulingPolicies"] + second["schedulingPolicies"]]
    assert arns == [PREFIX + f"scheduling-policy/p{i}" for i in range(3)]
    batch.call("DeleteSchedulingPolicy", arn=arns[0])
    assert len(batch.call("ListSchedulingPolicies")["schedulingPolicies"]) == 2


def test_consumable_resource_lifecycle(batch):
    created = batch.call("CreateConsumableResource", consumableResourceName="licenses", totalQuantity=10)
    assert created == {
        "consumableResourceName": "licenses",
        "consumableResourceArn": PREFIX + "consumable-resource/licenses",
    }
    described = batch.call("DescribeConsumableResource", consumableResource="licenses")
    assert (described["totalQuantity"], described["inUseQuantity"], described["availableQuantity"]) == (
        10,
        0,
        10,
    )
    assert (described["resourceType"], described["tags"]) == ("REPLENISHABLE", {})
    assert (
        batch.call(
            "UpdateConsumableResource",
            consumableResource="licenses",
            operation="ADD",
            quantity=5,
            clientToken="t1",
        )["totalQuantity"]
        == 15
    )
    assert (
        batch.call(
            "UpdateConsumableResource",
            consumableResource="licenses",
            operation="ADD",
            quantity=5,
            clientToken="t1",
        )["totalQuantity"]
        == 15
    )  # same token: applied once
    assert (
        batch.call("UpdateConsumableResource", consumableResource="licenses", operation="REMOVE", quantity=3)[
            "totalQuantity"
        ]
        == 12
    )
    batch.call("DeleteConsumableResource", consumableResource=created["consumableResourceArn"])
    error = batch.error("DescribeConsumableResource", consumableResource="licenses")
    assert error.message == "Consumable resource licenses does not exist"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"resourceType": "SOMETIMES"},
            "resourceType must be one of REPLENISHABLE, NON_REPLENISHABLE",
            id="bad-type",
        ),
        pytest.param({"totalQuantity": -1}, "totalQuantity must be at least 0", id="negative-total"),
        pytest.param(
            {"consumableResourceName": "a b"},
            "Consumable resource name should match valid pattern",
            id="bad-name",
        ),
    ],
)
def test_create_consumable_resource_rejects_invalid_input(batch, params, message):
    params = {"consumableResourceName": "r", **params}
    assert batch.error("CreateConsumableResource", **params).message == message


def test_list_consumable_resources_filters_by_name_prefix(batch):
    for name in ("GPU-a", "gpu-b", "license"):
        batch.call("CreateConsumableResource", consumableResourceName=name)
    found = batch.call(
        "ListConsumableResources", filters=[{"name": "CONSUMABLE_RESOURCE_NAME", "values": ["gpu*"]}]
    )["consumableResources"]
    assert [r["consumableResourceName"] for r in found] == ["GPU-a", "gpu-b"]
    error = batch.error("ListConsumableResources", filters=[{"name": "OTHER", "values": ["x"]}])
    assert error.message == "Invalid filter name: OTHER"


def test_list_jobs_by_consumable_resource_is_empty_for_now(batch):
    batch.call("CreateConsumableResource", consumableResourceName="r")
    assert batch.call("ListJobsByConsumableResource", consumableResource="r") == {"jobs": []}
    assert batch.error("ListJobsByConsumableResource", consumableResource="ghost").message == (
        "Consumable resource ghost does not exist"
    )
