"""ECS- and EKS-properties jobs in real containers (reference §18, §19): two containers of one task
on a shared network reach each other by container name; per-container exit codes and log streams;
an EKS pod with an init container."""

from __future__ import annotations

import pytest

from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

QUEUE = "tasks-docker-q"
CE = "tasks-docker-ce"


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return QUEUE, CE


def messages(logs, stream: str) -> list[str]:
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)[
        "events"
    ]
    return [event["message"] for event in events]


def test_ecs_task_containers_share_a_network_and_report_their_exit_codes(batch, emulator, test_image):
    batch.register_job_definition(
        jobDefinitionName="ecs-docker",
        type="container",
        ecsProperties={
            "taskProperties": [
                {
                    "containers": [
                        {
                            "name": "server",
                            "image": test_image,
                            "essential": False,
                            # A FIFO held open read-write: busybox nc would give up the
                            # connection when its stdin ends, maybe before the bytes arrive.
                            "command": [
                                "sh",
                                "-c",
                                "mkdir -p /tmp; mkfifo /tmp/stdin; exec 3<>/tmp/stdin; "
                                'msg=$(nc -l -p 6000 <&3); echo "server got: $msg"; exit 3',
                            ],
                        },
                        {
                            "name": "client",
                            "image": test_image,
                            "dependsOn": [{"containerName": "server", "condition": "START"}],
                            "command": [
                                "sh",
                                "-c",
                                "for i in $(seq 1 100); do echo ping | nc -w 3 server 6000 && exit 0; sleep 0.2; done; exit 1",
                            ],
                        },
                    ]
                }
            ]
        },
    )
    job_id = batch.submit_job(jobName="ecs-docker", jobQueue=QUEUE, jobDefinition="ecs-docker")["jobId"]
    job = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=90)
    containers = {c["name"]: c for c in job["ecsProperties"]["taskProperties"][0]["containers"]}
    assert containers["client"]["exitCode"] == 0
    # The non-essential server either exited on its own (3) or was stopped with the task.
    assert containers["server"]["exitCode"] in (3, 137, 143)
    if containers["server"]["exitCode"] == 3:
        assert messages(emulator.client("logs"), containers["server"]["logStreamName"]) == [
            "server got: ping"
        ]


def test_eks_pod_runs_its_init_container_then_its_containers(batch, test_image):
    batch.register_job_definition(
        jobDefinitionName="eks-docker",
        type="container",
        eksProperties={
            "podProperties": {
                "initContainers": [{"name": "init", "image": test_image, "command": ["true"]}],
                "containers": [
                    {"name": "main", "image": test_image, "command": ["sh", "-c"], "args": ["exit 0"]},
                    {"name": "failing", "image": test_image, "command": ["sh", "-c", "exit 6"]},
                ],
            }
        },
    )
    job_id = batch.submit_job(jobName="eks-docker", jobQueue=QUEUE, jobDefinition="eks-docker")["jobId"]
    job = wait_for_job(batch, job_id, "FAILED", timeout_seconds=90)
    (attempt,) = job["eksAttempts"]
    assert [(c["name"], c["exitCode"]) for c in attempt["initContainers"]] == [("init", 0)]
    assert {c["name"]: c["exitCode"] for c in attempt["containers"]} == {"main": 0, "failing": 6}
    assert all(c["containerID"] for c in attempt["containers"])
