"""Multi-node parallel jobs whose node ranges run ECS or EKS tasks, through the provider on a real
engine with the simulated executor (reference §11, §18, §19): what SubmitJob accepts and refuses,
and what DescribeJobs shows for the parent and for each node, serialized against the model."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.executors.simulated import Outcome

from .conftest import EngineHarness

APP = {"name": "app", "image": "busybox", "command": ["sh", "-c", "serve"]}
SIDECAR = {
    "name": "sidecar",
    "image": "busybox",
    "essential": False,
    "command": ["sh", "-c", "watch"],
    "dependsOn": [{"containerName": "app", "condition": "START"}],
}


@pytest.fixture
def world() -> EngineHarness:
    harness = EngineHarness()
    harness.ec2_ce(
        "ce",
        eksConfiguration={
            "eksClusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/c",
            "kubernetesNamespace": "jobs",
        },
    )
    harness.settle()
    harness.queue("q", "ce")
    harness.settle()
    return harness


def register(world: EngineHarness, name: str, ranges: list[dict[str, Any]], num_nodes: int = 2) -> None:
    world.call(
        "RegisterJobDefinition",
        jobDefinitionName=name,
        type="multinode",
        nodeProperties={"numNodes": num_nodes, "mainNode": 0, "nodeRangeProperties": ranges},
    )


def ecs_range(target: str, *containers: dict[str, Any]) -> dict[str, Any]:
    return {"targetNodes": target, "ecsProperties": {"taskProperties": [{"containers": list(containers)}]}}


def run_worker_then_main(world: EngineHarness, job_id: str) -> None:
    """Node 1 ends first, then the main node: every node ends on its own, exit 0."""
    world.executor.script(f"{job_id}#1", Outcome(duration_ms=10))
    world.executor.script(f"{job_id}#0", Outcome(duration_ms=20))
    world.passes()
    for _ in range(2):
        world.clock.advance(10)
        world.passes()


def test_ecs_node_ranges_run_a_task_per_node_and_describe_like_ecs_jobs(world):
    register(world, "mnp-ecs", [ecs_range("0:", APP, SIDECAR)])
    job_id = world.call(
        "SubmitJob",
        jobName="mnp-ecs",
        jobQueue="q",
        jobDefinition="mnp-ecs",
        nodeOverrides={
            "nodePropertyOverrides": [
                {
                    "targetNodes": "0:",
                    "ecsPropertiesOverride": {
                        "taskProperties": [
                            {
                                "containers": [
                                    {"name": "app", "environment": [{"name": "PORT", "value": "80"}]}
                                ]
                            }
                        ]
                    },
                }
            ]
        },
    )["jobId"]
    run_worker_then_main(world, job_id)

    parent, main, worker = world.describe(job_id, f"{job_id}#0", f"{job_id}#1")
    assert (parent["status"], main["status"], worker["status"]) == ("SUCCEEDED",) * 3
    (echoed,) = parent["nodeProperties"]["nodeRangeProperties"]
    assert set(echoed) == {"targetNodes", "ecsProperties"}
    containers = echoed["ecsProperties"]["taskProperties"][0]["containers"]
    assert [c["name"] for c in containers] == ["app", "sidecar"]
    assert containers[0]["environment"] == [{"name": "PORT", "value": "80"}]
    assert containers[1]["essential"] is False
    assert "container" not in parent and "ecsProperties" not in parent
    parent_task = parent["attempts"][0]["taskProperties"][0]
    assert [(c["name"], c["exitCode"]) for c in parent_task["containers"]] == [("app", 0), ("sidecar", 0)]

    for index, node in enumerate((main, worker)):
        assert node["nodeDetails"] == {"nodeIndex": index, "isMainNode": index == 0}
        assert "container" not in node and "nodeProperties" not in node
        task = node["ecsProperties"]["taskProperties"][0]
        assert task["taskArn"].startswith("arn:aws:ecs:us-east-1:123456789012:task/")
        by_name = {c["name"]: c for c in task["containers"]}
        assert (by_name["app"]["exitCode"], by_name["sidecar"]["exitCode"]) == (0, 0)
        assert by_name["app"]["logStreamName"].startswith("mnp-ecs/app/")
        assert by_name["app"]["environment"] == [{"name": "PORT", "value": "80"}]
        (interface,) = by_name["sidecar"]["networkInterfaces"]
        assert interface["privateIpv4Address"].startswith("10.0.")
        attempt_task = node["attempts"][0]["taskProperties"][0]
        assert [c["name"] for c in attempt_task["containers"]] == ["app", "sidecar"]
        assert attempt_task["taskArn"] == task["taskArn"]


def test_eks_node_ranges_run_a_pod_per_node(world):
    pod = {
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
    }
    register(world, "mnp-eks", [{"targetNodes": "0:", "eksProperties": {"podProperties": pod}}])
    definition = world.call("DescribeJobDefinitions", jobDefinitionName="mnp-eks")["jobDefinitions"][0]
    assert definition["containerOrchestrationType"] == "EKS"
    job_id = world.call("SubmitJob", jobName="mnp-eks", jobQueue="q", jobDefinition="mnp-eks")["jobId"]
    run_worker_then_main(world, job_id)

    parent, main, worker = world.describe(job_id, f"{job_id}#0", f"{job_id}#1")
    assert parent["status"] == "SUCCEEDED"
    assert (
        parent["nodeProperties"]["nodeRangeProperties"][0]["eksProperties"]["podProperties"]["containers"][0][
            "name"
        ]
        == "main"
    )
    assert parent["attempts"] == [] and len(parent["eksAttempts"]) == 1
    for node in (main, worker):
        assert node["status"] == "SUCCEEDED"
        assert node["attempts"] == []
        (attempt,) = node["eksAttempts"]
        assert [(c["name"], c["exitCode"]) for c in attempt["containers"]] == [("main", 0)]
        assert [(c["name"], c["exitCode"]) for c in attempt["initContainers"]] == [("init", 0)]
        assert attempt["podNamespace"] == "jobs"
        assert attempt["eksClusterArn"] == "arn:aws:eks:us-east-1:123456789012:cluster/c"
        assert node["eksProperties"]["podProperties"]["podName"] == attempt["podName"]


def test_node_ranges_can_mix_containers_and_tasks(world):
    container = {
        "image": "busybox",
        "command": ["true"],
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
    }
    register(world, "mnp-mixed", [{"targetNodes": "0", "container": container}, ecs_range("1:", APP)])
    job_id = world.call("SubmitJob", jobName="mnp-mixed", jobQueue="q", jobDefinition="mnp-mixed")["jobId"]
    run_worker_then_main(world, job_id)
    parent, main, worker = world.describe(job_id, f"{job_id}#0", f"{job_id}#1")
    assert parent["status"] == "SUCCEEDED"
    assert parent["attempts"][0]["container"]["exitCode"] == 0  # the main node runs a container
    assert main["container"]["exitCode"] == 0 and "ecsProperties" not in main
    assert worker["ecsProperties"]["taskProperties"][0]["containers"][0]["exitCode"] == 0
    assert "container" not in worker


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param(
            {"containerOverrides": {"command": ["x"]}},
            "containerOverrides does not apply to node range 0:, which uses ecsProperties.",
            id="container-override-on-ecs-range",
        ),
        pytest.param(
            {
                "ecsPropertiesOverride": {
                    "taskProperties": [{"containers": [{"name": "nope", "command": ["x"]}]}]
                }
            },
            "Container override names ['nope'] do not match the job definition.",
            id="unknown-container-name",
        ),
    ],
)
def test_node_overrides_must_fit_the_ranges_task(world, override, message):
    register(world, "mnp-ecs", [ecs_range("0:", APP)])
    error = world.error(
        "SubmitJob",
        jobName="x",
        jobQueue="q",
        jobDefinition="mnp-ecs",
        nodeOverrides={"nodePropertyOverrides": [{"targetNodes": "0:", **override}]},
    )
    assert error.message == message


def test_a_node_range_must_say_what_it_runs(world):
    error = world.error(
        "RegisterJobDefinition",
        jobDefinitionName="mnp-both",
        type="multinode",
        nodeProperties={
            "numNodes": 1,
            "mainNode": 0,
            "nodeRangeProperties": [{**ecs_range("0", APP), "container": {"image": "busybox"}}],
        },
    )
    assert error.message == (
        "Exactly one of container, ecsProperties or eksProperties must be specified for each node range"
    )
