"""ECS-properties and EKS-properties jobs through boto3, their containers run as local processes
(reference §18, §19): essential and non-essential containers, dependsOn ordering, per-container
exit codes, reasons and log streams in DescribeJobs, EKS init containers and eksAttempts, and
overrides (an ECS command, EKS env merged by name)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kit import create_queue

from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job

QUEUE = "tasks-q"
CE = "tasks-ce"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="process", stop_timeout_seconds=2) as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    emulator.reset()
    client = emulator.client("batch")
    create_queue(client, QUEUE, CE)
    yield client
    emulator.reset()


def ecs_definition(batch, name: str, containers: list[dict]) -> None:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        ecsProperties={"taskProperties": [{"containers": containers}]},
    )


def messages(logs, stream: str) -> list[str]:
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)[
        "events"
    ]
    return [event["message"] for event in events]


def test_ecs_job_with_an_essential_and_a_non_essential_container(batch, emulator: Emulator):
    ecs_definition(
        batch,
        "ecs-two",
        [
            {
                "name": "app",
                "image": "busybox",
                "command": ["sh", "-c", "echo app $AWS_BATCH_JOB_ID; exit 0"],
            },
            {
                "name": "sidecar",
                "image": "busybox",
                "essential": False,
                "command": ["sh", "-c", "echo sidecar; exit 5"],
            },
        ],
    )
    job_id = batch.submit_job(jobName="ecs-two", jobQueue=QUEUE, jobDefinition="ecs-two")["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)

    assert "container" not in job
    task = job["ecsProperties"]["taskProperties"][0]
    assert task["taskArn"].startswith("arn:aws:ecs:")
    by_name = {c["name"]: c for c in task["containers"]}
    assert by_name["app"]["exitCode"] == 0
    assert by_name["sidecar"]["exitCode"] in (5, 143)  # it may be stopped when the essential one exits
    attempt = job["attempts"][0]
    assert "container" not in attempt
    attempt_containers = {c["name"]: c for c in attempt["taskProperties"][0]["containers"]}
    assert attempt_containers["app"]["exitCode"] == 0
    assert attempt["statusReason"] == "Essential container in task exited"
    stream = attempt_containers["app"]["logStreamName"]
    assert stream.startswith("ecs-two/app/")
    assert messages(emulator.client("logs"), stream) == [f"app {job_id}"]


def test_ecs_job_fails_when_its_essential_container_fails(batch):
    ecs_definition(
        batch,
        "ecs-fail",
        [
            {"name": "main", "image": "busybox", "command": ["sh", "-c", "exit 7"]},
            {"name": "helper", "image": "busybox", "essential": False, "command": ["sleep", "60"]},
        ],
    )
    job_id = batch.submit_job(jobName="ecs-fail", jobQueue=QUEUE, jobDefinition="ecs-fail")["jobId"]
    job = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    containers = {c["name"]: c for c in job["ecsProperties"]["taskProperties"][0]["containers"]}
    assert containers["main"]["exitCode"] == 7
    assert containers["helper"]["exitCode"] == 143  # stopped with the task


def test_ecs_depends_on_orders_the_containers(batch, emulator: Emulator, tmp_path):
    marker = tmp_path / "setup-done"
    ecs_definition(
        batch,
        "ecs-order",
        [
            {
                "name": "setup",
                "image": "busybox",
                "essential": False,
                "command": ["sh", "-c", f"sleep 0.3; touch {marker}"],
            },
            {
                "name": "main",
                "image": "busybox",
                "dependsOn": [{"containerName": "setup", "condition": "SUCCESS"}],
                "command": ["sh", "-c", f"test -f {marker} && echo saw setup"],
            },
        ],
    )
    job_id = batch.submit_job(jobName="ecs-order", jobQueue=QUEUE, jobDefinition="ecs-order")["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)
    containers = {c["name"]: c for c in job["ecsProperties"]["taskProperties"][0]["containers"]}
    assert (containers["setup"]["exitCode"], containers["main"]["exitCode"]) == (0, 0)
    assert messages(emulator.client("logs"), containers["main"]["logStreamName"]) == ["saw setup"]


def test_ecs_override_replaces_a_containers_command(batch):
    ecs_definition(
        batch, "ecs-override", [{"name": "app", "image": "busybox", "command": ["sh", "-c", "exit 1"]}]
    )
    job_id = batch.submit_job(
        jobName="ecs-override",
        jobQueue=QUEUE,
        jobDefinition="ecs-override",
        ecsPropertiesOverride={"taskProperties": [{"containers": [{"name": "app", "command": ["true"]}]}]},
    )["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)
    assert job["ecsProperties"]["taskProperties"][0]["containers"][0]["command"] == ["true"]


def test_eks_job_runs_init_containers_first_and_reports_each_exit_code(batch):
    batch.register_job_definition(
        jobDefinitionName="eks-pod",
        type="container",
        eksProperties={
            "podProperties": {
                "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "exit 0"]}],
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "command": ["sh", "-c"],
                        "args": ['test -n "$AWS_BATCH_JOB_KUBERNETES_NODE_UID"'],
                    },
                    {"name": "other", "image": "busybox", "command": ["true"]},
                ],
            }
        },
    )
    job_id = batch.submit_job(jobName="eks-pod", jobQueue=QUEUE, jobDefinition="eks-pod")["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)

    assert job["attempts"] == []
    (attempt,) = job["eksAttempts"]
    assert [(c["name"], c["exitCode"]) for c in attempt["containers"]] == [("main", 0), ("other", 0)]
    assert [(c["name"], c["exitCode"]) for c in attempt["initContainers"]] == [("init", 0)]
    assert attempt["podName"].startswith("aws-batch.")
    assert attempt["podNamespace"] == "default"
    assert attempt["nodeName"]
    pod = job["eksProperties"]["podProperties"]
    assert pod["podName"] == attempt["podName"]
    assert [c["exitCode"] for c in pod["containers"]] == [0, 0]


def test_eks_job_fails_when_an_init_container_fails_and_skips_the_rest(batch):
    batch.register_job_definition(
        jobDefinitionName="eks-init-fails",
        type="container",
        eksProperties={
            "podProperties": {
                "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "exit 2"]}],
                "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
            }
        },
    )
    job_id = batch.submit_job(jobName="eks-init-fails", jobQueue=QUEUE, jobDefinition="eks-init-fails")[
        "jobId"
    ]
    job = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    (attempt,) = job["eksAttempts"]
    assert attempt["initContainers"][0]["exitCode"] == 2
    assert "exitCode" not in attempt["containers"][0]


def test_eks_container_failure_fails_the_job(batch):
    batch.register_job_definition(
        jobDefinitionName="eks-fails",
        type="container",
        eksProperties={
            "podProperties": {
                "containers": [
                    {"name": "ok", "image": "busybox", "command": ["true"]},
                    {"name": "bad", "image": "busybox", "command": ["sh", "-c", "sleep 0.2; exit 4"]},
                ]
            }
        },
    )
    started = time.monotonic()
    job_id = batch.submit_job(jobName="eks-fails", jobQueue=QUEUE, jobDefinition="eks-fails")["jobId"]
    job = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    print(f"EKS pod ended in {time.monotonic() - started:.2f} s")
    (attempt,) = job["eksAttempts"]
    assert {c["name"]: c["exitCode"] for c in attempt["containers"]} == {"ok": 0, "bad": 4}


def test_eks_override_env_adds_and_replaces_by_name(batch, tmp_path):
    """`eksPropertiesOverride` env merges by name like a container override's environment
    (§14.2): an overridden name keeps its place, a new name comes last, the rest stay."""
    seen = tmp_path / "env"
    batch.register_job_definition(
        jobDefinitionName="eks-env",
        type="container",
        eksProperties={
            "podProperties": {
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "command": ["sh", "-c"],
                        "args": [f'echo "$KEEP,$CHANGE,$LAST,$ADDED" > {seen}'],
                        "env": [
                            {"name": "KEEP", "value": "kept"},
                            {"name": "CHANGE", "value": "old"},
                            {"name": "LAST", "value": "last"},
                        ],
                    }
                ]
            }
        },
    )
    override = [{"name": "ADDED", "value": "new"}, {"name": "CHANGE", "value": "changed"}]
    job_id = batch.submit_job(
        jobName="eks-env",
        jobQueue=QUEUE,
        jobDefinition="eks-env",
        eksPropertiesOverride={"podProperties": {"containers": [{"name": "main", "env": override}]}},
    )["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)

    [container] = job["eksProperties"]["podProperties"]["containers"]
    assert container["env"] == [
        {"name": "KEEP", "value": "kept"},
        {"name": "CHANGE", "value": "changed"},
        {"name": "LAST", "value": "last"},
        {"name": "ADDED", "value": "new"},
    ]
    assert seen.read_text() == "kept,changed,last,new\n"


def test_eks_override_env_may_not_use_the_aws_batch_prefix(batch):
    batch.register_job_definition(
        jobDefinitionName="eks-reserved",
        type="container",
        eksProperties={"podProperties": {"containers": [{"name": "main", "image": "busybox"}]}},
    )
    override = {
        "podProperties": {"containers": [{"name": "main", "env": [{"name": "AWS_BATCH_X", "value": "1"}]}]}
    }
    with pytest.raises(batch.exceptions.ClientException, match="AWS_BATCH_X"):
        batch.submit_job(
            jobName="eks-reserved",
            jobQueue=QUEUE,
            jobDefinition="eks-reserved",
            eksPropertiesOverride=override,
        )
