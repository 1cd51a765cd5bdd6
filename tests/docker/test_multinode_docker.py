"""A two-node multi-node parallel job in real containers (reference §11): both nodes on one private
Docker network, the worker reaching the main node over TCP at
AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS, both exiting 0; and no network left behind. The same
with node ranges that run a two-container ECS task on each node (§18); and twenty short jobs at
once whose nodes all succeed, however soon the main node exits."""

from __future__ import annotations

import time

import pytest

from emulator.executors.docker import INSTANCE_LABEL, MANAGED_LABEL
from emulator.testing.waiting import wait_for_job

pytestmark = pytest.mark.docker

QUEUE = "mnp-docker-q"
CE = "mnp-docker-ce"
# Main node: wait for one message and print it. Worker: send its greeting to the main node,
# retrying until the main node listens.
NODE_SCRIPT = (
    'if [ "$AWS_BATCH_JOB_NODE_INDEX" = "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then '
    # busybox nc gives up a connection as soon as its own stdin ends, and in a container with no
    # stdin that can be before the worker's bytes are read: the worker then thinks it sent. A FIFO
    # held open read-write is a stdin that never ends, so nc returns once the worker closes.
    "mkdir -p /tmp; mkfifo /tmp/stdin; exec 3<>/tmp/stdin; "
    'msg=""; while [ -z "$msg" ]; do msg=$(nc -l -p 5000 <&3); done; echo "main got: $msg"; '
    "else "
    "for i in $(seq 1 100); do "
    'echo "hello from node $AWS_BATCH_JOB_NODE_INDEX" | nc -w 3 "$AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" 5000 '
    '&& { echo "worker sent to $AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"; exit 0; }; sleep 0.2; done; exit 1; '
    "fi"
)


@pytest.fixture(scope="module")
def queue_names() -> tuple[str, str]:
    return QUEUE, CE


@pytest.fixture(scope="module")
def emulator_settings() -> dict:
    """Room for several two-node jobs at once (each node is one running attempt), and a grace
    after the main node exits that no daemon on a loaded host can outlast in starting a container
    (the default 5 s is covered on a ManualClock)."""
    return {"executor": "docker", "stop_timeout_seconds": 1, "max_running": 10, "mnp_stop_grace_seconds": 60}


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


# Every node runs an ECS task of two containers: `sidecar` (non-essential) reports the MNP
# variables and exits 0; then `app` (essential, dependsOn SUCCESS) runs NODE_SCRIPT, the main
# node's listening on its address and the worker's connecting to it.
SIDECAR_SCRIPT = (
    'echo "sidecar $AWS_BATCH_JOB_NODE_INDEX/$AWS_BATCH_JOB_NUM_NODES main $AWS_BATCH_JOB_MAIN_NODE_INDEX'
    ' at ${AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS:-none}"'
)


def test_two_node_job_with_ecs_tasks_talks_over_tcp(batch, emulator, test_image, docker_client):
    containers = [
        {"name": "sidecar", "image": test_image, "essential": False, "command": ["sh", "-c", SIDECAR_SCRIPT]},
        {
            "name": "app",
            "image": test_image,
            "command": ["sh", "-c", NODE_SCRIPT],
            "dependsOn": [{"containerName": "sidecar", "condition": "SUCCESS"}],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
        },
    ]
    batch.register_job_definition(
        jobDefinitionName="mnp-ecs-docker",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {"targetNodes": "0:1", "ecsProperties": {"taskProperties": [{"containers": containers}]}}
            ],
        },
    )
    started = time.monotonic()
    job_id = batch.submit_job(jobName="mnp-ecs-docker", jobQueue=QUEUE, jobDefinition="mnp-ecs-docker")[
        "jobId"
    ]
    parent = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=90)
    print(f"two-node Docker ECS-task job finished in {time.monotonic() - started:.2f} s")

    deadline = time.monotonic() + 20
    while True:
        nodes = batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
        if all(node["status"] in ("SUCCEEDED", "FAILED") for node in nodes) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [node["status"] for node in nodes] == ["SUCCEEDED", "SUCCEEDED"]
    parent_task = parent["attempts"][0]["taskProperties"][0]
    assert {c["name"]: c["exitCode"] for c in parent_task["containers"]} == {"sidecar": 0, "app": 0}
    by_node = [{c["name"]: c for c in n["ecsProperties"]["taskProperties"][0]["containers"]} for n in nodes]
    assert [{name: c["exitCode"] for name, c in node.items()} for node in by_node] == [
        {"sidecar": 0, "app": 0}
    ] * 2
    address = by_node[0]["app"]["networkInterfaces"][0]["privateIpv4Address"]
    assert address and address != "127.0.0.1"
    logs = emulator.client("logs")

    def lines(container: dict) -> list[str]:
        events = logs.get_log_events(
            logGroupName="/aws/batch/job", logStreamName=container["logStreamName"], startFromHead=True
        )["events"]
        return [event["message"] for event in events]

    assert lines(by_node[0]["sidecar"]) == ["sidecar 0/2 main 0 at none"]
    assert lines(by_node[1]["sidecar"]) == [f"sidecar 1/2 main 0 at {address}"]
    assert lines(by_node[0]["app"]) == ["main got: hello from node 1"]
    assert lines(by_node[1]["app"]) == [f"worker sent to {address}"]

    deadline = time.monotonic() + 20
    while emulator.runtime.live_attempts() and time.monotonic() < deadline:
        time.sleep(0.05)
    instance = emulator.runtime.executor.inner._instance_id
    leftovers = docker_client.networks.list(filters={"label": f"{INSTANCE_LABEL}={instance}"})
    assert [n.name for n in leftovers] == [], "the job's networks were not removed"


def test_short_nodes_that_exit_zero_all_succeed_twenty_times_out_of_twenty(batch, test_image, tmp_path):
    """The common first MNP job: every node writes a file and exits 0 at once. The main node is
    often done before the worker's container has started; the worker still runs to its own end
    (§11)."""
    batch.register_job_definition(
        jobDefinitionName="mnp-docker-short",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:1",
                    "container": {
                        "image": test_image,
                        "command": ["sh", "-c", 'echo done > "/out/$AWS_BATCH_JOB_ID"'],
                        "resourceRequirements": [
                            {"type": "VCPU", "value": "1"},
                            {"type": "MEMORY", "value": "64"},
                        ],
                        "volumes": [{"name": "out", "host": {"sourcePath": str(tmp_path)}}],
                        "mountPoints": [{"sourceVolume": "out", "containerPath": "/out"}],
                    },
                }
            ],
        },
    )
    started = time.monotonic()
    job_ids = [
        batch.submit_job(jobName=f"mnp-short-{n}", jobQueue=QUEUE, jobDefinition="mnp-docker-short")["jobId"]
        for n in range(20)
    ]
    parents = wait_until_ended(batch, job_ids, timeout_seconds=180)
    node_ids = [f"{job_id}#{n}" for job_id in job_ids for n in (0, 1)]
    nodes = wait_until_ended(batch, node_ids, timeout_seconds=60)
    print(f"twenty two-node Docker jobs finished in {time.monotonic() - started:.2f} s")

    assert [job["status"] for job in parents] == ["SUCCEEDED"] * 20
    outcomes = [(node["jobId"], node["status"], node["container"].get("exitCode")) for node in nodes]
    assert outcomes == [(node_id, "SUCCEEDED", 0) for node_id in node_ids]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(node_ids)


def wait_until_ended(batch, job_ids: list[str], timeout_seconds: float) -> list[dict]:
    """The jobs' details once every one of them is SUCCEEDED or FAILED."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        jobs = batch.describe_jobs(jobs=job_ids)["jobs"]
        if all(job["status"] in ("SUCCEEDED", "FAILED") for job in jobs):
            return jobs
        assert time.monotonic() < deadline, sorted(job["status"] for job in jobs)
        time.sleep(0.2)
