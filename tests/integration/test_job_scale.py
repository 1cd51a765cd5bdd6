"""A 10,000-child array of trivial commands really run as local processes, in its own emulator with
as many running at once as the host has CPUs. It must finish, with a bounded number of threads.

The wall time, peak thread count and peak RSS are printed (run with -s to see them); only the thread
count is asserted, because timings depend on the machine.
"""

from __future__ import annotations

import os
import resource
import threading
import time

from emulator.testing import running_emulator

SIZE = 10_000
MAX_THREADS = 64
DEADLINE_SECONDS = 240


def test_ten_thousand_child_array_completes_with_bounded_threads():
    with running_emulator(executor="process", max_running=os.cpu_count() or 2) as emulator:
        batch = emulator.client("batch")
        batch.create_compute_environment(computeEnvironmentName="big-ce", type="UNMANAGED")
        batch.create_job_queue(
            jobQueueName="big-q",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "big-ce"}],
        )
        batch.register_job_definition(
            jobDefinitionName="big",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["true"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            },
        )
        threads_before = threading.active_count()
        started = time.monotonic()
        parent = batch.submit_job(
            jobName="big", jobQueue="big-q", jobDefinition="big", arrayProperties={"size": SIZE}
        )["jobId"]

        peak_threads = threads_before
        deadline = started + DEADLINE_SECONDS
        while True:
            peak_threads = max(peak_threads, threading.active_count())
            detail = batch.describe_jobs(jobs=[parent])["jobs"][0]
            if detail["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        wall_seconds = time.monotonic() - started
        peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        summary = detail["arrayProperties"]["statusSummary"]
        print(
            f"\n{SIZE}-child array with max_running={os.cpu_count()}: {detail['status']} in {wall_seconds:.1f} s "
            f"({SIZE / wall_seconds:.0f} children/s); peak threads {peak_threads} (before: {threads_before}); "
            f"peak RSS {peak_rss_mib:.0f} MiB; summary {summary}"
        )

        assert detail["status"] == "SUCCEEDED", f"after {wall_seconds:.0f} s: {summary}"
        assert summary["SUCCEEDED"] == SIZE
        assert peak_threads < MAX_THREADS

        last = batch.describe_jobs(jobs=[f"{parent}:{SIZE - 1}"])["jobs"][0]
        assert last["status"] == "SUCCEEDED"
        assert last["container"]["exitCode"] == 0
        listed = batch.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED", maxResults=1000)
        assert len(listed["jobSummaryList"]) == 1000 and "nextToken" in listed
