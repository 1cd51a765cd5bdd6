from __future__ import annotations

from types import SimpleNamespace

import pytest

from emulator.protocol.dispatch import RequestContext
from emulator.services.batch.tags import get_tags, set_tags

from .conftest import PREFIX


def test_tags_merge_remove_and_show_in_describe(batch):
    arn = batch.ec2_ce("ce", tags={"a": "1"})
    batch.call("TagResource", resourceArn=arn, tags={"b": "2", "a": "0"})
    assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {"a": "0", "b": "2"}}
    batch.call("UntagResource", resourceArn=arn, tagKeys=["a", "missing"])
    assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {"b": "2"}}
    assert batch.call("DescribeComputeEnvironments")["computeEnvironments"][0]["tags"] == {"b": "2"}


def test_every_resource_family_is_taggable(batch):
    batch.ec2_ce("ce")
    arns = [
        PREFIX + "compute-environment/ce",
        batch.queue("q", "ce"),
        batch.call(
            "RegisterJobDefinition",
            jobDefinitionName="jd",
            type="container",
            containerProperties={"image": "busybox"},
        )["jobDefinitionArn"],
        batch.call("CreateSchedulingPolicy", name="p")["arn"],
        batch.call("CreateConsumableResource", consumableResourceName="r")["consumableResourceArn"],
        batch.call(
            "CreateServiceEnvironment",
            serviceEnvironmentName="se",
            serviceEnvironmentType="SAGEMAKER_TRAINING",
            capacityLimits=[{"maxCapacity": 1, "capacityUnit": "NUM_INSTANCES"}],
        )["serviceEnvironmentArn"],
    ]
    for arn in arns:
        batch.call("TagResource", resourceArn=arn, tags={"k": "v"})
        assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {"k": "v"}}


def test_job_tags_are_checked_against_the_engine(batch):
    batch.engine.jobs["job-1"] = SimpleNamespace(tags={"from": "submit"})
    arn = PREFIX + "job/job-1"
    assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {"from": "submit"}}
    batch.call("TagResource", resourceArn=arn, tags={"x": "y"})
    assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {"from": "submit", "x": "y"}}
    batch.call("UntagResource", resourceArn=arn, tagKeys=["from", "x"])
    assert batch.call("ListTagsForResource", resourceArn=arn) == {"tags": {}}


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        pytest.param(
            PREFIX + "job/job-1:3",
            "Tagging is not supported for array child jobs or multi-node parallel node jobs",
            id="array-child",
        ),
        pytest.param(
            PREFIX + "job/job-1#0",
            "Tagging is not supported for array child jobs or multi-node parallel node jobs",
            id="node-job",
        ),
        pytest.param(PREFIX + "job/ghost", f"Resource {PREFIX}job/ghost does not exist", id="unknown-job"),
        pytest.param(
            PREFIX + "job-queue/ghost", f"Resource {PREFIX}job-queue/ghost does not exist", id="unknown-queue"
        ),
        pytest.param("not-an-arn", "Invalid resource ARN: not-an-arn", id="not-an-arn"),
        pytest.param(PREFIX + "widget/x", f"Invalid resource ARN: {PREFIX}widget/x", id="unknown-type"),
    ],
)
def test_untaggable_arns_are_refused(batch, arn, message):
    assert batch.error("ListTagsForResource", resourceArn=arn).message == message


def test_tag_limits(batch):
    arn = batch.ec2_ce("ce", tags={f"k{i}": "v" for i in range(45)})
    error = batch.error("TagResource", resourceArn=arn, tags={f"n{i}": "v" for i in range(6)})
    assert error.message == "Number of tags must not exceed 50"
    error = batch.error("TagResource", resourceArn=arn, tags={"AWS:x": "v"})
    assert error.message == "Tag keys starting with 'aws:' are reserved for AWS use"


def test_tags_of_another_region_are_not_reachable(batch):
    arn = batch.ec2_ce("ce")
    elsewhere = RequestContext(batch.ctx.account_id, "eu-west-1", "r")
    assert (
        batch.error("ListTagsForResource", ctx=elsewhere, resourceArn=arn).message
        == f"Resource {arn} does not exist"
    )


def test_get_and_set_tags_helpers(batch):
    set_tags(batch.store, "arn:x", {"a": "b"})
    assert get_tags(batch.store, "arn:x") == {"a": "b"}
    assert get_tags(batch.store, "arn:y") == {}
