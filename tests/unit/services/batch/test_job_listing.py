"""ListJobs through the provider on a real engine: the paged path (no filter, SHARE_IDENTIFIER)
answers exactly what filtering and sorting every job of the queue answered (reference §8)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.executors.simulated import Outcome
from emulator.services.batch import job_views
from emulator.services.batch.jobs import _filter_predicate
from emulator.services.batch.tokens import decode_token, encode_token

from .conftest import EngineHarness


@pytest.fixture
def world() -> EngineHarness:
    harness = EngineHarness()
    harness.ec2_ce("ce")
    harness.settle()
    policy = harness.call("CreateSchedulingPolicy", name="fair", fairsharePolicy={})["arn"]
    harness.queue("q", "ce")
    harness.queue("fq", "ce", schedulingPolicyArn=policy)
    harness.call(
        "RegisterJobDefinition",
        jobDefinitionName="d",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["true"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )
    harness.settle()
    harness.executor.script("bad", Outcome(exit_code=1))
    harness.executor.script("slow", Outcome(duration_ms=60_000))
    for n in range(60):
        harness.call("SubmitJob", jobName=["ok", "bad", "slow"][n % 3], jobQueue="q", jobDefinition="d")
        if n % 4 == 3:
            harness.clock.advance(1)
        if n % 10 == 9:
            harness.passes()
    for n in range(20):
        # stay RUNNABLE behind the slow jobs
        harness.call("SubmitJob", jobName="ok", jobQueue="fq", jobDefinition="d", shareIdentifier="ab"[n % 2])
    harness.passes()
    return harness


def reference(
    world: EngineHarness,
    status: str,
    job_filter: dict[str, Any] | None,
    limit: int,
    token: str | None,
    queue: str = "q",
):
    """ListJobs as it was answered before the paged path: every job, filtered, sorted, scanned."""
    queue_arn = next(job.queue_arn for job in world.engine.list_jobs() if job.queue_name == queue)
    jobs = world.engine.list_jobs(queue_arn=queue_arn)
    jobs = [job for job in jobs if job.status == status]
    if job_filter is not None:
        matches = _filter_predicate(job_filter)
        jobs = [job for job in jobs if matches(job)]
    jobs.sort(key=lambda job: (-job.created_at_ms, job.job_id))
    start = 0
    if token:
        after = decode_token("ListJobs", token)
        start = next(
            (i for i, j in enumerate(jobs) if (-j.created_at_ms, j.job_id) > tuple(after)), len(jobs)
        )
    page = jobs[start : start + limit]
    result: dict[str, Any] = {"jobSummaryList": [job_views.job_summary(job) for job in page]}
    if start + limit < len(jobs):
        result["nextToken"] = encode_token("ListJobs", [-page[-1].created_at_ms, page[-1].job_id])
    return result


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "RUNNING", "RUNNABLE", "SUBMITTED"])
@pytest.mark.parametrize("limit", [1, 4, 100])
def test_pages_equal_filtering_and_sorting_every_job(world, status, limit):
    token, pages = None, 0
    while True:
        params: dict[str, Any] = {"jobQueue": "q", "jobStatus": status, "maxResults": limit}
        if token:
            params["nextToken"] = token
        answer = world.call("ListJobs", **params)
        assert answer == reference(world, status, None, limit, token)
        token, pages = answer.get("nextToken"), pages + 1
        if token is None:
            break
    assert pages >= 1


def test_default_status_is_running(world):
    assert world.call("ListJobs", jobQueue="q") == reference(world, "RUNNING", None, 1000, None)
    assert world.call("ListJobs", jobQueue="q")["jobSummaryList"]


@pytest.mark.parametrize("values", [["a"], ["a", "b"], ["none-such"]], ids=["one", "both", "none"])
def test_share_identifier_filter_pages_like_before(world, values):
    job_filter = {"name": "SHARE_IDENTIFIER", "values": values}
    token, shown = None, 0
    while True:
        params: dict[str, Any] = {
            "jobQueue": "fq",
            "jobStatus": "RUNNABLE",
            "filters": [job_filter],
            "maxResults": 3,
        }
        if token:
            params["nextToken"] = token
        answer = world.call("ListJobs", **params)
        assert answer == reference(world, "RUNNABLE", job_filter, 3, token, queue="fq")
        shown += len(answer["jobSummaryList"])
        token = answer.get("nextToken")
        if token is None:
            break
    assert shown == 10 * len([value for value in values if value in "ab"])


def test_a_token_of_a_job_no_longer_in_the_status_resumes_where_it_was(world):
    first = world.call("ListJobs", jobQueue="q", jobStatus="RUNNING", maxResults=2)
    world.clock.advance(61_000)
    world.passes()
    answer = world.call(
        "ListJobs", jobQueue="q", jobStatus="RUNNING", maxResults=2, nextToken=first["nextToken"]
    )
    assert answer == reference(world, "RUNNING", None, 2, first["nextToken"])


def test_array_children_are_paged_by_array_job_id(world):
    world.clock.advance(61_000)  # the slow jobs end, freeing slots
    parent = world.call(
        "SubmitJob", jobName="arr", jobQueue="q", jobDefinition="d", arrayProperties={"size": 12}
    )
    world.passes(4)
    children = world.engine.list_jobs(array_job_id=parent["jobId"])
    seen = []
    for status in ("PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"):
        shown, token = [], None
        while True:
            params: dict[str, Any] = {"arrayJobId": parent["jobId"], "jobStatus": status, "maxResults": 5}
            if token:
                params["nextToken"] = token
            answer = world.call("ListJobs", **params)
            shown += [summary["jobId"] for summary in answer["jobSummaryList"]]
            token = answer.get("nextToken")
            if token is None:
                break
        expected = sorted(
            (j for j in children if j.status == status), key=lambda j: (-j.created_at_ms, j.job_id)
        )
        assert shown == [j.job_id for j in expected]
        seen += shown
    assert sorted(seen) == sorted(j.job_id for j in children) and len(seen) == 12


def test_a_forged_token_is_refused_even_when_nothing_is_listed(world):
    error = world.error("ListJobs", arrayJobId="nope", nextToken=encode_token("ListJobs", ["x", 1]))
    assert "Invalid nextToken" in error.message
