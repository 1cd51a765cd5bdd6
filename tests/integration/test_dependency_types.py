"""`dependsOn` entries that name a job id and a type, through boto3 on the simulated clock
(reference §9): such an entry is a dependency on the job it names whatever its type; N_TO_N and
SEQUENTIAL only add their per-index meaning for array jobs. Public pipeline code submits
`{"jobId": X, "type": "SEQUENTIAL"}` to single jobs and arrays alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kit import create_queue, define, fresh_emulator

from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job

QUEUE = "deps-q"
UPSTREAM_SECONDS = 600


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    # Room for every job of a test at once, so a job kept PENDING is kept by its dependencies alone.
    with running_emulator(executor="simulated", max_running=8) as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    with fresh_emulator(emulator):
        client = emulator.client("batch")
        create_queue(client, QUEUE, "deps-ce")
        define(client, "step", ["run"])
        emulator.controls.pause_clock()
        yield client


def submit(batch, name: str, **extra: Any) -> str:
    return batch.submit_job(jobName=name, jobQueue=QUEUE, jobDefinition="step", **extra)["jobId"]


def describe(batch, *job_ids: str) -> list[dict[str, Any]]:
    return batch.describe_jobs(jobs=list(job_ids))["jobs"]


def running_upstream(batch, emulator: Emulator, *, exit_code: int = 0) -> str:
    emulator.controls.script_outcome("upstream", exit_code=exit_code, duration_seconds=UPSTREAM_SECONDS)
    return submit(batch, "upstream")


def settled(batch, job_id: str) -> str:
    """The job's status once the engine has applied everything asked before this call: a marker
    submitted now (which succeeds at once) has ended only after a later pass."""
    marker = submit(batch, "marker")
    wait_for_job(batch, marker, "SUCCEEDED", timeout_seconds=10)
    return describe(batch, job_id)[0]["status"]


@pytest.mark.parametrize("kind", ["SEQUENTIAL", "N_TO_N"])
def test_single_job_with_a_typed_entry_waits_for_the_job_it_names(batch, emulator, kind):
    upstream = running_upstream(batch, emulator)
    sent = [{"jobId": upstream, "type": kind}]
    after = submit(batch, "after", dependsOn=sent)
    wait_for_job(batch, upstream, "RUNNING", timeout_seconds=10)
    assert settled(batch, after) == "PENDING"

    emulator.controls.advance_clock(UPSTREAM_SECONDS)
    detail = wait_for_job(batch, after, "SUCCEEDED", timeout_seconds=10)
    [upstream_detail] = describe(batch, upstream)
    assert upstream_detail["stoppedAt"] <= detail["startedAt"]
    assert detail["dependsOn"] == sent


def test_sequential_array_with_a_job_id_waits_for_it_then_runs_its_children_in_order(batch, emulator):
    upstream = running_upstream(batch, emulator)
    emulator.controls.script_outcome("seq", duration_seconds=60)
    sent = [{"jobId": upstream, "type": "SEQUENTIAL"}]
    array = submit(batch, "seq", arrayProperties={"size": 3}, dependsOn=sent)
    children = [f"{array}:{i}" for i in range(3)]
    wait_for_job(batch, upstream, "RUNNING", timeout_seconds=10)
    assert settled(batch, children[0]) == "PENDING"
    assert [c["status"] for c in describe(batch, *children)] == ["PENDING"] * 3

    emulator.controls.advance_clock(UPSTREAM_SECONDS)
    wait_for_job(batch, children[0], "RUNNING", timeout_seconds=10)
    assert settled(batch, children[1]) == "PENDING"
    for child in children[1:]:
        emulator.controls.advance_clock(60)
        wait_for_job(batch, child, "RUNNING", timeout_seconds=10)
    emulator.controls.advance_clock(60)
    parent = wait_for_job(batch, array, "SUCCEEDED", timeout_seconds=10)
    assert parent["dependsOn"] == sent

    [upstream_detail] = describe(batch, upstream)
    details = describe(batch, *children)
    assert upstream_detail["stoppedAt"] <= details[0]["startedAt"]
    for before, after in zip(details, details[1:], strict=False):
        assert before["stoppedAt"] <= after["startedAt"]


def test_failure_of_the_named_job_fails_single_and_array_dependants(batch, emulator):
    upstream = running_upstream(batch, emulator, exit_code=1)
    single = submit(batch, "single", dependsOn=[{"jobId": upstream, "type": "SEQUENTIAL"}])
    paired = submit(batch, "paired", dependsOn=[{"jobId": upstream, "type": "N_TO_N"}])
    array = submit(
        batch, "seq", arrayProperties={"size": 2}, dependsOn=[{"jobId": upstream, "type": "SEQUENTIAL"}]
    )
    wait_for_job(batch, upstream, "RUNNING", timeout_seconds=10)
    emulator.controls.advance_clock(UPSTREAM_SECONDS)

    for job_id in (single, paired, f"{array}:0", f"{array}:1"):
        detail = wait_for_job(batch, job_id, "FAILED", timeout_seconds=10)
        assert detail["statusReason"] == "Dependent Job failed"
        assert detail["attempts"] == []
    parent = wait_for_job(batch, array, "FAILED", timeout_seconds=10)
    assert parent["statusReason"] == "Array Child Job failed"
