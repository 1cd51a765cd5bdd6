"""An array job pipeline with N_TO_N dependencies, against the emulator.

Three stages share a work directory (a host volume mounted at the same path in every job):

    square  array of N: child i writes i*i to part-i
    double  array of N, N_TO_N on square: child i starts once square's child i has succeeded,
            reads part-i and writes 2*i*i to double-i
    sum     one job after the whole double array: prints the total

    python examples/array_pipeline.py [--endpoint-url URL] [--size 4] [--image busybox:latest]

It prints each child's status and timing, checks that every `double` child started only after
its own `square` child stopped (what N_TO_N promises) and that the total is right, and exits 0 when
all of that holds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import boto3

SQUARE = 'echo $((AWS_BATCH_JOB_ARRAY_INDEX * AWS_BATCH_JOB_ARRAY_INDEX)) > "$WORK/part-$AWS_BATCH_JOB_ARRAY_INDEX"'
DOUBLE = (
    'v=$(cat "$WORK/part-$AWS_BATCH_JOB_ARRAY_INDEX"); '
    'echo "child $AWS_BATCH_JOB_ARRAY_INDEX: 2 x $v = $((2 * v))"; '
    'echo $((2 * v)) > "$WORK/double-$AWS_BATCH_JOB_ARRAY_INDEX"'
)
SUM = 'total=0; for f in "$WORK"/double-*; do total=$((total + $(cat "$f"))); done; echo "total=$total"'


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
    parser.add_argument("--size", type=int, default=4, help="array size (2 to 10,000)")
    parser.add_argument("--timeout-seconds", type=float, default=300)
    return parser.parse_args()


def clients(args: argparse.Namespace):
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    batch = boto3.client("batch", endpoint_url=args.endpoint_url, region_name=args.region)
    logs = boto3.client("logs", endpoint_url=args.endpoint_url, region_name=args.region)
    return batch, logs


def ensure_queue(batch, name: str) -> None:
    """An UNMANAGED compute environment and a queue, both called `name`, unless they exist."""
    if not batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]:
        batch.create_compute_environment(computeEnvironmentName=name, type="UNMANAGED")
    if not batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        batch.create_job_queue(
            jobQueueName=name, priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}]
        )


def register(batch, name: str, image: str, script: str, work: Path) -> None:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={
            "image": image,
            "command": ["sh", "-c", script],
            "environment": [{"name": "WORK", "value": str(work)}],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
            "volumes": [{"name": "work", "host": {"sourcePath": str(work)}}],
            "mountPoints": [{"sourceVolume": "work", "containerPath": str(work)}],
        },
    )


def wait_until_done(batch, job_id: str, timeout_seconds: float) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def children(batch, parent_id: str, size: int) -> list[dict]:
    ids = [f"{parent_id}:{index}" for index in range(size)]
    found: list[dict] = []
    for start in range(0, size, 100):  # DescribeJobs takes at most 100 ids
        found += batch.describe_jobs(jobs=ids[start : start + 100])["jobs"]
    return sorted(found, key=lambda job: job["arrayProperties"]["index"])


def log_lines(logs, job: dict) -> list[str]:
    stream = job.get("container", {}).get("logStreamName")
    if not stream:
        return []
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)
    return [event["message"] for event in events["events"]]


def main() -> int:
    args = parse_args()
    batch, logs = clients(args)
    ensure_queue(batch, args.job_queue)
    work = Path(tempfile.mkdtemp(prefix="array-pipeline-"))
    try:
        for name, script in (("square", SQUARE), ("double", DOUBLE), ("sum", SUM)):
            register(batch, f"pipeline-{name}", args.image, script, work)
        size = {"size": args.size}
        square = batch.submit_job(
            jobName="square", jobQueue=args.job_queue, jobDefinition="pipeline-square", arrayProperties=size
        )["jobId"]
        double = batch.submit_job(
            jobName="double",
            jobQueue=args.job_queue,
            jobDefinition="pipeline-double",
            arrayProperties=size,
            dependsOn=[{"jobId": square, "type": "N_TO_N"}],
        )["jobId"]
        total = batch.submit_job(
            jobName="sum",
            jobQueue=args.job_queue,
            jobDefinition="pipeline-sum",
            dependsOn=[{"jobId": double}],
        )["jobId"]
        print(f"submitted square {square}, double {double} (N_TO_N), sum {total}")
        summed = wait_until_done(batch, total, args.timeout_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ok = True
    squares, doubles = children(batch, square, args.size), children(batch, double, args.size)
    for first, second in zip(squares, doubles, strict=True):
        index = first["arrayProperties"]["index"]
        in_order = second.get("startedAt", 0) >= first.get("stoppedAt", float("inf"))
        ok &= first["status"] == second["status"] == "SUCCEEDED" and in_order
        print(
            f"  child {index}: square {first['status']}, double {second['status']}, "
            f"double started {'after' if in_order else 'BEFORE'} square stopped"
        )
    lines = log_lines(logs, summed)
    expected = f"total={sum(2 * i * i for i in range(args.size))}"
    print(f"sum {summed['status']}: {' / '.join(lines)} (expected {expected})")
    ok &= summed["status"] == "SUCCEEDED" and expected in lines
    print("array pipeline: OK" if ok else "array pipeline: UNEXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
