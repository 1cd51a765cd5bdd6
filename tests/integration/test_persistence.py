"""--state-dir: a server stopped and started again on the same directory describes every resource,
tag, job, attempt and log line exactly as before; queued jobs resume; an attempt that was running
when the server was killed is lost with its "host" and retried, and its orphaned process is killed.

Each test runs `python -m emulator` in a subprocess (simulated or process executor, port 0) and
talks to it with boto3.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

URL = re.compile(r"http://127\.0\.0\.1:\d+")
TERMINAL = ("SUCCEEDED", "FAILED")


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    banner: list[str]

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=30)


def start_server(state_dir: Path, executor: str, log_path: Path, *flags: str) -> Server:
    with log_path.open("a") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", "--executor", executor, "--state-dir", str(state_dir),
             *flags],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env={**os.environ, "EMULATOR_MIN_TIMEOUT_SECONDS": "1", "EMULATOR_STOP_TIMEOUT_SECONDS": "2"},
        )  # fmt: skip
    banner: list[str] = []
    url = ""
    for line in process.stdout:
        banner.append(line.rstrip("\n"))
        url = url or (URL.search(line).group(0) if URL.search(line) else "")
        if line.strip().startswith("aws batch"):
            break
    if not url:
        process.kill()
        raise AssertionError(f"no URL in the banner: {banner}; log: {log_path.read_text()[-2000:]}")
    return Server(process, url, banner)


def is_alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody has reaped (its parent, the server, died)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def wait_terminal(batch, job_ids: list[str], timeout_seconds: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout_seconds
    while True:
        jobs = [
            job
            for i in range(0, len(job_ids), 100)
            for job in batch.describe_jobs(jobs=job_ids[i : i + 100])["jobs"]
        ]
        if len(jobs) == len(job_ids) and all(job["status"] in TERMINAL for job in jobs):
            return jobs
        assert time.monotonic() < deadline, [(job["jobId"], job["status"]) for job in jobs]
        time.sleep(0.1)


def create_topology(batch, *, environment: dict[str, str] | None = None) -> None:
    batch.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED", tags={"team": "data"})
    batch.create_job_queue(
        jobQueueName="q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}],
        tags={"queue": "yes"},
    )
    batch.register_job_definition(
        jobDefinitionName="jd",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["sh", "-c", "echo hello from $AWS_BATCH_JOB_ID"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
        },
        retryStrategy={"attempts": 2},
        tags={"definition": "tagged"},
    )
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=3, tags={"c": "1"})
    time.sleep(0.5)  # CREATING -> VALID (transition_seconds)


def snapshot(server: Server, job_ids: list[str]) -> dict:
    """Everything Describe/List/Get calls show, without the per-request metadata."""
    batch, logs = server.client("batch"), server.client("logs")

    def clean(answer: dict) -> dict:
        answer.pop("ResponseMetadata", None)
        return answer

    jobs = [clean(batch.describe_jobs(jobs=[job_id])) for job_id in job_ids]
    queue_arn = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]
    streams = []
    for group in logs.describe_log_groups()["logGroups"]:
        for stream in logs.describe_log_streams(logGroupName=group["logGroupName"])["logStreams"]:
            events = logs.get_log_events(
                logGroupName=group["logGroupName"], logStreamName=stream["logStreamName"], startFromHead=True
            )["events"]
            streams.append((group["logGroupName"], stream, events))
    return {
        "environments": clean(batch.describe_compute_environments()),
        "queues": clean(batch.describe_job_queues()),
        "definitions": clean(batch.describe_job_definitions()),
        "consumables": clean(batch.list_consumable_resources()),
        "queue_tags": clean(batch.list_tags_for_resource(resourceArn=queue_arn)),
        "jobs": jobs,
        "listed": {s: clean(batch.list_jobs(jobQueue="q", jobStatus=s)) for s in ("SUCCEEDED", "FAILED")},
        "log_groups": clean(logs.describe_log_groups()),
        "streams": streams,
        "filtered": clean(logs.filter_log_events(logGroupName="/aws/batch/job")),
        "group_tags": clean(logs.list_tags_log_group(logGroupName="app")),
    }


def test_a_restart_describes_resources_jobs_and_logs_exactly_as_before(tmp_path: Path, servers) -> None:
    state = tmp_path / "state"
    first = start_server(state, "simulated", tmp_path / "server.log")
    servers.append(first)
    assert any(str(state / "emulator.sqlite3") in line for line in first.banner), first.banner
    batch, logs = first.client("batch"), first.client("logs")
    create_topology(batch, environment={"BATCH_EMULATOR_OUTPUT": "line one\nline two"})
    ok = batch.submit_job(jobName="ok", jobQueue="q", jobDefinition="jd", tags={"job": "tag"})["jobId"]
    failing = batch.submit_job(
        jobName="failing",
        jobQueue="q",
        jobDefinition="jd",
        containerOverrides={"environment": [{"name": "BATCH_EMULATOR_EXIT_CODE", "value": "3"}]},
    )["jobId"]
    array = batch.submit_job(jobName="array", jobQueue="q", jobDefinition="jd", arrayProperties={"size": 3})[
        "jobId"
    ]
    after = batch.submit_job(jobName="after", jobQueue="q", jobDefinition="jd", dependsOn=[{"jobId": ok}])[
        "jobId"
    ]
    logs.create_log_group(logGroupName="app", tags={"owner": "me"})
    logs.put_retention_policy(logGroupName="app", retentionInDays=7)
    logs.create_log_stream(logGroupName="app", logStreamName="s")
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="app",
        logStreamName="s",
        logEvents=[{"timestamp": now_ms + i, "message": f"m{i}"} for i in range(5)],
    )
    job_ids = [ok, failing, array, after, *[f"{array}:{i}" for i in range(3)]]
    wait_terminal(batch, job_ids)
    before = snapshot(first, job_ids)
    assert first.stop() == 0

    second = start_server(state, "simulated", tmp_path / "server.log")
    servers.append(second)
    after_restart = snapshot(second, job_ids)
    assert after_restart == before
    # and the restarted server carries on: a new job runs, and sorts after the old ones
    new = second.client("batch").submit_job(jobName="new", jobQueue="q", jobDefinition="jd")["jobId"]
    assert wait_terminal(second.client("batch"), [new])[0]["status"] == "SUCCEEDED"
    listed = second.client("batch").list_jobs(jobQueue="q", jobStatus="SUCCEEDED")["jobSummaryList"]
    assert listed[0]["jobId"] == new
    assert second.stop() == 0


def test_queued_jobs_resume_after_a_kill(tmp_path: Path, servers) -> None:
    state = tmp_path / "state"
    first = start_server(state, "simulated", tmp_path / "server.log")
    servers.append(first)
    batch = first.client("batch")
    create_topology(batch)
    batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")  # jobs wait RUNNABLE
    queued = [batch.submit_job(jobName=f"j{i}", jobQueue="q", jobDefinition="jd")["jobId"] for i in range(5)]
    first.stop(signal.SIGKILL)

    second = start_server(state, "simulated", tmp_path / "server.log")
    servers.append(second)
    batch = second.client("batch")
    assert {job["status"] for job in batch.describe_jobs(jobs=queued)["jobs"]} == {"RUNNABLE"}
    batch.update_compute_environment(computeEnvironment="ce", state="ENABLED")
    assert {job["status"] for job in wait_terminal(batch, queued)} == {"SUCCEEDED"}
    assert second.stop() == 0


def test_a_killed_servers_running_process_is_killed_and_its_attempt_retried(tmp_path: Path, servers) -> None:
    state = tmp_path / "state"
    pid_file = tmp_path / "pid"
    first = start_server(state, "process", tmp_path / "server.log")
    servers.append(first)
    batch = first.client("batch")
    create_topology(batch)
    script = f'echo attempt $AWS_BATCH_JOB_ATTEMPT; if [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then echo $$ > {pid_file}; exec sleep 60; fi'
    job_id = batch.submit_job(
        jobName="long", jobQueue="q", jobDefinition="jd", containerOverrides={"command": ["sh", "-c", script]}
    )["jobId"]
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    orphan = int(pid_file.read_text())
    first.stop(signal.SIGKILL)
    assert is_alive(orphan)  # the job's process outlived the server

    second = start_server(state, "process", tmp_path / "server.log")
    servers.append(second)
    batch = second.client("batch")
    job = wait_terminal(batch, [job_id])[0]
    assert job["status"] == "SUCCEEDED"
    assert len(job["attempts"]) == 2
    assert re.fullmatch(
        r"Host EC2 \(instance i-[0-9a-f]{17}\) terminated\.", job["attempts"][0]["statusReason"]
    )
    assert not is_alive(orphan)
    stream = job["container"]["logStreamName"]
    events = second.client("logs").get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)[
        "events"
    ]
    assert [event["message"] for event in events] == ["attempt 2"]
    assert second.stop() == 0


def test_a_second_server_on_a_state_directory_in_use_refuses_to_start(tmp_path: Path, servers) -> None:
    state = tmp_path / "state"
    servers.append(start_server(state, "simulated", tmp_path / "server.log"))
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--executor",
            "simulated",
            "--state-dir",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "in use" in refused.stderr
