"""The seeds workflow through the AWS CLI v1 against the plugin's server (process executor): create
a compute environment, a queue and a definition, submit an array job that writes seeds and a second
array job, N_TO_N on the first, that reads them, describe until SUCCEEDED, and read a child's output
with `aws logs get-log-events`.

Skipped where `aws` is missing, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

SIZE = 3


@pytest.fixture
def aws(batch_emulator, tmp_path) -> Callable[..., dict[str, Any]]:
    if shutil.which("aws") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the AWS CLI (`pip install awscli`) is not on PATH (CI=true: the CLI test must run)")
        pytest.skip("the AWS CLI (`pip install awscli`) is not on PATH")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_PROFILE", None)

    def run(*args: str) -> dict[str, Any]:
        command = ["aws", *args, "--endpoint-url", batch_emulator.url, "--output", "json"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run


def describe_until(aws, job_id: str, wanted: str, timeout_seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_seconds
    while True:
        [detail] = aws("batch", "describe-jobs", "--jobs", job_id)["jobs"]
        if detail["status"] == wanted:
            return detail
        assert detail["status"] not in ("SUCCEEDED", "FAILED"), detail
        assert time.monotonic() < deadline, f"{job_id} still {detail['status']}"
        time.sleep(0.1)


def test_seeds_workflow_through_the_cli(aws, tmp_path):
    created = aws(
        "batch", "create-compute-environment", "--compute-environment-name", "cli-ce", "--type", "UNMANAGED"
    )
    assert created["computeEnvironmentName"] == "cli-ce"
    aws(
        "batch", "create-job-queue", "--job-queue-name", "cli-q", "--priority", "1",
        "--compute-environment-order", "order=1,computeEnvironment=cli-ce",
    )  # fmt: skip
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, script in (
        ("make-seeds", f'echo "seed-$AWS_BATCH_JOB_ARRAY_INDEX" > {seeds}/$AWS_BATCH_JOB_ARRAY_INDEX'),
        (
            "use-seeds",
            f'echo "child $AWS_BATCH_JOB_ARRAY_INDEX of $AWS_BATCH_JOB_ARRAY_SIZE got $(cat {seeds}/$AWS_BATCH_JOB_ARRAY_INDEX)"',
        ),
    ):
        properties = {
            "image": "busybox",
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        }
        registered = aws(
            "batch", "register-job-definition", "--job-definition-name", name, "--type", "container",
            "--container-properties", json.dumps(properties),
        )  # fmt: skip
        assert registered["revision"] == 1

    make = aws(
        "batch", "submit-job", "--job-name", "make-seeds", "--job-queue", "cli-q",
        "--job-definition", "make-seeds", "--array-properties", f"size={SIZE}",
    )["jobId"]  # fmt: skip
    use = aws(
        "batch", "submit-job", "--job-name", "use-seeds", "--job-queue", "cli-q",
        "--job-definition", "use-seeds", "--array-properties", f"size={SIZE}",
        "--depends-on", f"jobId={make},type=N_TO_N",
    )["jobId"]  # fmt: skip

    parent = describe_until(aws, use, "SUCCEEDED")
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == SIZE
    assert parent["dependsOn"] == [{"jobId": make, "type": "N_TO_N"}]
    assert describe_until(aws, make, "SUCCEEDED")["arrayProperties"]["size"] == SIZE

    children = aws("batch", "list-jobs", "--array-job-id", use, "--job-status", "SUCCEEDED")["jobSummaryList"]
    assert sorted(child["arrayProperties"]["index"] for child in children) == list(range(SIZE))

    [child] = aws("batch", "describe-jobs", "--jobs", f"{use}:1")["jobs"]
    stream = child["container"]["logStreamName"]
    assert stream.startswith("use-seeds/default/")
    events = aws(
        "logs", "get-log-events", "--log-group-name", "/aws/batch/job", "--log-stream-name", stream,
        "--start-from-head",
    )["events"]  # fmt: skip
    assert [event["message"] for event in events] == [f"child 1 of {SIZE} got seed-1"]
