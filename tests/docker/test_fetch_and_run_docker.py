"""examples/fetch_and_run.py under the Docker executor: the job's container downloads the script
from S3 on the emulator's endpoint with boto3, runs it, and uploads its output, which the example
reads back. The job image (Python 3 and boto3) is built here from this machine's Python by
docker-image/build-job-image.sh, once per version of that script (the tag names its hash).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import docker
import docker.errors
import pytest

from emulator.testing import Emulator

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "docker-image" / "build-job-image.sh"
BASE = os.environ.get("BATCH_EMULATOR_BASE_IMAGE", "batch-emulator-base:local")


def _missing(reason: str) -> None:
    """Skip with the reason; under CI=true a missing prerequisite fails instead (as in conftest.py)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: Docker tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def job_image(docker_client: docker.DockerClient) -> str:
    digest = hashlib.sha256(BASE.encode() + b"\0" + BUILD_SCRIPT.read_bytes()).hexdigest()[:16]
    tag = f"batch-emulator-test/jobs-python:{digest}"
    try:
        docker_client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    built = subprocess.run(
        [str(BUILD_SCRIPT), tag],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BASE": BASE},
    )
    if built.returncode != 0:
        _missing(f"docker-image/build-job-image.sh failed: {(built.stderr or built.stdout).strip()[-500:]}")
    return tag


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return "examples", "examples"


def test_fetch_and_run_downloads_runs_and_uploads_from_a_container(batch, emulator: Emulator, job_image):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "fetch_and_run.py"), "--image", job_image],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **emulator.environment()},
    )

    output = result.stdout
    assert result.returncode == 0, f"{output}\n{result.stderr}"
    assert "fetch_and_run: fetched s3://fetch-and-run/scripts/myjob-" in output
    assert "  > myjob.sh: hello batch-emulator, job " in output  # read back from S3
    assert "fetch-and-run: OK" in output
    s3 = emulator.client("s3")
    (written,) = s3.list_objects_v2(Bucket="fetch-and-run", Prefix="output/")["Contents"]
    body = s3.get_object(Bucket="fetch-and-run", Key=written["Key"])["Body"].read().decode()
    assert body.splitlines()[1] == "myjob.sh: 6 x 7 = 42"
