"""A container job survives the server's kill -9: the server restarted on the same --state-dir
finds the container by its attempt label, follows it to the end (its output continues in the same
log stream, with no line repeated) and the job SUCCEEDS with its one attempt; exactly one container
ever ran for that attempt, and it is removed afterwards."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import boto3
import docker
import pytest
from botocore.config import Config
from kit import start_server_process

pytestmark = pytest.mark.docker


def start_server(state_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    process, url = start_server_process(["--executor", "docker", "--state-dir", str(state_dir)], log_path)
    return process, url


def clients(url: str):
    options = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"max_attempts": 1}),
    }
    return boto3.client("batch", **options), boto3.client("logs", **options)


def wait_for(batch, job_id: str, statuses: tuple[str, ...], timeout_seconds: float = 60) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"{job_id} still {job['status']}"
        time.sleep(0.1)


def test_a_running_container_is_adopted_after_kill_9_and_succeeds(
    tmp_path: Path, docker_client: docker.DockerClient, test_image: str
) -> None:
    state, log_path = tmp_path / "state", tmp_path / "server.log"
    started_at = int(time.time())
    process, url = start_server(state, log_path)
    job_id = None
    try:
        batch, _ = clients(url)
        batch.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
        batch.create_job_queue(
            jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
        )
        batch.register_job_definition(
            jobDefinitionName="sleeper",
            type="container",
            containerProperties={
                "image": test_image,
                "command": ["sh", "-c", "echo before; sleep 3; echo after"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            },
        )
        job_id = batch.submit_job(jobName="sleeper", jobQueue="q", jobDefinition="sleeper")["jobId"]
        wait_for(batch, job_id, ("RUNNING",))
        attempt_label = {"label": f"batch-emulator.attempt-id={job_id}/1"}
        before = [c.id for c in docker_client.containers.list(all=True, filters=attempt_label)]
        assert len(before) == 1

        process.send_signal(signal.SIGKILL)
        process.wait()
        assert [c.status for c in docker_client.containers.list(all=True, filters=attempt_label)] == [
            "running"
        ]

        process, url = start_server(state, log_path)
        batch, logs = clients(url)
        job = wait_for(batch, job_id, ("SUCCEEDED", "FAILED"))
        assert job["status"] == "SUCCEEDED", job.get("statusReason")
        assert len(job["attempts"]) == 1
        assert job["attempts"][0]["container"]["exitCode"] == 0
        events = logs.get_log_events(
            logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"], startFromHead=True
        )["events"]
        assert [event["message"] for event in events] == ["before", "after"]
        created = docker_client.events(
            since=started_at,
            until=int(time.time()) + 1,
            filters={"event": "create", "label": f"batch-emulator.job-id={job_id}"},
            decode=True,
        )
        assert [event["id"] for event in created] == before  # one container, ever, for this job
        deadline = time.monotonic() + 10
        while docker_client.containers.list(all=True, filters=attempt_label):
            assert time.monotonic() < deadline, "the adopted container was not removed"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if job_id is not None:
            for container in docker_client.containers.list(
                all=True, filters={"label": f"batch-emulator.job-id={job_id}"}
            ):
                container.remove(force=True, v=True)
