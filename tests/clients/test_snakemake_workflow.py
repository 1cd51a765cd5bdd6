"""The `snakemake` command, unmodified, runs a one-rule workflow on the emulator's AWS Batch with S3
as its default storage, as a user would run it on AWS:

    snakemake --executor aws-batch --default-storage-provider s3 --default-storage-prefix s3://BUCKET
              --aws-batch-region ... --aws-batch-job-queue ... --aws-batch-job-role ...

Both clients find the emulator through the environment alone: the Batch plugin's and the S3 storage
plugin's boto3 read AWS_ENDPOINT_URL (no `--storage-s3-endpoint-url` needed), and the job gets the
same variable from the emulator. Snakemake uploads the workflow's sources to the bucket, registers a
job definition and submits a job whose command runs `python -m snakemake` on the one rule; with the
process executor that job is a local process, which fetches the sources from S3, runs the rule and
stores its output in S3, while the driver follows the job with DescribeJobs and, once it
SUCCEEDED, deregisters its job definition.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from client_kit import require_client
from kit import log_lines

BUCKET = "snakemake-data"
JOB_ROLE = "arn:aws:iam::123456789012:role/snakemake-job"
SNAKEFILE = """\
rule greet:
    output: "greeting.txt"
    shell: "echo hello from snakemake > {output}"
"""
# A safety net against a hung workflow, not a measurement: the run takes 20 to 30 s on two cores.
SNAKEMAKE_TIMEOUT_SECONDS = 240
# Snakemake starts every job with `pip install --target .snakemake/pip-deployments
# snakemake-storage-plugin-s3`, deploying the default storage plugin into what, on AWS, is a fresh
# container: about 45 s per job here, fetching and unpacking boto3, botocore and the rest from
# PyPI, which a test should not depend on. The job's Python already has the plugin (it is this
# test's own environment), so Snakemake's own `--precommand`, which runs first in the same shell,
# makes `pip` a shell function that does nothing; the rest of the job's command runs as Snakemake
# wrote it.
SKIP_PLUGIN_DEPLOYMENT = "pip() { :; }"


@pytest.fixture
def snakemake_command() -> list[str]:
    """The `snakemake` script of the interpreter running the tests, whose environment has the
    plugins."""
    for distribution in ("snakemake", "snakemake-executor-plugin-aws-batch", "snakemake-storage-plugin-s3"):
        require_client(distribution)
    return [str(Path(sys.executable).with_name("snakemake"))]


@pytest.fixture
def job_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process executor starts a job in the server's working directory with the server's PATH,
    and the server runs in this process: the job runs in a directory of its own (as a container has
    its own file system, so nothing reaches the driver's directory but through S3), and `python`
    on its PATH is this interpreter, as `python` is in Snakemake's image on AWS."""
    directory = tmp_path / "job"
    directory.mkdir()
    monkeypatch.chdir(directory)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return directory


@pytest.fixture
def bucket(aws_client) -> str:
    aws_client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def run_workflow(command: list[str], workflow: Path, queue: str, bucket: str) -> subprocess.CompletedProcess:
    workflow.mkdir()
    (workflow / "Snakefile").write_text(SNAKEFILE)
    arguments = [
        *("--executor", "aws-batch", "--jobs", "1"),
        *("--default-storage-provider", "s3", "--default-storage-prefix", f"s3://{bucket}"),
        *(
            "--aws-batch-region",
            "us-east-1",
            "--aws-batch-job-queue",
            queue,
            "--aws-batch-job-role",
            JOB_ROLE,
        ),
        *("--precommand", SKIP_PLUGIN_DEPLOYMENT),
    ]
    return subprocess.run(
        [*command, *arguments],
        cwd=workflow,
        capture_output=True,
        text=True,
        timeout=SNAKEMAKE_TIMEOUT_SECONDS,
        check=False,
    )


def snakemake_jobs(batch_client, queue: str) -> list[dict]:
    """Every job the plugin submitted, whatever its status (it names them `snakejob-RULE-UUID`)."""
    listed = batch_client.list_jobs(jobQueue=queue, filters=[{"name": "JOB_NAME", "values": ["snakejob-*"]}])
    job_ids = [summary["jobId"] for summary in listed["jobSummaryList"]]
    return batch_client.describe_jobs(jobs=job_ids)["jobs"] if job_ids else []


def failure_report(completed: subprocess.CompletedProcess, jobs: list[dict], logs_client) -> str:
    job_logs = {
        job["jobName"]: log_lines(logs_client, job)[-20:]
        for job in jobs
        if "logStreamName" in job["container"]
    }
    return f"snakemake exited {completed.returncode}:\n{completed.stderr[-3000:]}\njob logs: {job_logs}"


def test_snakemake_runs_a_workflow_job_to_success_with_its_output_in_s3(
    snakemake_command, batch_emulator_env, job_directory, queue, bucket, batch_client, logs_client, aws_client
):
    completed = run_workflow(snakemake_command, job_directory.parent / "workflow", queue, bucket)

    jobs = snakemake_jobs(batch_client, queue)
    assert completed.returncode == 0, failure_report(completed, jobs, logs_client)
    [job] = jobs
    assert job["jobName"].startswith("snakejob-greet-")
    assert (job["status"], job["container"]["exitCode"]) == ("SUCCEEDED", 0)
    assert job["container"]["command"][:2] == ["/bin/bash", "-c"]
    assert "-m snakemake --snakefile 'Snakefile' --target-jobs 'greet:'" in job["container"]["command"][2]

    output = aws_client("s3").get_object(Bucket=bucket, Key="greeting.txt")
    assert output["Body"].read() == b"hello from snakemake\n"

    [definition] = batch_client.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])[
        "jobDefinitions"
    ]
    assert definition["status"] == "INACTIVE"  # the plugin deregisters it once the job has ended
