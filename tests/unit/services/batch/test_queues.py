from __future__ import annotations

import pytest

from emulator.services.batch.queues import resolve_queue

from .conftest import PREFIX

ACTION = {"reason": "stuck", "state": "RUNNABLE", "maxTimeSeconds": 600, "action": "CANCEL"}


@pytest.fixture
def ready(batch):
    batch.ec2_ce("ce1")
    batch.ec2_ce("ce2")
    batch.fargate_ce("f1")
    return batch


INVALID_CREATES = [
    pytest.param({"jobQueueName": "bad name"}, "Job queue name should match valid pattern", id="bad-name"),
    pytest.param({"priority": -1}, "priority must be at least 0", id="negative-priority"),
    pytest.param(
        {"computeEnvironmentOrder": []},
        "A job queue must have between 1 and 3 compute environments",
        id="no-environments",
    ),
    pytest.param(
        {"computeEnvironmentOrder": None},
        "Exactly one of computeEnvironmentOrder or serviceEnvironmentOrder must be specified",
        id="no-order",
    ),
    pytest.param(
        {"computeEnvironmentOrder": [{"order": i, "computeEnvironment": "ce1"} for i in range(4)]},
        "A job queue must have between 1 and 3 compute environments",
        id="four-environments",
    ),
    pytest.param(
        {"computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ghost"}]},
        "ComputeEnvironment ghost not found.",
        id="unknown-environment",
    ),
    pytest.param(
        {
            "computeEnvironmentOrder": [
                {"order": 1, "computeEnvironment": "ce1"},
                {"order": 2, "computeEnvironment": "f1"},
            ]
        },
        "Job queue cannot have a mix of EC2/SPOT and FARGATE/FARGATE_SPOT compute environments",
        id="mixed",
    ),
    pytest.param(
        {
            "computeEnvironmentOrder": [
                {"order": 1, "computeEnvironment": "ce1"},
                {"order": 2, "computeEnvironment": "ce1"},
            ]
        },
        "A compute environment can appear only once in computeEnvironmentOrder",
        id="repeated-environment",
    ),
    pytest.param(
        {"jobQueueType": "ECS_FARGATE"},
        "jobQueueType ECS_FARGATE does not match the compute environments",
        id="wrong-type",
    ),
    pytest.param(
        {"schedulingPolicyArn": PREFIX + "scheduling-policy/none"},
        f"Scheduling policy {PREFIX}scheduling-policy/none does not exist",
        id="unknown-policy",
    ),
    pytest.param(
        {"jobStateTimeLimitActions": [{**ACTION, "maxTimeSeconds": 599}]},
        "maxTimeSeconds must be between 600 and 86400",
        id="time-limit-too-short",
    ),
    pytest.param(
        {"jobStateTimeLimitActions": [{**ACTION, "maxTimeSeconds": 86401}]},
        "maxTimeSeconds must be between 600 and 86400",
        id="time-limit-too-long",
    ),
    pytest.param(
        {"jobStateTimeLimitActions": [{**ACTION, "action": "TERMINATE"}]},
        "action must be CANCEL for this job queue",
        id="terminate-on-ecs-queue",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), INVALID_CREATES)
def test_create_job_queue_rejects_invalid_input(ready, overrides, message):
    params = {
        "jobQueueName": "q",
        "priority": 1,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce1"}],
    }
    params.update(overrides)
    params = {key: value for key, value in params.items() if value is not None}
    assert ready.error("CreateJobQueue", **params).message == message


def test_queue_describes_like_aws_and_becomes_valid(ready):
    arn = ready.queue("q", "ce2", PREFIX + "compute-environment/ce1")
    [detail] = ready.call("DescribeJobQueues", jobQueues=["q"])["jobQueues"]
    assert detail["status"] == "CREATING"
    assert detail["computeEnvironmentOrder"] == [
        {"order": 1, "computeEnvironment": PREFIX + "compute-environment/ce2"},
        {"order": 2, "computeEnvironment": PREFIX + "compute-environment/ce1"},
    ]
    assert (detail["tags"], detail["jobStateTimeLimitActions"], detail["state"]) == ({}, [], "ENABLED")
    ready.settle()
    [detail] = ready.call("DescribeJobQueues", jobQueues=[arn])["jobQueues"]
    assert (detail["status"], detail["statusReason"]) == ("VALID", "JobQueue Healthy")


def test_engine_receives_queue_topology(ready):
    arn = ready.queue("q", "ce1", "ce2", jobStateTimeLimitActions=[ACTION])
    record = ready.engine.queues[arn]
    assert record.compute_environment_arns == (
        PREFIX + "compute-environment/ce1",
        PREFIX + "compute-environment/ce2",
    )
    assert (record.is_enabled, record.priority, record.is_fair_share) == (True, 1, False)
    assert record.time_limit_actions[0].max_time_seconds == 600


def test_fair_share_queue_is_flagged_for_the_engine(ready):
    policy = ready.call("CreateSchedulingPolicy", name="fs", fairsharePolicy={})["arn"]
    arn = ready.queue("q", "ce1", schedulingPolicyArn=policy)
    assert ready.engine.queues[arn].is_fair_share is True


def test_duplicate_queue_name_and_quota(ready):
    ready.queue("q", "ce1")
    assert (
        ready.error(
            "CreateJobQueue",
            jobQueueName="q",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce1"}],
        ).message
        == "Object already exists"
    )
    for index in range(49):
        ready.queue(f"q{index}", "ce1")
    error = ready.error(
        "CreateJobQueue",
        jobQueueName="one-more",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce1"}],
    )
    assert error.message == "Maximum number of job queues supported is 50"


def test_update_replaces_lists_and_cannot_add_a_policy_to_a_fifo_queue(ready):
    ready.queue("q", "ce1")
    ready.call(
        "UpdateJobQueue",
        jobQueue="q",
        priority=5,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce2"}],
    )
    [detail] = ready.call("DescribeJobQueues")["jobQueues"]
    assert detail["status"] == "UPDATING" and detail["priority"] == 5
    assert [e["computeEnvironment"] for e in detail["computeEnvironmentOrder"]] == [
        PREFIX + "compute-environment/ce2"
    ]
    policy = ready.call("CreateSchedulingPolicy", name="fs")["arn"]
    error = ready.error("UpdateJobQueue", jobQueue="q", schedulingPolicyArn=policy)
    assert error.message == "A scheduling policy cannot be added to a job queue created without one"


def test_unknown_queue_errors_use_the_observed_wording(ready):
    error = ready.error("UpdateJobQueue", jobQueue="ghost", state="DISABLED")
    assert (error.message, error.wrapped) == ("JobQueue ghost not found.", False)


def test_delete_requires_disabled_and_settled_queue_then_removes_it(ready):
    arn = ready.queue("q", "ce1")
    ready.settle()
    assert (
        ready.error("DeleteJobQueue", jobQueue="q").message
        == "Cannot delete, job queue must be in DISABLED state"
    )
    ready.call("UpdateJobQueue", jobQueue="q", state="DISABLED")
    assert ready.error("DeleteJobQueue", jobQueue="q").message == "Cannot delete, resource is being modified"
    ready.settle()
    ready.call("DeleteJobQueue", jobQueue=arn)
    assert ("remove_queue", arn) in ready.engine.calls
    assert ready.call("DescribeJobQueues")["jobQueues"][0]["status"] == "DELETING"
    ready.settle()
    ready.settle()
    assert ready.call("DescribeJobQueues")["jobQueues"] == []


def test_queue_creation_accepts_a_creating_environment(batch):
    batch.ec2_ce("fresh")
    batch.queue("q", "fresh")  # CREATING is accepted for convenience (docs/known-differences.md)


def test_resolve_queue_for_jobs(ready):
    ready.queue("q", "ce1", tags={"team": "a"})
    ctx = ready.ctx
    view = resolve_queue(ready.store, ctx, "q", now_ms=ready.clock.now_ms())
    assert view["jobQueueArn"] == PREFIX + "job-queue/q" and view["tags"] == {"team": "a"}
    assert view["status"] == "CREATING"
    assert resolve_queue(ready.store, ctx, PREFIX + "job-queue/q")["status"] == "VALID"
    assert resolve_queue(ready.store, ctx, "ghost") is None


def test_describe_job_queues_paginates(ready):
    for index in range(3):
        ready.queue(f"q{index}", "ce1")
    first = ready.call("DescribeJobQueues", maxResults=2)
    second = ready.call("DescribeJobQueues", maxResults=2, nextToken=first["nextToken"])
    assert [q["jobQueueName"] for q in first["jobQueues"] + second["jobQueues"]] == ["q0", "q1", "q2"]
    assert "nextToken" not in second
