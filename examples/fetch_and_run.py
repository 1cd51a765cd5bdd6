"""The classic AWS Batch "fetch & run" pattern, against the emulator.

On AWS, one generic job definition runs `fetch_and_run.sh`: it reads BATCH_FILE_TYPE and
BATCH_FILE_S3_URL from its environment, downloads the script from S3 and runs it with the job's
arguments, so new work needs a new script, not a new image. The emulator has no S3, so this
version accepts a `file://` URL for a script on this machine and mounts the script's directory
into the job at the same path (a host volume; the process executor runs on this machine anyway).
`s3://` URLs are refused with a message saying so.

    python examples/fetch_and_run.py [--endpoint-url URL] [--image busybox:latest]

It writes a script, registers the `fetch-and-run` definition, submits a job that names the script
and passes it arguments, waits, prints the job's log, and exits 0 when the script ran.
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

# What fetch_and_run.sh does, for `script` files at file:// URLs.
FETCH_AND_RUN = r"""
set -eu
case "${BATCH_FILE_TYPE:-}" in
  script) ;;
  *) echo "fetch_and_run: BATCH_FILE_TYPE must be 'script' (zip is not supported here)" >&2; exit 1 ;;
esac
case "${BATCH_FILE_S3_URL:-}" in
  file://*) source="${BATCH_FILE_S3_URL#file://}" ;;
  s3://*) echo "fetch_and_run: no S3 in the emulator; give a file:// URL" >&2; exit 1 ;;
  *) echo "fetch_and_run: BATCH_FILE_S3_URL is not set" >&2; exit 1 ;;
esac
workdir=$(mktemp -d)
cp "$source" "$workdir/job"
chmod u+x "$workdir/job"
echo "fetch_and_run: fetched $BATCH_FILE_S3_URL"
exec "$workdir/job" "$@"
"""

USER_SCRIPT = """#!/bin/sh
echo "myjob.sh: hello $1, job $AWS_BATCH_JOB_ID, attempt $AWS_BATCH_JOB_ATTEMPT"
echo "myjob.sh: 6 x 7 = $((6 * 7))"
"""


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
    parser.add_argument("--timeout-seconds", type=float, default=120)
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


def wait_until_done(batch, job_id: str, timeout_seconds: float) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


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

    scripts = Path(tempfile.mkdtemp(prefix="fetch-and-run-"))
    script = scripts / "myjob.sh"
    script.write_text(USER_SCRIPT)
    batch.register_job_definition(
        jobDefinitionName="fetch-and-run",
        type="container",
        parameters={"name": "world"},
        containerProperties={
            "image": args.image,
            "command": ["sh", "-c", FETCH_AND_RUN, "fetch_and_run.sh", "Ref::name"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
            "volumes": [{"name": "scripts", "host": {"sourcePath": str(scripts)}}],
            "mountPoints": [{"sourceVolume": "scripts", "containerPath": str(scripts), "readOnly": True}],
        },
    )
    job_id = batch.submit_job(
        jobName="fetch-and-run",
        jobQueue=args.job_queue,
        jobDefinition="fetch-and-run",
        parameters={"name": "batch-emulator"},
        containerOverrides={
            "environment": [
                {"name": "BATCH_FILE_TYPE", "value": "script"},
                {"name": "BATCH_FILE_S3_URL", "value": script.as_uri()},
            ]
        },
    )["jobId"]
    print(f"submitted {job_id}: run {script.as_uri()}")

    try:
        job = wait_until_done(batch, job_id, args.timeout_seconds)
    finally:
        shutil.rmtree(scripts, ignore_errors=True)
    lines = log_lines(logs, job)
    print(f"job {job_id} {job['status']} (exit code {job.get('container', {}).get('exitCode')})")
    for line in lines:
        print(f"  | {line}")
    ok = job["status"] == "SUCCEEDED" and any("hello batch-emulator" in line for line in lines)
    print("fetch-and-run: OK" if ok else "fetch-and-run: UNEXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
