"""Submit a job and wait for it to finish, timing SubmitJob -> SUCCEEDED as a client sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

from bench import resources

POLL_SECONDS = 0.002
TERMINAL = ("SUCCEEDED", "FAILED")


def wait_for_status(client: Any, job_id: str, *, poll_seconds: float, timeout_seconds: float) -> str:
    deadline = time.monotonic() + timeout_seconds
    while True:
        jobs = client.describe_jobs(jobs=[job_id])["jobs"]
        status = jobs[0]["status"] if jobs else "UNKNOWN"
        if status in TERMINAL:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {status} after {timeout_seconds} s")
        time.sleep(poll_seconds)


def time_to_done(client: Any, *, timeout_seconds: float = 120, **submit: Any) -> float:
    """Seconds from sending SubmitJob to first seeing SUCCEEDED (polling every 2 ms)."""
    started = time.perf_counter()
    job_id = client.submit_job(
        jobName="latency", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION, **submit
    )["jobId"]
    status = wait_for_status(client, job_id, poll_seconds=POLL_SECONDS, timeout_seconds=timeout_seconds)
    elapsed = time.perf_counter() - started
    if status != "SUCCEEDED":
        raise RuntimeError(f"job {job_id} ended {status}")
    return elapsed


def time_command(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


def has_docker() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_test_image() -> bool:
    """The tests' busybox image (tests/docker/conftest.py), built here when missing: no registry."""
    image = resources.TEST_IMAGE
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0:
        return True
    if not os.access("/bin/busybox", os.X_OK):
        return False
    with tempfile.TemporaryDirectory() as context:
        shutil.copy("/bin/busybox", os.path.join(context, "busybox"))
        with open(os.path.join(context, "Dockerfile"), "w") as dockerfile:
            dockerfile.write(DOCKERFILE)
        built = subprocess.run(
            ["docker", "build", "--label", "batch-emulator.test=true", "-t", image, context],
            capture_output=True,
        )
    return built.returncode == 0
