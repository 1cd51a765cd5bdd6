"""With --kube-context under another executor, only EKS compute environments run on the cluster:
an `eksProperties` job on an EKS compute environment becomes a pod in its namespace, while a
container job on an ordinary compute environment still runs as a local process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kit import assert_no_server_errors, create_queue, describe, log_lines, serving
from kube_mock import Outcome
from test_kubernetes_executor import EKS_CLUSTER, MANAGED, clients, wait_until_ended

from emulator.config import Settings
from emulator.testing.server import ServerThread


@pytest.fixture
def server(kube_api, kubelet, kubeconfig: Path) -> Iterator[ServerThread]:
    settings = Settings(
        executor="process",
        kube_context=f"{EKS_CLUSTER}=kmock",
        kubeconfig=str(kubeconfig),
        public_url="http://batch-emulator.test:8734",
        transition_seconds=0.0,
    )
    with serving(settings) as thread:
        yield thread
        assert_no_server_errors(thread)


def test_eks_compute_environments_run_pods_and_the_others_run_locally(server, kube_api, kubelet) -> None:
    batch, logs = clients(server)
    kubelet.outcomes["busybox"] = Outcome(output="from the cluster\n")
    batch.create_compute_environment(
        computeEnvironmentName="eks-ce",
        type="MANAGED",
        computeResources=MANAGED,
        eksConfiguration={"eksClusterArn": EKS_CLUSTER, "kubernetesNamespace": "batch-jobs"},
    )
    batch.create_job_queue(
        jobQueueName="eks-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "eks-ce"}],
    )
    batch.register_job_definition(
        jobDefinitionName="pod",
        type="container",
        eksProperties={
            "podProperties": {"containers": [{"name": "main", "image": "busybox", "command": ["true"]}]}
        },
    )
    create_queue(batch, "local-q", "local-ce")
    batch.register_job_definition(
        jobDefinitionName="local",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["echo", "from this host"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
        },
    )

    eks_job = wait_until_ended(
        batch, batch.submit_job(jobName="p", jobQueue="eks-q", jobDefinition="pod")["jobId"]
    )
    local_job = wait_until_ended(
        batch, batch.submit_job(jobName="l", jobQueue="local-q", jobDefinition="local")["jobId"]
    )

    assert eks_job["status"] == "SUCCEEDED", eks_job.get("statusReason")
    assert local_job["status"] == "SUCCEEDED", local_job.get("statusReason")
    [pod] = kube_api.created_pods()
    assert pod["metadata"]["namespace"] == "batch-jobs"
    assert pod["metadata"]["labels"]["batch.amazonaws.com/job-id"] == eks_job["jobId"]
    assert log_lines(logs, describe(batch, local_job["jobId"])) == ["from this host"]


def test_a_kubeconfig_that_cannot_be_loaded_stops_the_server_at_start_with_the_reason(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "no-such-kubeconfig"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--executor",
            "kubernetes",
            "--kubeconfig",
            str(missing),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 2
    assert f"cannot load kubeconfig context '(current)' from {missing}" in finished.stderr
