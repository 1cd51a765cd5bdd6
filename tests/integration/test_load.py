"""Load: eight boto3 clients, each on its own thread, submit 50 jobs apiece (every fifth an array
of ten) while describing and listing, against one running emulator; and sixteen raw HTTP clients
submit 2,400 jobs as fast as the server takes them. Afterwards every acknowledged
job exists exactly once, every job and array child reached a terminal state, and each entered a
terminal state exactly once (the engine's recorded transitions, which the history control serves).

`LOAD_EXECUTOR` picks the executor (default `process`: real local processes); `simulated` is the
fallback where spawning processes is slow.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.engine.states import JobStatus
from emulator.testing import Emulator, running_emulator

THREADS = 8
JOBS_PER_THREAD = 50
# Raw HTTP clients cost a fraction of boto3's per call, so they reach the server's own rate.
RAW_THREADS = 16
RAW_JOBS_PER_THREAD = 150
ARRAY_EVERY = 5  # submissions 0, 5, 10, ... of each thread are arrays
ARRAY_SIZE = 10
SETTLE_SECONDS = 45.0
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    executor = os.environ.get("LOAD_EXECUTOR", "process")
    with running_emulator(executor=executor, max_running=16, transition_seconds=0.0) as emulator:
        yield emulator


@dataclass
class Worker:
    index: int
    client: Any
    queue: str
    submitted: list[tuple[str, bool]] = field(default_factory=list)  # (job id, is array)
    errors: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def run(self, start: threading.Barrier) -> None:
        chooser = random.Random(self.index)
        start.wait()
        for number in range(JOBS_PER_THREAD):
            self._call("submit", self._submit, number)
            self._call("describe", self._describe, chooser)
            self._call("list", self._list, chooser)

    def _call(self, what: str, action: Any, *args: Any) -> None:
        try:
            action(*args)
            self.calls[what] += 1
        except Exception as error:  # every failure is a finding; the test reports them all
            self.errors.append(f"worker {self.index} {what}: {error!r}")

    def _submit(self, number: int) -> None:
        is_array = number % ARRAY_EVERY == 0
        extra = {"arrayProperties": {"size": ARRAY_SIZE}} if is_array else {}
        response = self.client.submit_job(
            jobName=f"load-{self.index}-{number}", jobQueue=self.queue, jobDefinition="load-def", **extra
        )
        self.submitted.append((response["jobId"], is_array))

    def _describe(self, chooser: random.Random) -> None:
        if not self.submitted:
            return
        wanted = [job_id for job_id, _ in chooser.sample(self.submitted, min(len(self.submitted), 20))]
        found = self.client.describe_jobs(jobs=wanted)["jobs"]
        assert sorted(job["jobId"] for job in found) == sorted(wanted), "DescribeJobs lost a job"

    def _list(self, chooser: random.Random) -> None:
        pages = self.client.get_paginator("list_jobs").paginate(
            jobQueue=self.queue, jobStatus=chooser.choice(STATUSES), PaginationConfig={"PageSize": 50}
        )
        ids = [job["jobId"] for page in pages for job in page["jobSummaryList"]]
        assert len(ids) == len(set(ids)), "ListJobs repeated a job"


def create_queue(emulator: Emulator, name: str = "load") -> str:
    batch = emulator.client("batch")
    batch.create_compute_environment(
        computeEnvironmentName=f"{name}-ce",
        type="MANAGED",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 256,
            "instanceTypes": ["optimal"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": "ecsInstanceRole",
        },
    )
    batch.register_job_definition(
        jobDefinitionName=f"{name}-def",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["true"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )
    return batch.create_job_queue(
        jobQueueName=f"{name}-queue",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": f"{name}-ce"}],
    )["jobQueueArn"]


def listed_by_status(client: Any, queue: str) -> dict[str, list[str]]:
    paginator = client.get_paginator("list_jobs")
    return {
        status: [
            job["jobId"]
            for page in paginator.paginate(jobQueue=queue, jobStatus=status)
            for job in page["jobSummaryList"]
        ]
        for status in STATUSES
    }


def wait_until_terminal(emulator: Emulator, job_ids: list[str]) -> list[str]:
    """Ids of the jobs (children included) still not terminal when the deadline passes."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        waiting = [
            job.job_id for job in emulator.runtime.engine.get_jobs(job_ids) if job.status not in TERMINAL
        ]
        if not waiting or time.monotonic() > deadline:
            return waiting
        time.sleep(0.2)


def terminal_entries(emulator: Emulator, job_id: str) -> list[str]:
    job = emulator.runtime.engine.get_job(job_id)
    assert job is not None, f"{job_id} vanished"
    return [status.value for status, _ in job.transitions if status in TERMINAL]


def test_concurrent_clients_lose_and_duplicate_nothing(emulator: Emulator):
    queue = create_queue(emulator)
    # boto3's default session is not thread-safe, so clients are made here; each is used by one thread.
    workers = [Worker(index, emulator.client("batch"), queue) for index in range(THREADS)]
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(target=worker.run, args=(start,), name=f"load-{worker.index}") for worker in workers
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    submitted_seconds = time.monotonic() - began

    errors = [error for worker in workers for error in worker.errors]
    assert errors == []
    acknowledged = [job_id for worker in workers for job_id, _ in worker.submitted]
    arrays = [job_id for worker in workers for job_id, is_array in worker.submitted if is_array]
    assert len(acknowledged) == THREADS * JOBS_PER_THREAD
    assert len(set(acknowledged)) == len(acknowledged), "a job id was handed out twice"

    children = [f"{parent}:{index}" for parent in arrays for index in range(ARRAY_SIZE)]
    everything = acknowledged + children
    assert wait_until_terminal(emulator, everything) == []
    settled_seconds = time.monotonic() - began

    client = emulator.client("batch")
    listed = listed_by_status(client, queue)
    every_listed = [job_id for ids in listed.values() for job_id in ids]
    assert Counter(every_listed) == Counter(acknowledged), "ListJobs lost, invented or repeated a job"
    assert set(listed["SUCCEEDED"]) == set(acknowledged), {s: len(ids) for s, ids in listed.items()}
    for chunk in range(0, len(acknowledged), 100):
        wanted = acknowledged[chunk : chunk + 100]
        found = client.describe_jobs(jobs=wanted)["jobs"]
        assert sorted(job["jobId"] for job in found) == sorted(wanted)
        assert {job["status"] for job in found} == {"SUCCEEDED"}
    for parent in arrays:  # ListJobs without jobStatus lists RUNNING jobs only, as on AWS
        listed_children = [
            job["jobId"]
            for page in client.get_paginator("list_jobs").paginate(arrayJobId=parent, jobStatus="SUCCEEDED")
            for job in page["jobSummaryList"]
        ]
        assert sorted(listed_children) == sorted(f"{parent}:{index}" for index in range(ARRAY_SIZE))

    entered_twice = {
        job_id: entries for job_id in everything if len(entries := terminal_entries(emulator, job_id)) != 1
    }
    assert entered_twice == {}, "jobs that did not enter a terminal state exactly once"
    for job_id in random.Random(0).sample(everything, 20):  # the history control serves the same record
        served = [status for status, _ in emulator.controls.job_history(job_id)]
        assert [status for status in served if status in ("SUCCEEDED", "FAILED")] == terminal_entries(
            emulator, job_id
        )
    assert list(emulator.runtime.server_errors) == []

    calls = sum((worker.calls for worker in workers), Counter())
    print(
        f"load: {THREADS} clients, {len(acknowledged)} jobs ({len(arrays)} arrays, {len(children)} children), "
        f"{dict(calls)} calls; submitted in {submitted_seconds:.1f} s, all terminal after {settled_seconds:.1f} s"
    )


def submit_raw(port: int, body: bytes) -> tuple[int, bytes]:
    """One SubmitJob over a new connection (the server closes each one), as little client as can be."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/v1/submitjob", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_submits_at_the_servers_own_rate_lose_and_duplicate_nothing(emulator: Emulator):
    queue = create_queue(emulator, "raw")
    port = int(emulator.url.rsplit(":", 1)[1])
    body = json.dumps({"jobName": "raw", "jobQueue": queue, "jobDefinition": "raw-def"}).encode()
    answers: list[list[tuple[int, bytes]]] = [[] for _ in range(RAW_THREADS)]
    start = threading.Barrier(RAW_THREADS)

    def submit_many(slot: int) -> None:
        start.wait()
        answers[slot].extend(submit_raw(port, body) for _ in range(RAW_JOBS_PER_THREAD))

    threads = [threading.Thread(target=submit_many, args=(slot,)) for slot in range(RAW_THREADS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    submitted_seconds = time.monotonic() - began

    every_answer = [answer for slot in answers for answer in slot]
    assert len(every_answer) == RAW_THREADS * RAW_JOBS_PER_THREAD
    failed = Counter(status for status, _ in every_answer if status != 200)
    assert failed == Counter(), f"answers other than 200, by status: {dict(failed)}"
    acknowledged = [json.loads(answer)["jobId"] for _, answer in every_answer]
    assert len(set(acknowledged)) == len(acknowledged), "a job id was handed out twice"
    assert wait_until_terminal(emulator, acknowledged) == []
    listed = listed_by_status(emulator.client("batch"), queue)
    every_listed = [job_id for ids in listed.values() for job_id in ids]
    assert Counter(every_listed) == Counter(acknowledged), "ListJobs lost, invented or repeated a job"
    assert set(listed["SUCCEEDED"]) == set(acknowledged)
    entered_twice = {
        job_id: entries for job_id in acknowledged if len(entries := terminal_entries(emulator, job_id)) != 1
    }
    assert entered_twice == {}, "jobs that did not enter a terminal state exactly once"
    assert list(emulator.runtime.server_errors) == []
    print(
        f"raw load: {RAW_THREADS} connections, {len(acknowledged)} SubmitJobs in {submitted_seconds:.1f} s "
        f"({len(acknowledged) / submitted_seconds:.0f}/s)"
    )
