"""The classic AWS Batch "fetch & run" pattern, against the emulator, with S3 on the same endpoint.

On AWS, one generic job definition runs `fetch_and_run`: it reads BATCH_FILE_TYPE and
BATCH_FILE_S3_URL from its environment, downloads the script from S3 and runs it with the job's
arguments, so new work needs a new script, not a new image. Here the job does the same with boto3:
it downloads the script this program uploaded to S3, runs it, and writes its output back to S3
(BATCH_OUTPUT_S3_URL), where this program reads it. The job's boto3 finds S3 through the
`AWS_ENDPOINT_URL` and credentials the emulator gives every job.

    python examples/fetch_and_run.py [--endpoint-url URL] [--image IMAGE] [--python PYTHON]

The job runs `PYTHON -c <fetch_and_run>`: under the Docker executor IMAGE needs Python 3 and boto3
(docker-image/build-job-image.sh builds batch-emulator-jobs/python:local, the default, from this
machine's Python with no registry); under the process executor the image is ignored and PYTHON
(default python3) must be an interpreter on the server's PATH that has boto3.
It exits 0 when the script ran and its output came back from S3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import boto3
from botocore.config import Config

# What the job runs: fetch_and_run.sh's logic, in Python with boto3. Path-style S3 addressing,
# because the emulator is one host (127.0.0.1, host.docker.internal) with no bucket subdomains.
FETCH_AND_RUN = r"""
import os, subprocess, sys, tempfile
from urllib.parse import urlsplit

import boto3
from botocore.config import Config


def location(url):
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        sys.exit(f"fetch_and_run: {url!r} is not an s3://bucket/key URL")
    return parts.netloc, parts.path.lstrip("/")


if os.environ.get("BATCH_FILE_TYPE") != "script":
    sys.exit("fetch_and_run: BATCH_FILE_TYPE must be 'script' (zip is not supported here)")
source = os.environ.get("BATCH_FILE_S3_URL") or sys.exit("fetch_and_run: BATCH_FILE_S3_URL is not set")
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
script = os.path.join(tempfile.mkdtemp(), "job")
s3.download_file(*location(source), script)
os.chmod(script, 0o755)
print(f"fetch_and_run: fetched {source}", flush=True)
result = subprocess.run([script, *sys.argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
sys.stdout.write(result.stdout)
target = os.environ.get("BATCH_OUTPUT_S3_URL")
if target:
    bucket, key = location(target)
    s3.put_object(Bucket=bucket, Key=key, Body=result.stdout.encode())
    print(f"fetch_and_run: wrote {target}", flush=True)
sys.exit(result.returncode)
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
    parser.add_argument(
        "--image",
        default="batch-emulator-jobs/python:local",
        help="an image with Python 3 and boto3 (Docker executor; see docker-image/build-job-image.sh)",
    )
    parser.add_argument("--python", default="python3", help="the interpreter the job runs fetch_and_run with")
    parser.add_argument("--bucket", default="fetch-and-run", help="where the script and its output go")
    parser.add_argument("--job-queue", default="examples")
    parser.add_argument("--timeout-seconds", type=float, default=120)
    return parser.parse_args()


def clients(args: argparse.Namespace):
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

    def client(service: str, **options):
        return boto3.client(service, endpoint_url=args.endpoint_url, region_name=args.region, **options)

    return client("batch"), client("logs"), client("s3", config=Config(s3={"addressing_style": "path"}))


def ensure_queue(batch, name: str) -> None:
    """An UNMANAGED compute environment and a queue, both called `name`, unless they exist."""
    if not batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]:
        batch.create_compute_environment(computeEnvironmentName=name, type="UNMANAGED")
    if not batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        batch.create_job_queue(
            jobQueueName=name, priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}]
        )


def ensure_bucket(s3, bucket: str) -> None:
    if bucket not in [existing["Name"] for existing in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)


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


def read_output(s3, bucket: str, key: str) -> str | None:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    except s3.exceptions.NoSuchKey:
        return None


def main() -> int:
    args = parse_args()
    batch, logs, s3 = clients(args)
    ensure_queue(batch, args.job_queue)
    ensure_bucket(s3, args.bucket)

    run = uuid.uuid4().hex[:8]
    script_url = f"s3://{args.bucket}/scripts/myjob-{run}.sh"
    output_key = f"output/myjob-{run}.txt"
    s3.put_object(Bucket=args.bucket, Key=f"scripts/myjob-{run}.sh", Body=USER_SCRIPT.encode())
    batch.register_job_definition(
        jobDefinitionName="fetch-and-run",
        type="container",
        parameters={"name": "world"},
        containerProperties={
            "image": args.image,
            "command": [args.python, "-c", FETCH_AND_RUN, "Ref::name"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "256"}],
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
                {"name": "BATCH_FILE_S3_URL", "value": script_url},
                {"name": "BATCH_OUTPUT_S3_URL", "value": f"s3://{args.bucket}/{output_key}"},
            ]
        },
    )["jobId"]
    print(f"submitted {job_id}: run {script_url}")

    job = wait_until_done(batch, job_id, args.timeout_seconds)
    print(f"job {job_id} {job['status']} (exit code {job.get('container', {}).get('exitCode')})")
    for line in log_lines(logs, job):
        print(f"  | {line}")
    output = read_output(s3, args.bucket, output_key)
    print(f"s3://{args.bucket}/{output_key}: " + ("(missing)" if output is None else ""))
    for line in (output or "").splitlines():
        print(f"  > {line}")
    ok = job["status"] == "SUCCEEDED" and output is not None and "hello batch-emulator" in output
    print("fetch-and-run: OK" if ok else "fetch-and-run: UNEXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
