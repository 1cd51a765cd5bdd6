"""The Kubernetes executor against a real cluster: kind, k3d, minikube or EKS.

Run with KUBECONFIG naming a reachable cluster (its current context, or the one in
BATCH_EMULATOR_KUBE_CONTEXT) that can pull `busybox` (BATCH_EMULATOR_TEST_IMAGE to change it):

    kind create cluster && KUBECONFIG=~/.kube/config python -m pytest -m kubernetes tests/kubernetes

Without one they are skipped with the reason, under CI too: no cluster runs where CI runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from kit import create_queue, describe, eventually, log_lines, serving
from test_kubernetes_executor import clients, wait_until_ended

from emulator.config import Settings
from emulator.testing.server import ServerThread

pytestmark = pytest.mark.kubernetes

IMAGE = os.environ.get("BATCH_EMULATOR_TEST_IMAGE", "busybox:1.36")
CONTEXT = os.environ.get("BATCH_EMULATOR_KUBE_CONTEXT", "")
REQUIREMENTS = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}]


def reachable_cluster() -> str:
    """Why there is no cluster to test against; empty when there is one."""
    if not os.environ.get("KUBECONFIG"):
        return "KUBECONFIG does not name a cluster"
    try:
        from kubernetes import client, config

        api_client = config.new_client_from_config(context=CONTEXT or None)
        client.VersionApi(api_client).get_code(_request_timeout=5)
    except Exception as exc:  # no client, no context, no answer: all mean no cluster
        return f"the cluster in KUBECONFIG does not answer: {exc}"
    return ""


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    missing = reachable_cluster()
    if missing:
        pytest.skip(f"needs a real Kubernetes cluster: {missing}")
    settings = Settings(
        executor="kubernetes",
        kube_context=CONTEXT,
        public_url="http://batch-emulator.invalid:8734",
        min_timeout_seconds=5,
        stop_timeout_seconds=5,
        transition_seconds=0.0,
    )
    with serving(settings) as thread:
        batch, _ = clients(thread)
        create_queue(batch, "real-q", "real-ce")
        yield thread


def define(batch, name: str, image: str, command: list[str]) -> str:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={"image": image, "command": command, "resourceRequirements": REQUIREMENTS},
    )
    return name


def test_a_container_job_succeeds_on_the_cluster_with_its_log(server) -> None:
    batch, logs = clients(server)
    define(batch, "hello", IMAGE, ["sh", "-c", "echo hello from $AWS_BATCH_JOB_ID"])

    job_id = batch.submit_job(jobName="hello", jobQueue="real-q", jobDefinition="hello")["jobId"]
    job = wait_until_ended(batch, job_id, timeout_seconds=180)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    assert log_lines(logs, job) == [f"hello from {job_id}"]
    assert job["container"]["exitCode"] == 0


def test_an_image_the_cluster_cannot_pull_fails_with_cannot_pull_container_error(server) -> None:
    batch, _ = clients(server)
    define(batch, "missing", "registry.invalid/batch-emulator/missing:1", ["true"])

    job_id = batch.submit_job(jobName="missing", jobQueue="real-q", jobDefinition="missing")["jobId"]
    job = wait_until_ended(batch, job_id, timeout_seconds=180)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Task failed to start"
    assert job["container"]["reason"].startswith("CannotPullContainerError: ")


def test_terminate_job_deletes_the_pod_and_fails_the_job(server) -> None:
    batch, _ = clients(server)
    define(batch, "sleeper", IMAGE, ["sleep", "300"])
    job_id = batch.submit_job(jobName="sleeper", jobQueue="real-q", jobDefinition="sleeper")["jobId"]
    eventually(
        lambda: describe(batch, job_id)["status"] == "RUNNING", timeout_seconds=180, what="the pod to run"
    )

    batch.terminate_job(jobId=job_id, reason="Stopped by the test")
    job = wait_until_ended(batch, job_id, timeout_seconds=60)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Stopped by the test"
