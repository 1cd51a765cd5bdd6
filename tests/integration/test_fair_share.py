"""Fair-share scheduling through boto3 (reference §16.4, §16.7): a queue with a fairsharePolicy
dispatches shares in proportion to 1/weightFactor, GetJobQueueSnapshot lists RUNNABLE jobs in that
order, and UpdateSchedulingPolicy changes the order from then on. Simulated executor with the
clock paused, so jobs hold their vCPUs until the test says otherwise."""

from __future__ import annotations

import pytest
from kit import REQUIREMENTS, poll

from emulator.config import Settings

EC2 = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 4,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}


pytestmark = pytest.mark.usefixtures("fresh_server")


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(executor="simulated", transition_seconds=0, max_running=16)


@pytest.fixture
def fair_queue(batch, controls) -> tuple[str, str]:
    policy_arn = batch.create_scheduling_policy(
        name="fair",
        fairsharePolicy={
            "shareDistribution": [
                {"shareIdentifier": "A", "weightFactor": 1.0},
                {"shareIdentifier": "B", "weightFactor": 3.0},
            ]
        },
    )["arn"]
    # Created DISABLED so that every job is RUNNABLE before the first one is placed.
    batch.create_compute_environment(
        computeEnvironmentName="fair-ce", type="MANAGED", state="DISABLED", computeResources=EC2
    )
    batch.create_job_queue(
        jobQueueName="fair-q",
        priority=1,
        schedulingPolicyArn=policy_arn,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "fair-ce"}],
    )
    definition_arn = batch.register_job_definition(
        jobDefinitionName="fair-jd",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "resourceRequirements": REQUIREMENTS},
    )["jobDefinitionArn"]
    controls.pause_clock()
    controls.script_outcome(definition_arn, duration_seconds=600)
    return "fair-q", policy_arn


def submit_interleaved(batch, queue: str, count: int) -> dict[str, str]:
    """job id -> job name, submitted A0, B0, A1, B1, ..."""
    names = {}
    for number in range(count):
        for share in "AB":
            name = f"{share}{number}"
            names[
                batch.submit_job(
                    jobName=name, jobQueue=queue, jobDefinition="fair-jd", shareIdentifier=share
                )["jobId"]
            ] = name
    return names


def open_capacity(batch, queue: str, count: int) -> None:
    assert poll(lambda: len(batch.list_jobs(jobQueue=queue, jobStatus="RUNNABLE")["jobSummaryList"]) == count)
    batch.update_compute_environment(computeEnvironment="fair-ce", state="ENABLED")


def placed(batch, queue: str) -> set[str]:
    jobs = []
    for status in ("STARTING", "RUNNING"):
        jobs += batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]
    return {job["jobName"] for job in jobs}


def front(batch, queue: str, names: dict[str, str]) -> list[str]:
    snapshot = batch.get_job_queue_snapshot(jobQueue=queue)["frontOfQueue"]["jobs"]
    return [names[job["jobArn"].rsplit("/", 1)[-1]] for job in snapshot]


def test_weights_1_and_3_split_capacity_three_to_one_and_snapshot_follows(batch, fair_queue):
    queue, _ = fair_queue
    names = submit_interleaved(batch, queue, 6)
    open_capacity(batch, queue, 12)
    assert poll(lambda: len(placed(batch, queue)) == 4)
    assert placed(batch, queue) == {"A0", "B0", "A1", "A2"}  # A 3 vCPUs, B 1: 3:1
    # A holds 3 x 1.0 = 3, B 1 x 3.0 = 3: a tie, and B's head became RUNNABLE first.
    assert front(batch, queue, names) == ["B1", "A3", "A4", "A5", "B2", "B3", "B4", "B5"]


def test_updated_policy_reorders_the_queue(batch, fair_queue):
    queue, policy_arn = fair_queue
    names = submit_interleaved(batch, queue, 6)
    open_capacity(batch, queue, 12)
    assert poll(lambda: len(placed(batch, queue)) == 4)
    batch.update_scheduling_policy(
        arn=policy_arn,
        fairsharePolicy={
            "shareDistribution": [
                {"shareIdentifier": "A", "weightFactor": 3.0},
                {"shareIdentifier": "B", "weightFactor": 1.0},
            ]
        },
    )
    # Now A holds 3 x 3.0 = 9 and B 1 x 1.0 = 1: B goes first until it catches up.
    assert front(batch, queue, names) == ["B1", "B2", "B3", "B4", "B5", "A3", "A4", "A5"]


def test_scheduling_priority_orders_jobs_within_a_share(batch, fair_queue):
    queue, _ = fair_queue
    names = {}
    for name, priority in (
        ("blocker1", 0),
        ("blocker2", 0),
        ("blocker3", 0),
        ("blocker4", 0),
        ("low", 1),
        ("high", 9),
        ("mid", 5),
    ):
        job_id = batch.submit_job(
            jobName=name,
            jobQueue=queue,
            jobDefinition="fair-jd",
            shareIdentifier="A",
            schedulingPriorityOverride=priority,
        )["jobId"]
        names[job_id] = name
    open_capacity(batch, queue, 7)
    assert poll(lambda: len(placed(batch, queue)) == 4)
    assert placed(batch, queue) == {"high", "mid", "low", "blocker1"}
    assert front(batch, queue, names) == ["blocker2", "blocker3", "blocker4"]
