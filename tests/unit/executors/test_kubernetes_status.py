"""A pod's status read as executor updates (pure): phases, exit codes, AWS's reasons."""

from __future__ import annotations

from emulator.executors.base import ExecutionRequest, LogTarget, TaskMember, UpdateKind
from emulator.executors.kubernetes.clusters import ContextMap
from emulator.executors.kubernetes.status import OOM_REASON, ended, read_pod

LOG = LogTarget("123456789012", "us-east-1", "/aws/batch/job", "d/default/t")
REQUEST = ExecutionRequest("j/1", "j", "busybox", (), {}, 1.0, 64, LOG)


def pod(phase: str, *statuses: dict, **status) -> dict:
    return {
        "metadata": {"name": "aws-batch.x"},
        "spec": {"nodeName": "node-a"},
        "status": {"phase": phase, "containerStatuses": list(statuses), **status},
    }


def container(state: dict, name: str = "default") -> dict:
    return {"name": name, "state": state, "containerID": f"containerd://{name}"}


def waiting(reason: str, message: str = "") -> dict:
    return {"waiting": {"reason": reason, "message": message}}


def terminated(exit_code: int, reason: str = "Error") -> dict:
    return {"terminated": {"exitCode": exit_code, "reason": reason}}


def test_pending_while_containers_are_created_reports_nothing_yet() -> None:
    reading = read_pod(pod("Pending", container(waiting("ContainerCreating"))), REQUEST)

    assert (reading.is_running, reading.final) == (False, None)


def test_running_reports_its_address_and_node() -> None:
    reading = read_pod(pod("Running", container({"running": {}}), podIP="10.0.0.7"), REQUEST)

    assert (reading.is_running, reading.private_ipv4, reading.node_name) == (True, "10.0.0.7", "node-a")
    assert reading.started == (("default", False),)


def test_image_pull_errors_fail_to_start_with_cannot_pull_container_error() -> None:
    for reason in ("ErrImagePull", "ImagePullBackOff"):
        reading = read_pod(
            pod("Pending", container(waiting(reason, 'pulling image "x:1": not found'))), REQUEST
        )

        assert reading.final.kind is UpdateKind.FAILED_TO_START
        assert reading.final.reason == 'CannotPullContainerError: pulling image "x:1": not found'
        assert reading.needs_deletion


def test_failed_pod_takes_the_exit_code_and_oom_becomes_aws_reason() -> None:
    reading = read_pod(pod("Failed", container(terminated(137, "OOMKilled"))), REQUEST)

    assert (reading.final.kind, reading.final.exit_code, reading.final.reason) == (
        UpdateKind.EXITED,
        137,
        OOM_REASON,
    )


def test_succeeded_pod_exits_zero() -> None:
    reading = read_pod(pod("Succeeded", container(terminated(0, "Completed"))), REQUEST)

    assert (reading.final.exit_code, reading.final.reason) == (0, None)


def test_an_evicted_pod_whose_container_never_ran_failed_to_start() -> None:
    update = ended(pod("Failed", reason="Evicted", message="The node was low on memory."), REQUEST)

    assert update.kind is UpdateKind.FAILED_TO_START
    assert update.reason == "CannotStartContainerError: Evicted: The node was low on memory."


def test_a_pod_gone_before_it_ran_ends_without_an_exit_code() -> None:
    update = ended(None, REQUEST)

    assert (update.kind, update.exit_code) == (UpdateKind.EXITED, None)


def test_an_eks_pod_reports_every_container_in_task_order() -> None:
    task = ExecutionRequest(
        "j/1",
        "j",
        "",
        (),
        {},
        1.0,
        64,
        LOG,
        containers=(TaskMember("init", REQUEST, is_init=True), TaskMember("main", REQUEST)),
    )
    status = pod(
        "Failed",
        container(terminated(3), "main"),
        initContainerStatuses=[container(terminated(0, "Completed"), "init")],
    )

    update = ended(status, task)

    assert [(r.name, r.exit_code, r.is_init) for r in update.containers] == [
        ("init", 0, True),
        ("main", 3, False),
    ]


def test_kube_context_maps_clusters_by_arn_or_name_and_defaults_to_the_rest() -> None:
    contexts = ContextMap.parse("kind-dev, arn:aws:eks:us-east-1:1:cluster/prod=prod-ctx, gpu=gpu-ctx")

    assert contexts.context_for("arn:aws:eks:us-east-1:1:cluster/prod") == "prod-ctx"
    assert contexts.context_for("arn:aws:eks:eu-west-1:1:cluster/gpu") == "gpu-ctx"
    assert contexts.context_for("arn:aws:eks:us-east-1:1:cluster/other") == "kind-dev"
    assert contexts.context_for(None) == "kind-dev"
    assert ContextMap.parse("").context_for("x") == ""  # the kubeconfig's current context
