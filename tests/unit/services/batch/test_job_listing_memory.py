"""What a held job costs: jobs submitted alike share one ContainerSpec and one `detail`, array
children share their parent's, and empty tags are one shared mapping - with DescribeJobs
answering exactly as for jobs built one by one."""

from __future__ import annotations

from emulator.engine.records import EMPTY_MAPPING

from .conftest import EngineHarness

CONTAINER = {"image": "busybox", "command": ["echo", "Ref::word"], "vcpus": 1, "memory": 128}


def world() -> EngineHarness:
    harness = EngineHarness()
    harness.ec2_ce("ce")
    harness.settle()
    harness.queue("q", "ce")
    harness.call(
        "RegisterJobDefinition",
        jobDefinitionName="d",
        type="container",
        parameters={"word": "hi"},
        containerProperties=CONTAINER,
    )
    harness.settle()
    return harness


def submit(harness: EngineHarness, **params):
    job_id = harness.call("SubmitJob", jobName="j", jobQueue="q", jobDefinition="d", **params)["jobId"]
    return harness.engine.get_job(job_id)


def test_jobs_submitted_alike_share_their_container_and_detail():
    harness = world()
    first, second = submit(harness), submit(harness)
    assert first.container is second.container and first.detail is second.detail
    assert first.retry is second.retry
    assert first.tags is EMPTY_MAPPING


def test_jobs_submitted_differently_do_not():
    harness = world()
    plain = submit(harness)
    overridden = submit(harness, containerOverrides={"command": ["echo", "other"]})
    with_parameters = submit(harness, parameters={"word": "bye"})
    assert plain.detail is not overridden.detail and plain.detail is not with_parameters.detail
    assert overridden.container.command == ("echo", "other")
    assert with_parameters.container.command == ("echo", "bye")
    assert submit(harness, parameters={"word": "bye"}).detail is with_parameters.detail


def test_a_shared_detail_describes_like_one_built_alone():
    shared = world()
    submit(shared)
    job = submit(shared)
    alone = world()
    solo = submit(alone)
    mine = shared.call("DescribeJobs", jobs=[job.job_id])["jobs"][0]
    theirs = alone.call("DescribeJobs", jobs=[solo.job_id])["jobs"][0]
    for member in ("jobId", "jobArn", "createdAt"):
        mine.pop(member), theirs.pop(member)
    assert mine == theirs


def test_a_definition_document_replaced_under_the_same_arn_is_not_reused():
    harness = world()
    before = submit(harness)
    harness.store.clear()  # what a reset does to the resource store
    harness.ec2_ce("ce")
    harness.settle()
    harness.queue("q", "ce")
    changed = {**CONTAINER, "command": ["echo", "changed"]}
    harness.call(
        "RegisterJobDefinition", jobDefinitionName="d", type="container", containerProperties=changed
    )
    harness.settle()
    after = submit(harness)
    assert after.definition_arn == before.definition_arn
    assert after.container.command == ("echo", "changed")


def test_array_children_share_the_parent_container_detail_and_empty_tags():
    harness = world()
    parent = submit(harness, arrayProperties={"size": 3}, tags={"team": "a"})
    harness.passes(1)
    children = harness.engine.list_jobs(array_job_id=parent.job_id)
    assert len(children) == 3
    for child in children:
        assert child.container is parent.container and child.detail is parent.detail
        assert child.tags is EMPTY_MAPPING
