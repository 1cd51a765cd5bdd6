"""Multi-node parallel jobs through boto3, with the nodes run as local processes (reference §11):
node jobs `<id>#<n>`, the main node first and the others once it runs, the MNP variables, the
worker reaching the main node over TCP at AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS (loopback
here), the parent following the main node, short nodes that all succeed however soon the main
node exits, ListJobs(multiNodeJobId) and node overrides."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from kit import create_queue

from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job

QUEUE = "mnp-q"
CE = "mnp-ce"

# Node 0 (main) listens and prints what it receives; the other nodes connect to the main node's
# address and send a greeting. Both exit 0, the worker first.
NODE_SCRIPT = r"""
import os, socket, sys, time
index = os.environ["AWS_BATCH_JOB_NODE_INDEX"]
main = os.environ["AWS_BATCH_JOB_MAIN_NODE_INDEX"]
port = int(os.environ["PORT"])
print("node", index, "of", os.environ["AWS_BATCH_JOB_NUM_NODES"], "job", os.environ["AWS_BATCH_JOB_ID"], flush=True)
if index == main:
    assert "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" not in os.environ
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(20)
    connection, _ = server.accept()
    received = b""
    while chunk := connection.recv(100):  # EOF only once the worker's process is gone
        received += chunk
    print("main got:", received.decode(), flush=True)
else:
    address = os.environ["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"]
    deadline = time.monotonic() + 20
    while True:
        try:
            connection = socket.create_connection((address, port), timeout=2)
            connection.sendall(f"hello from node {index}".encode())
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    print("worker sent to", address, flush=True)
    # The connection closes as the process ends, so the main node (which exits on EOF, stopping
    # the other nodes, §11) cannot see it close before this node has exited.
    os._exit(0)
"""


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def register_mnp(
    batch, name: str, command: list[str], *, num_nodes: int = 2, ranges: list[dict] | None = None
) -> None:
    container = {
        "image": "busybox",
        "command": command,
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
    }
    batch.register_job_definition(
        jobDefinitionName=name,
        type="multinode",
        nodeProperties={
            "numNodes": num_nodes,
            "mainNode": 0,
            "nodeRangeProperties": ranges or [{"targetNodes": "0:", "container": container}],
        },
    )


def log_lines(logs, detail: dict[str, Any]) -> list[str]:
    stream = detail["container"]["logStreamName"]
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)[
        "events"
    ]
    return [event["message"] for event in events]


def test_two_node_job_worker_reaches_main_node_over_tcp(batch, emulator: Emulator):
    port = free_port()
    register_mnp(batch, "mnp-tcp", [sys.executable, "-c", NODE_SCRIPT])
    started = time.monotonic()
    job_id = batch.submit_job(
        jobName="mnp-tcp",
        jobQueue=QUEUE,
        jobDefinition="mnp-tcp",
        nodeOverrides={
            "nodePropertyOverrides": [
                {
                    "targetNodes": "0:",
                    "containerOverrides": {"environment": [{"name": "PORT", "value": str(port)}]},
                }
            ]
        },
    )["jobId"]
    parent = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=60)
    print(f"two-node job finished in {time.monotonic() - started:.2f} s")

    assert parent["nodeProperties"]["numNodes"] == 2
    assert "container" not in parent
    assert parent["attempts"][0]["container"]["exitCode"] == 0
    main, worker = batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
    assert (main["status"], worker["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert main["nodeDetails"] == {"nodeIndex": 0, "isMainNode": True}
    assert worker["nodeDetails"] == {"nodeIndex": 1, "isMainNode": False}
    assert main["container"]["exitCode"] == worker["container"]["exitCode"] == 0
    assert main["container"]["networkInterfaces"][0]["privateIpv4Address"] == "127.0.0.1"
    assert worker["startedAt"] >= main["startedAt"]
    assert parent["startedAt"] == main["startedAt"]

    logs = emulator.client("logs")
    assert "main got: hello from node 1" in log_lines(logs, main)
    assert "worker sent to 127.0.0.1" in log_lines(logs, worker)
    assert f"node 1 of 2 job {job_id}#1" in log_lines(logs, worker)

    listed = batch.list_jobs(multiNodeJobId=job_id, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted(
        (s["jobId"], s["nodeProperties"]["nodeIndex"], s["nodeProperties"]["isMainNode"]) for s in listed
    ) == [
        (f"{job_id}#0", 0, True),
        (f"{job_id}#1", 1, False),
    ]
    by_queue = batch.list_jobs(jobQueue=QUEUE, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert [s["jobId"] for s in by_queue] == [job_id]


def test_main_node_exit_ends_the_job_and_stops_the_other_nodes(batch):
    script = (
        'if [ "$AWS_BATCH_JOB_NODE_INDEX" = "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then exit 3; fi; '
        "exec sleep 60"
    )
    register_mnp(batch, "mnp-main-fails", ["sh", "-c", script], num_nodes=3)
    job_id = batch.submit_job(jobName="mnp-main-fails", jobQueue=QUEUE, jobDefinition="mnp-main-fails")[
        "jobId"
    ]
    parent = wait_for_job(batch, job_id, "FAILED", timeout_seconds=30)
    assert parent["attempts"][-1]["container"]["exitCode"] == 3
    deadline = time.monotonic() + 20
    while True:
        nodes = batch.describe_jobs(jobs=[f"{job_id}#{n}" for n in range(3)])["jobs"]
        if all(node["status"] in ("SUCCEEDED", "FAILED") for node in nodes):
            break
        assert time.monotonic() < deadline, [node["status"] for node in nodes]
        time.sleep(0.05)
    assert [node["status"] for node in nodes] == ["FAILED", "FAILED", "FAILED"]


def wait_until_ended(batch, job_ids: list[str], timeout_seconds: float) -> list[dict[str, Any]]:
    """The jobs' details once every one of them is SUCCEEDED or FAILED."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        jobs = batch.describe_jobs(jobs=job_ids)["jobs"]
        if all(job["status"] in ("SUCCEEDED", "FAILED") for job in jobs):
            return jobs
        assert time.monotonic() < deadline, sorted(job["status"] for job in jobs)
        time.sleep(0.05)


def test_short_nodes_that_exit_zero_all_succeed_twenty_times_out_of_twenty(tmp_path):
    """The common first MNP job: every node writes a file and exits 0 at once. The main node is
    often done before the worker has started; the worker still runs to its own end (§11). Its own
    server: room for the twenty jobs at once, and a grace no loaded host can outlast (the default
    5 s is covered on a ManualClock)."""
    settings = {"executor": "process", "max_running": 40, "mnp_stop_grace_seconds": 60}
    with running_emulator(**settings) as emulator:
        batch = emulator.client("batch")
        create_queue(batch, QUEUE, CE)
        register_mnp(batch, "mnp-short", ["sh", "-c", f'echo done > "{tmp_path}/$AWS_BATCH_JOB_ID"'])
        job_ids = [
            batch.submit_job(jobName=f"mnp-short-{n}", jobQueue=QUEUE, jobDefinition="mnp-short")["jobId"]
            for n in range(20)
        ]
        parents = wait_until_ended(batch, job_ids, timeout_seconds=60)
        node_ids = [f"{job_id}#{n}" for job_id in job_ids for n in (0, 1)]
        nodes = wait_until_ended(batch, node_ids, timeout_seconds=60)

    assert [job["status"] for job in parents] == ["SUCCEEDED"] * 20
    outcomes = [(node["jobId"], node["status"], node["container"].get("exitCode")) for node in nodes]
    assert outcomes == [(node_id, "SUCCEEDED", 0) for node_id in node_ids]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(node_ids)


def test_node_override_targets_must_match_the_definition(batch):
    register_mnp(batch, "mnp-targets", ["true"])
    with pytest.raises(ClientError) as raised:
        batch.submit_job(
            jobName="x",
            jobQueue=QUEUE,
            jobDefinition="mnp-targets",
            nodeOverrides={"nodePropertyOverrides": [{"targetNodes": "0:0", "containerOverrides": {}}]},
        )
    assert raised.value.response["Error"]["Message"] == (
        "NodeOverride targets should match job definition. Non matching targets - 0:0"
    )


def test_node_ranges_give_each_node_its_own_container(batch, emulator: Emulator, tmp_path):
    # The main node waits until both workers have written their line: its exit stops them (§11).
    barrier = f"for i in $(seq 1 200); do [ $(ls {tmp_path} | wc -l) -ge 2 ] && break; sleep 0.05; done"

    def container(script: str) -> dict[str, Any]:
        return {
            "image": "busybox",
            "command": ["sh", "-c", script],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
        }

    register_mnp(
        batch,
        "mnp-ranges",
        [],
        num_nodes=3,
        ranges=[
            {"targetNodes": "0", "container": container(f"{barrier}; echo main $AWS_BATCH_JOB_NODE_INDEX")},
            {
                "targetNodes": "1:",
                "container": container(
                    f"echo worker $AWS_BATCH_JOB_NODE_INDEX; touch {tmp_path}/$AWS_BATCH_JOB_NODE_INDEX"
                ),
            },
        ],
    )
    job_id = batch.submit_job(jobName="mnp-ranges", jobQueue=QUEUE, jobDefinition="mnp-ranges")["jobId"]
    wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=30)
    deadline = time.monotonic() + 10
    while True:
        nodes = batch.describe_jobs(jobs=[f"{job_id}#{n}" for n in range(3)])["jobs"]
        if all(node["status"] in ("SUCCEEDED", "FAILED") for node in nodes) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [node["status"] for node in nodes] == ["SUCCEEDED"] * 3
    logs = emulator.client("logs")
    assert [log_lines(logs, node) for node in nodes] == [["main 0"], ["worker 1"], ["worker 2"]]


def test_two_node_job_with_ecs_tasks_runs_every_container_and_worker_reaches_main(batch, emulator: Emulator):
    """Each node runs the whole ECS task: a non-essential `sidecar` that reports the MNP variables,
    then (dependsOn SUCCESS) the essential `app`, which on the worker connects to the main node."""
    port = free_port()
    sidecar = (
        'echo "sidecar $AWS_BATCH_JOB_NODE_INDEX/$AWS_BATCH_JOB_NUM_NODES main $AWS_BATCH_JOB_MAIN_NODE_INDEX'
        ' at ${AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS:-none}"'
    )
    task = {
        "containers": [
            {
                "name": "app",
                "image": "busybox",
                "command": [sys.executable, "-c", NODE_SCRIPT],
                "dependsOn": [{"containerName": "sidecar", "condition": "SUCCESS"}],
            },
            {"name": "sidecar", "image": "busybox", "essential": False, "command": ["sh", "-c", sidecar]},
        ]
    }
    register_mnp(
        batch, "mnp-ecs", [], ranges=[{"targetNodes": "0:", "ecsProperties": {"taskProperties": [task]}}]
    )
    port_override = {"name": "app", "environment": [{"name": "PORT", "value": str(port)}]}
    job_id = batch.submit_job(
        jobName="mnp-ecs",
        jobQueue=QUEUE,
        jobDefinition="mnp-ecs",
        nodeOverrides={
            "nodePropertyOverrides": [
                {
                    "targetNodes": "0:",
                    "ecsPropertiesOverride": {"taskProperties": [{"containers": [port_override]}]},
                }
            ]
        },
    )["jobId"]
    parent = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=60)

    (echoed,) = parent["nodeProperties"]["nodeRangeProperties"]
    assert [c["name"] for c in echoed["ecsProperties"]["taskProperties"][0]["containers"]] == [
        "app",
        "sidecar",
    ]
    assert "container" not in parent
    parent_task = parent["attempts"][0]["taskProperties"][0]
    assert {c["name"]: c["exitCode"] for c in parent_task["containers"]} == {"app": 0, "sidecar": 0}

    deadline = time.monotonic() + 20
    while True:
        nodes = batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
        if all(node["status"] in ("SUCCEEDED", "FAILED") for node in nodes):
            break
        assert time.monotonic() < deadline, [node["status"] for node in nodes]
        time.sleep(0.05)
    main, worker = nodes
    assert (main["status"], worker["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert worker["nodeDetails"] == {"nodeIndex": 1, "isMainNode": False}
    logs = emulator.client("logs")
    lines = {}
    for node in (main, worker):
        assert "container" not in node
        containers = {c["name"]: c for c in node["ecsProperties"]["taskProperties"][0]["containers"]}
        assert (containers["app"]["exitCode"], containers["sidecar"]["exitCode"]) == (0, 0)
        assert containers["app"]["networkInterfaces"][0]["privateIpv4Address"] == "127.0.0.1"
        index = node["nodeDetails"]["nodeIndex"]
        for name, container in containers.items():
            events = logs.get_log_events(
                logGroupName="/aws/batch/job", logStreamName=container["logStreamName"], startFromHead=True
            )["events"]
            lines[(index, name)] = [event["message"] for event in events]
    assert lines[(0, "sidecar")] == ["sidecar 0/2 main 0 at none"]
    assert lines[(1, "sidecar")] == ["sidecar 1/2 main 0 at 127.0.0.1"]
    assert "main got: hello from node 1" in lines[(0, "app")]
    assert "worker sent to 127.0.0.1" in lines[(1, "app")]
    assert f"node 1 of 2 job {job_id}#1" in lines[(1, "app")]


def test_two_node_job_with_eks_pods_runs_init_containers_then_containers(batch, emulator: Emulator, tmp_path):
    # The main node's container waits for the worker's file, so every node ends on its own (§11).
    script = (
        'echo "pod $AWS_BATCH_JOB_NODE_INDEX/$AWS_BATCH_JOB_NUM_NODES"; '
        'if [ "$AWS_BATCH_JOB_NODE_INDEX" = "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then '
        f"for i in $(seq 1 200); do [ -f {tmp_path}/worker ] && exit 0; sleep 0.05; done; exit 1; "
        f"else touch {tmp_path}/worker; fi"
    )
    pod = {
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c"], "args": [script]}],
    }
    register_mnp(
        batch, "mnp-eks", [], ranges=[{"targetNodes": "0:", "eksProperties": {"podProperties": pod}}]
    )
    job_id = batch.submit_job(jobName="mnp-eks", jobQueue=QUEUE, jobDefinition="mnp-eks")["jobId"]
    parent = wait_for_job(batch, job_id, "SUCCEEDED", timeout_seconds=60)
    assert parent["attempts"] == []
    deadline = time.monotonic() + 20
    while True:
        nodes = batch.describe_jobs(jobs=[f"{job_id}#0", f"{job_id}#1"])["jobs"]
        if all(node["status"] in ("SUCCEEDED", "FAILED") for node in nodes):
            break
        assert time.monotonic() < deadline, [node["status"] for node in nodes]
        time.sleep(0.05)
    assert [node["status"] for node in nodes] == ["SUCCEEDED", "SUCCEEDED"]
    for node in nodes:
        (attempt,) = node["eksAttempts"]
        assert [(c["name"], c["exitCode"]) for c in attempt["initContainers"]] == [("init", 0)]
        assert [(c["name"], c["exitCode"]) for c in attempt["containers"]] == [("main", 0)]
        assert node["eksProperties"]["podProperties"]["podName"] == attempt["podName"]
