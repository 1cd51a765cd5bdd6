"""boto3 clients and the compute environment, queue and definitions every workload submits to.

The same calls set up the emulator and moto; moto additionally wants an IAM service role for a
compute environment (it checks the role exists), which is created through its IAM API.
"""

from __future__ import annotations

import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
QUEUE = "bench-q"
DEFINITION = "bench-def"
REVISIONS_DEFINITION = "bench-revisions"
TEST_IMAGE = "batch-emulator-test/busybox:latest"


def client(url: str, service: str = "batch"):
    """A boto3 client as a user would build it, with retries off so a failure shows at once."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=32),
        **CREDENTIALS,
    )


def _service_role(url: str, is_moto: bool) -> str:
    if not is_moto:
        return "arn:aws:iam::123456789012:role/AWSBatchServiceRole"
    iam = client(url, "iam")
    try:
        return iam.create_role(RoleName="batch-bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except ClientError:
        return iam.get_role(RoleName="batch-bench")["Role"]["Arn"]


def set_up(url: str, *, is_moto: bool = False, command: list[str] | None = None) -> None:
    """One UNMANAGED compute environment, one queue, one trivial job definition."""
    batch = client(url)
    batch.create_compute_environment(
        computeEnvironmentName="bench-ce",
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=_service_role(url, is_moto),
    )
    deadline = time.monotonic() + 30
    while True:  # AWS (and the emulator) keep a new environment CREATING for a moment
        try:
            batch.create_job_queue(
                jobQueueName=QUEUE,
                state="ENABLED",
                priority=1,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "bench-ce"}],
            )
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    _wait_until(lambda: batch.describe_job_queues(jobQueues=[QUEUE])["jobQueues"][0]["status"] == "VALID")
    batch.register_job_definition(
        jobDefinitionName=DEFINITION,
        type="container",
        containerProperties={
            "image": TEST_IMAGE,
            "command": command or ["true"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "128"},
            ],
        },
    )


def register_revisions(url: str, count: int) -> None:
    batch = client(url)
    for _ in range(count):
        batch.register_job_definition(
            jobDefinitionName=REVISIONS_DEFINITION,
            type="container",
            containerProperties={"image": TEST_IMAGE, "command": ["true"], "vcpus": 1, "memory": 128},
        )


def _wait_until(predicate, timeout_seconds: float = 30) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)
