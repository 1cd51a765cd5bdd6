"""Consumable resources through boto3 (reference §4.6, §5.6, §20): jobs wait RUNNABLE for their
quantity, DescribeConsumableResource shows what is in use, ListJobsByConsumableResource lists the
claimants, NON_REPLENISHABLE quantities are consumed, and an unknown resource is refused at submit.
Simulated executor with the clock paused, so jobs hold their quantities until the test says so."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from kit import REQUIREMENTS, create_queue, poll

from emulator.config import Settings

pytestmark = pytest.mark.usefixtures("fresh_server")


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(executor="simulated", transition_seconds=0, max_running=16)


@pytest.fixture
def setup(batch, controls) -> str:
    """A queue, a definition claiming one `licenses`, and jobs that run 60 s on a paused clock."""
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=1)
    create_queue(batch, "cr-q", "cr-ce")
    definition_arn = batch.register_job_definition(
        jobDefinitionName="cr-jd",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "resourceRequirements": REQUIREMENTS},
        consumableResourceProperties={
            "consumableResourceList": [{"consumableResource": "licenses", "quantity": 1}]
        },
    )["jobDefinitionArn"]
    controls.pause_clock()
    controls.script_outcome(definition_arn, duration_seconds=60)
    return "cr-q"


def status(batch, job_id: str) -> str:
    return batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"]


def quantities(batch, name: str = "licenses") -> tuple[int, int, int]:
    found = batch.describe_consumable_resource(consumableResource=name)
    return found["totalQuantity"], found["inUseQuantity"], found["availableQuantity"]


def test_second_claimant_waits_until_the_first_gives_the_quantity_back(batch, controls, setup):
    first = batch.submit_job(jobName="first", jobQueue=setup, jobDefinition="cr-jd")["jobId"]
    assert poll(lambda: status(batch, first) == "RUNNING")
    second = batch.submit_job(jobName="second", jobQueue=setup, jobDefinition="cr-jd")["jobId"]
    assert poll(lambda: status(batch, second) == "RUNNABLE")
    assert quantities(batch) == (1, 1, 0)
    listed = batch.list_jobs_by_consumable_resource(consumableResource="licenses")["jobs"]
    assert [(job["jobName"], job["jobStatus"], job["quantity"]) for job in listed] == [
        ("first", "RUNNING", 1),
        ("second", "RUNNABLE", 1),
    ]
    assert listed[0]["consumableResourceProperties"] == {
        "consumableResourceList": [{"consumableResource": "licenses", "quantity": 1}]
    }
    runnable = batch.list_jobs_by_consumable_resource(
        consumableResource="licenses", filters=[{"name": "JOB_STATUS", "values": ["RUNNABLE"]}]
    )["jobs"]
    assert [job["jobName"] for job in runnable] == ["second"]
    page = batch.list_jobs_by_consumable_resource(consumableResource="licenses", maxResults=1)
    rest = batch.list_jobs_by_consumable_resource(
        consumableResource="licenses", maxResults=1, nextToken=page["nextToken"]
    )
    assert [job["jobName"] for job in page["jobs"] + rest["jobs"]] == ["first", "second"]
    assert "nextToken" not in rest
    controls.advance_clock(61)
    assert poll(lambda: status(batch, second) == "RUNNING")
    assert status(batch, first) == "SUCCEEDED"
    controls.advance_clock(61)
    assert poll(lambda: status(batch, second) == "SUCCEEDED")
    assert quantities(batch) == (1, 0, 1)


def test_job_detail_shows_the_properties_and_the_override_replaces_them(batch, setup):
    batch.create_consumable_resource(consumableResourceName="gpus", totalQuantity=4)
    job_id = batch.submit_job(
        jobName="override",
        jobQueue=setup,
        jobDefinition="cr-jd",
        consumableResourcePropertiesOverride={
            "consumableResourceList": [{"consumableResource": "gpus", "quantity": 3}]
        },
    )["jobId"]
    detail = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    assert detail["consumableResourceProperties"] == {
        "consumableResourceList": [{"consumableResource": "gpus", "quantity": 3}]
    }
    assert poll(lambda: quantities(batch, "gpus") == (4, 3, 1))
    assert quantities(batch) == (1, 0, 1)
    assert batch.list_jobs_by_consumable_resource(consumableResource="licenses")["jobs"] == []


def test_unknown_resource_is_refused_at_submit(batch, setup):
    with pytest.raises(ClientError) as caught:
        batch.submit_job(
            jobName="ghost",
            jobQueue=setup,
            jobDefinition="cr-jd",
            consumableResourcePropertiesOverride={
                "consumableResourceList": [{"consumableResource": "ghost", "quantity": 1}]
            },
        )
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert "ghost" in caught.value.response["Error"]["Message"]


def test_non_replenishable_quantity_is_consumed(batch, controls, setup):
    batch.create_consumable_resource(
        consumableResourceName="credits", totalQuantity=5, resourceType="NON_REPLENISHABLE"
    )
    job_id = batch.submit_job(
        jobName="spender",
        jobQueue=setup,
        jobDefinition="cr-jd",
        consumableResourcePropertiesOverride={
            "consumableResourceList": [{"consumableResource": "credits", "quantity": 2}]
        },
    )["jobId"]
    assert poll(lambda: status(batch, job_id) == "RUNNING")
    assert quantities(batch, "credits") == (5, 2, 3)
    controls.advance_clock(61)
    assert poll(lambda: status(batch, job_id) == "SUCCEEDED")
    assert quantities(batch, "credits") == (3, 0, 3)
    updated = batch.update_consumable_resource(consumableResource="credits", operation="ADD", quantity=1)
    assert updated["totalQuantity"] == 4
    summary = batch.list_consumable_resources()["consumableResources"]
    assert {(r["consumableResourceName"], r["totalQuantity"], r["inUseQuantity"]) for r in summary} == {
        ("licenses", 1, 0),
        ("credits", 4, 0),
    }


def test_raising_the_total_lets_a_waiting_job_start(batch, controls, setup):
    first = batch.submit_job(jobName="first", jobQueue=setup, jobDefinition="cr-jd")["jobId"]
    second = batch.submit_job(jobName="second", jobQueue=setup, jobDefinition="cr-jd")["jobId"]
    assert poll(lambda: status(batch, first) == "RUNNING" and status(batch, second) == "RUNNABLE")
    batch.update_consumable_resource(consumableResource="licenses", operation="SET", quantity=2)
    assert poll(lambda: status(batch, second) == "RUNNING")
    assert quantities(batch) == (2, 2, 0)
