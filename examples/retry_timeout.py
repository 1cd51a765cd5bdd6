"""Retries with evaluateOnExit, and an attempt timeout, against the emulator.

    flaky     retryStrategy attempts=3, evaluateOnExit: RETRY on exit code 3, EXIT on anything else.
              Attempt 1 exits 3 (a "transient" failure), attempt 2 succeeds: SUCCEEDED, 2 attempts.
    broken    same definition, but exits 1: EXIT matches, so it FAILS after 1 attempt even though
              3 were allowed.
    slow      timeout attemptDurationSeconds=N and a command that sleeps longer: the attempt is
              stopped and the job FAILS with "Job attempt duration exceeded timeout".

    python examples/retry_timeout.py [--endpoint-url URL] [--timeout-seconds 60]

AWS refuses timeouts under 60 seconds; start the emulator with `--min-timeout-seconds 1` and pass
`--timeout-seconds 1` to see the timeout in a second. Exits 0 when all three end as described.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import boto3

FLAKY = 'echo "attempt $AWS_BATCH_JOB_ATTEMPT"; [ "$AWS_BATCH_JOB_ATTEMPT" -ge 2 ] || exit "$FAIL_WITH"; echo done'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL_BATCH")
        or os.environ.get("AWS_ENDPOINT_URL")
        or "http://127.0.0.1:8734",
    )
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--image", default="busybox:latest", help="any image with /bin/sh (Docker executor)")
    parser.add_argument("--job-queue", default="examples")
    parser.add_argument("--timeout-seconds", type=int, default=60, help="attemptDurationSeconds of `slow`")
    return parser.parse_args()


def clients(args: argparse.Namespace):
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    return boto3.client("batch", endpoint_url=args.endpoint_url, region_name=args.region)


def ensure_queue(batch, name: str) -> None:
    """An UNMANAGED compute environment and a queue, both called `name`, unless they exist."""
    if not batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]:
        batch.create_compute_environment(computeEnvironmentName=name, type="UNMANAGED")
    if not batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        batch.create_job_queue(
            jobQueueName=name, priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}]
        )


def wait_until_done(batch, job_id: str, timeout_seconds: float) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def describe(job: dict) -> str:
    attempts = [attempt.get("container", {}).get("exitCode") for attempt in job.get("attempts", [])]
    return f"{job['jobName']}: {job['status']} after {len(attempts)} attempt(s), exit codes {attempts}, reason {job.get('statusReason')!r}"


def main() -> int:
    args = parse_args()
    batch = clients(args)
    ensure_queue(batch, args.job_queue)
    resources = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]
    batch.register_job_definition(
        jobDefinitionName="flaky",
        type="container",
        containerProperties={
            "image": args.image,
            "command": ["sh", "-c", FLAKY],
            "resourceRequirements": resources,
        },
        retryStrategy={
            "attempts": 3,
            "evaluateOnExit": [{"onExitCode": "3", "action": "RETRY"}, {"onExitCode": "*", "action": "EXIT"}],
        },
    )
    batch.register_job_definition(
        jobDefinitionName="slow",
        type="container",
        containerProperties={
            "image": args.image,
            "command": ["sleep", "3600"],
            "resourceRequirements": resources,
        },
        timeout={"attemptDurationSeconds": args.timeout_seconds},
    )

    def submit(name: str, definition: str, fail_with: str = "0") -> str:
        overrides = {"environment": [{"name": "FAIL_WITH", "value": fail_with}]}
        return batch.submit_job(
            jobName=name, jobQueue=args.job_queue, jobDefinition=definition, containerOverrides=overrides
        )["jobId"]

    flaky, broken, slow = (
        submit("flaky", "flaky", "3"),
        submit("broken", "flaky", "1"),
        submit("slow", "slow"),
    )
    wait_seconds = args.timeout_seconds + 120
    jobs = {job_id: wait_until_done(batch, job_id, wait_seconds) for job_id in (flaky, broken, slow)}
    for job in jobs.values():
        print(describe(job))

    exit_codes = {
        job_id: [a.get("container", {}).get("exitCode") for a in job["attempts"]]
        for job_id, job in jobs.items()
    }
    checks = {
        "flaky retried once, then succeeded": jobs[flaky]["status"] == "SUCCEEDED"
        and exit_codes[flaky] == [3, 0],
        "broken exited without retrying": jobs[broken]["status"] == "FAILED" and exit_codes[broken] == [1],
        "slow timed out": jobs[slow]["status"] == "FAILED"
        and "Job attempt duration exceeded timeout" in (jobs[slow].get("statusReason") or ""),
    }
    for check, passed in checks.items():
        print(f"  {'ok ' if passed else 'NOT'} {check}")
    ok = all(checks.values())
    print("retry and timeout: OK" if ok else "retry and timeout: UNEXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
