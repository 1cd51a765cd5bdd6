"""A two-node multi-node parallel job in real containers (reference §11): both nodes on one private
Docker network, the worker reaching the main node over TCP at
AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS, both exiting 0; and no network left behind."""

from __future__ import annotations

import time

import pytest

from emulator.executors.docker import MANAGED_LABEL
from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

QUEUE = "mnp-docker-q"
CE = "mnp-docker-ce"
# Main node: wait for one message and print it. Worker: send its greeting to the main node,
# retrying until the main node listens.
NODE_SCRIPT = (
    'if [ "$AWS_BATCH_JOB_NODE_INDEX" = "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then '
    'msg=$(nc -l -p 5000); echo "main got: $msg"; '
    "else "
    "for i in $(seq 1 100); do "
    'echo "hello from node $AWS_BATCH_JOB_NODE_INDEX" | nc -w 3 "$AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" 5000 '
    '&& { echo "worker sent to $AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"; exit 0; }; sleep 0.2; done; exit 1; '
    "fi"
)


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return QUEUE, CE


def log_lines(logs, detail: dict) -> list[str]:
    events = logs.get_log_events(
        logGroupName="/aws/batch/job", logStreamName=detail["container"]["logStreamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def test_two_node_job_talks_over_tcp_on_its_private_network(batch, emulator, test_image, docker_client):
    batch.register_job_definition(
        jobDefinitionName="mnp-docker",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:1",
                    "container": {
                        "image": test_image,
                        "command": ["sh", "-c", NODE_SCRIPT],
                        "resourceRequirements": [
                            {"type": "VCPU", "value": "1"},
                            {"type": "MEMORY", "value": "64"},
                        ],
                    },
                }
            ],
        },
    )
    started = time.monotonic()
    job_id = batch.submit_job(jobName="mnp-docker", jobQueue=QUEUE, jobDefinition="mnp-docker")["jobId"]
    parent = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=90)
    print(f"two-node Docker job finished in {time.monotonic() - started:.2f} s")

    deadline = time.monotonic() + 20
    while True:
        main, worker = batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
        if worker["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (main["status"], worker["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert main["container"]["exitCode"] == worker["container"]["exitCode"] == 0
    assert parent["attempts"][0]["container"]["exitCode"] == 0
    address = main["container"]["networkInterfaces"][0]["privateIpv4Address"]
    assert address and address != "127.0.0.1"
    logs = emulator.client("logs")
    assert log_lines(logs, main) == ["main got: hello from node 1"]
    assert log_lines(logs, worker) == [f"worker sent to {address}"]

    deadline = time.monotonic() + 20
    while emulator.runtime.live_attempts() and time.monotonic() < deadline:
        time.sleep(0.05)
    leftovers = docker_client.networks.list(filters={"label": f"{MANAGED_LABEL}=true"})
    ours = [n for n in leftovers if n.name.endswith(emulator.runtime.executor.inner._instance_id[:8])]
    assert ours == [], "the job's private network was not removed"
