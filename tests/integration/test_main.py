"""`python -m emulator` as a user starts it: banner, --bootstrap, the AWS CLI at once, clean stop.

Each test runs the real command in a subprocess (process executor, port 0), reads the URL from the
banner, and stops the server with a signal, checking that it exits 0 and leaves no job process.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
PID = re.compile(r"running as pid (\d+)")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Server:
    process: subprocess.Popen
    log_path: Path
    banner: list[str] = field(default_factory=list)
    url: str = ""

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, signum: int = signal.SIGTERM, timeout_seconds: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=timeout_seconds)


def start_server(tmp_path: Path, *flags: str) -> Server:
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", "--executor", "process", *flags],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env={**os.environ, "EMULATOR_MIN_TIMEOUT_SECONDS": "1"},
        )
    server = Server(process, log_path)
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:  # keep reading so the pipe never fills; hand lines over until EOF
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        server.banner.append(line)
        if not server.url and (match := URL.search(line)):
            server.url = match.group(0)
        if line.strip().startswith("aws batch"):  # the banner's last line
            return server
    process.kill()
    process.wait()
    raise AssertionError(f"no banner; stdout={server.banner} log={server.log()}")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test started; killed at the end if the test did not stop them."""
    servers: list[Server] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def aws(*args: str, url: str | None = None, env: dict[str, str] | None = None) -> dict:
    command = [shutil.which("aws") or "aws", *args, "--output", "json"]
    if url is not None:
        command += ["--endpoint-url", url]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, **CREDENTIALS, **(env or {})}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "{}")


def wait_for_status(url: str, job_id: str, wanted: str, timeout_seconds: float = 30) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while True:
        job = aws("batch", "describe-jobs", "--jobs", job_id, url=url)["jobs"][0]
        if job["status"] == wanted or time.monotonic() > deadline:
            assert job["status"] == wanted, job
            return job
        time.sleep(0.2)


def is_gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for whoever inherited it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI (pip install awscli) is not installed")
def test_bootstrap_lets_the_cli_submit_a_job_right_after_start(tmp_path: Path, running: list[Server]) -> None:
    server = start_server(tmp_path, "--bootstrap")
    running.append(server)

    submitted = aws(
        "batch",
        "submit-job",
        "--job-name",
        "hello",
        "--job-queue",
        "default",
        "--job-definition",
        "default",
        url=server.url,
    )
    job = wait_for_status(server.url, submitted["jobId"], "SUCCEEDED")

    # The banner's own copy-paste lines: endpoint variables instead of --endpoint-url.
    described = aws(
        "batch",
        "describe-jobs",
        "--jobs",
        job["jobId"],
        env={"AWS_ENDPOINT_URL_BATCH": server.url},
    )
    assert described["jobs"][0]["status"] == "SUCCEEDED"
    queues = aws("batch", "describe-job-queues", url=server.url)["jobQueues"]
    assert [(q["jobQueueName"], q["priority"]) for q in queues] == [("default", 1)]
    assert server.stop() == 0
    log = server.log()
    assert f"job {job['jobId']} (hello) RUNNABLE -> STARTING on default" in log
    assert f"job {job['jobId']} (hello) RUNNING -> SUCCEEDED" in log


def test_banner_says_url_executor_region_account_state_and_client_setup(
    tmp_path: Path, running: list[Server]
) -> None:
    server = start_server(tmp_path, "--region", "eu-west-1")
    running.append(server)
    banner = "\n".join(server.banner)

    port = int(URL.search(banner).group(1))
    assert port not in (0, 8734)
    assert "executor:  process" in banner
    assert "region:    eu-west-1" in banner
    assert "account: 123456789012" in banner
    assert "in memory" in banner
    assert f'boto3.client("batch", endpoint_url="{server.url}", region_name="eu-west-1"' in banner
    assert (
        f"export AWS_ENDPOINT_URL_BATCH={server.url} AWS_ENDPOINT_URL_CLOUDWATCH_LOGS={server.url}" in banner
    )
    assert server.stop(signal.SIGINT) == 0


def test_sigterm_stops_the_server_and_the_jobs_it_runs(tmp_path: Path, running: list[Server]) -> None:
    import boto3

    server = start_server(tmp_path, "--bootstrap")
    running.append(server)
    batch = boto3.client(
        "batch",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    job_id = batch.submit_job(
        jobName="long",
        jobQueue="default",
        jobDefinition="default",
        containerOverrides={"command": ["sleep", "300"]},
    )["jobId"]
    deadline = time.monotonic() + 20
    while batch.describe_jobs(jobs=[job_id])["jobs"][0]["status"] != "RUNNING":
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    pid = int(PID.search(server.log()).group(1))

    assert server.stop(signal.SIGTERM) == 0, server.log()

    assert is_gone(pid), f"job process {pid} outlived the server"


def test_binding_every_interface_without_auth_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--host", "0.0.0.0", "--port", "0", "--executor", "process"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
