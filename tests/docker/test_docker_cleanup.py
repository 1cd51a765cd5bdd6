"""Hundreds of jobs through Docker (1,000 with BATCH_EMULATOR_CLEANUP_ARRAY_SIZE=1000), some killed,
some timed out, some terminated before they ever ran: once every job has ended, no container or
volume this process made may remain, checked while the emulator still runs (its shutdown would
remove leftovers and hide a leak).

Sized for a 2-core machine: 4 containers at once and a 1 s stop timeout. The counts and the wall
time are printed (run with -s).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import docker
import pytest

from emulator.executors.docker import MANAGED_LABEL, OWNER_LABEL, _this_process_as_owner
from emulator.testing import running_emulator
from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

# A 2-core host's Docker daemon creates, runs and removes about 3 containers a second however many
# run at once, so 1,000 containers take over 5 minutes there, and a daemon on slow storage (such
# as fuse-overlayfs) has been seen to stall for minutes under that churn. The default keeps this
# test near a minute; BATCH_EMULATOR_CLEANUP_ARRAY_SIZE=1000 runs the full-size version.
ARRAY_SIZE = int(os.environ.get("BATCH_EMULATOR_CLEANUP_ARRAY_SIZE", "200"))
TERMINATED_CHILDREN = range(ARRAY_SIZE - 20, ARRAY_SIZE)  # the back of the array: still RUNNABLE
KILLED = 3  # fewer than max_running: all of them run at once
TIMED_OUT = 5
CAUGHT_EARLY = 4
DEADLINE_SECONDS = 60 + ARRAY_SIZE


def eventually(
    probe: Callable[[], Any], timeout_seconds: float, what: str, poll_seconds: float = 0.02
) -> Any:
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_seconds} s waiting for {what}")
        time.sleep(poll_seconds)


def statuses(batch, job_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(job_ids), 100):
        for job in batch.describe_jobs(jobs=job_ids[start : start + 100])["jobs"]:
            found[job["jobId"]] = job["status"]
    return found


def test_no_container_outlives_hundreds_of_mixed_jobs(docker_client: docker.DockerClient, test_image: str):
    ours = {"label": [f"{MANAGED_LABEL}=true", f"{OWNER_LABEL}={_this_process_as_owner()}"]}
    started = time.monotonic()
    with running_emulator(
        executor="docker", max_running=4, stop_timeout_seconds=1, min_timeout_seconds=1
    ) as emulator:
        batch = emulator.client("batch")
        batch.create_compute_environment(computeEnvironmentName="many-ce", type="UNMANAGED")
        for name, priority in (("bulk-q", 1), ("urgent-q", 10)):
            batch.create_job_queue(
                jobQueueName=name,
                priority=priority,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "many-ce"}],
            )
        for name, command in (("true", ["true"]), ("sleeper", ["sleep", "30"])):
            batch.register_job_definition(
                jobDefinitionName=name,
                type="container",
                containerProperties={
                    "image": test_image,
                    "command": command,
                    "resourceRequirements": [
                        {"type": "VCPU", "value": "1"},
                        {"type": "MEMORY", "value": "16"},
                    ],
                },
            )

        def submit(definition: str, queue: str = "urgent-q", **extra: Any) -> str:
            return batch.submit_job(jobName=definition, jobQueue=queue, jobDefinition=definition, **extra)[
                "jobId"
            ]

        # Sleepers first on the high-priority queue, so they run while the array waits behind them.
        killed = [submit("sleeper") for _ in range(KILLED)]
        timed_out = [submit("sleeper", timeout={"attemptDurationSeconds": 1}) for _ in range(TIMED_OUT)]
        array = submit("true", queue="bulk-q", arrayProperties={"size": ARRAY_SIZE})
        children = [f"{array}:{index}" for index in range(ARRAY_SIZE)]

        for job_id in killed:
            wait_for_job(batch, job_id, "RUNNING", timeout_seconds=60)
            batch.terminate_job(jobId=job_id, reason="killed by the test")

        # Children at the back of the array are still RUNNABLE: terminate them there.
        eventually(
            lambda: statuses(batch, children[-1:]).get(children[-1]) == "RUNNABLE", 30, "the array to spawn"
        )
        for index in TERMINATED_CHILDREN:
            batch.terminate_job(jobId=children[index], reason="terminated while RUNNABLE")

        # Terminate a few high-priority jobs as soon as they are placed: while Docker is still
        # creating their containers (STARTING) if the poll is quick enough, else just RUNNING.
        caught: dict[str, str] = {}
        for _ in range(CAUGHT_EARLY):
            job_id = submit("sleeper")
            status = eventually(
                lambda job_id=job_id: (
                    statuses(batch, [job_id]).get(job_id) in ("STARTING", "RUNNING")
                    and statuses(batch, [job_id])[job_id]
                ),
                60,
                "a sleeper to be placed",
                poll_seconds=0.005,
            )
            batch.terminate_job(jobId=job_id, reason="terminated early")
            caught[job_id] = status

        singles = [*killed, *timed_out, *caught]
        eventually(
            lambda: all(s in ("SUCCEEDED", "FAILED") for s in statuses(batch, [*singles, array]).values()),
            DEADLINE_SECONDS,
            "every job to end",
            poll_seconds=0.5,
        )
        every_job = [*singles, *children]
        leftovers = docker_client.containers.list(all=True, filters=ours)
        volumes = docker_client.volumes.list(filters=ours)
        details = {
            job["jobId"]: job
            for start in range(0, len(every_job), 100)
            for job in batch.describe_jobs(jobs=every_job[start : start + 100])["jobs"]
        }
        parent = batch.describe_jobs(jobs=[array])["jobs"][0]
    wall_seconds = time.monotonic() - started

    summary = parent["arrayProperties"]["statusSummary"]
    print(
        f"\n{len(every_job)} jobs through Docker in {wall_seconds:.0f} s: array {summary}, "
        f"caught early in {sorted(caught.values())}"
    )
    assert [c.name for c in leftovers] == []
    assert [v.name for v in volumes] == []

    assert parent["status"] == "FAILED"
    assert parent["statusReason"] == "Array Child Job failed"
    assert summary["SUCCEEDED"] == ARRAY_SIZE - len(TERMINATED_CHILDREN)
    assert summary["FAILED"] == len(TERMINATED_CHILDREN)
    for index in TERMINATED_CHILDREN:
        child = details[children[index]]
        assert child["statusReason"] == "terminated while RUNNABLE"
        assert child["attempts"] == []
    for job_id in killed:
        assert details[job_id]["statusReason"] == "killed by the test"
        assert details[job_id]["isTerminated"] is True
    for job_id in timed_out:
        assert details[job_id]["statusReason"] == "Job attempt duration exceeded timeout"
    for job_id in caught:
        assert details[job_id]["status"] == "FAILED"
        assert details[job_id]["statusReason"] == "terminated early"
