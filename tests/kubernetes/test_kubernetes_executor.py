"""The Kubernetes executor end to end: boto3 against the emulator, the emulator against kmock's
Kubernetes API server over HTTP with the official client, and a kubelet playing the node.

Each test checks what a user sees through the Batch and Logs APIs and what the cluster was asked
for: the pod manifests (labels, environment, resources, the pod properties of EKS jobs), how many
pods ran at once, and the pods deleted at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import kmock
import pytest
from botocore.config import Config
from kit import assert_no_server_errors, create_queue, describe, eventually, log_lines, serving
from kube_mock import Outcome, assert_aws_batch_pod, env_of

from emulator.config import Settings
from emulator.testing.server import ServerThread

PUBLIC_URL = "http://batch-emulator.test:8734"
MEMORY_256 = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "256"}]
EKS_CLUSTER = "arn:aws:eks:us-east-1:123456789012:cluster/batch"
MANAGED = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 4,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}


@pytest.fixture
def server(kube_api, kubelet, kubeconfig: Path) -> Iterator[ServerThread]:
    settings = Settings(
        executor="kubernetes",
        kubeconfig=str(kubeconfig),
        public_url=PUBLIC_URL,
        max_running=32,
        min_timeout_seconds=1,
        stop_timeout_seconds=2,
        transition_seconds=0.0,
        gpus=2,
    )
    with serving(settings) as thread:
        yield thread
        assert_no_server_errors(thread)


def clients(server: ServerThread):
    options: dict[str, Any] = {
        "endpoint_url": server.url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"max_attempts": 1}),
    }
    return boto3.client("batch", **options), boto3.client("logs", **options)


def wait_until_ended(batch, job_id: str, timeout_seconds: float = 30) -> dict[str, Any]:
    return eventually(
        lambda: (job := describe(batch, job_id))["status"] in ("SUCCEEDED", "FAILED") and job,
        timeout_seconds=timeout_seconds,
        what=f"job {job_id} to end",
    )


def container_definition(batch, name: str, command: list[str], requirements=MEMORY_256, **extra: Any) -> str:
    properties = {"image": "busybox", "command": command, "resourceRequirements": requirements}
    properties.update(extra.pop("container", {}))
    batch.register_job_definition(
        jobDefinitionName=name, type="container", containerProperties=properties, **extra
    )
    return name


def eks_queue(batch, *, max_vcpus: int = 4) -> str:
    batch.create_compute_environment(
        computeEnvironmentName="eks-ce",
        type="MANAGED",
        computeResources={**MANAGED, "maxvCpus": max_vcpus},
        eksConfiguration={"eksClusterArn": EKS_CLUSTER, "kubernetesNamespace": "batch-jobs"},
    )
    batch.create_job_queue(
        jobQueueName="eks-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "eks-ce"}],
    )
    return "eks-q"


def test_container_job_succeeds_with_its_log_and_the_documented_pod_shape(server, kube_api, kubelet) -> None:
    batch, logs = clients(server)
    kubelet.outcomes["busybox"] = Outcome(output="hello\nworld\n")
    create_queue(batch, "q", "ce")
    requirements = [*MEMORY_256, {"type": "GPU", "value": "1"}]
    container_definition(batch, "hello", ["echo", "hello"], requirements, container={"user": "1000"})

    job_id = batch.submit_job(jobName="hello", jobQueue="q", jobDefinition="hello")["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    assert job["container"]["exitCode"] == 0
    assert log_lines(logs, job) == ["hello", "world"]
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
    assert pod["metadata"]["namespace"] == "default"
    labels = pod["metadata"]["labels"]
    assert labels["batch.amazonaws.com/job-id"] == job_id
    assert {"batch.amazonaws.com/compute-environment-uuid", "batch.amazonaws.com/node-uid"} <= set(labels)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    [container] = spec["containers"]
    assert container["image"] == "busybox"
    assert container["args"] == ["echo", "hello"]
    assert "command" not in container  # the image's entrypoint stays, as ECS keeps it
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "256Mi", "nvidia.com/gpu": "1"},
    }
    assert container["securityContext"] == {"runAsUser": 1000}
    environment = env_of(pod)
    assert environment["AWS_BATCH_JOB_ID"] == job_id
    assert environment["AWS_BATCH_JOB_ATTEMPT"] == "1"
    assert environment["AWS_BATCH_JQ_NAME"] == "q"
    assert environment["AWS_BATCH_CE_NAME"] == "ce"
    assert environment["AWS_ENDPOINT_URL"] == PUBLIC_URL  # jobs call the emulator back at --public-url
    eventually(lambda: kube_api.pods() == [], what="the ended pod to be deleted")


def test_eks_job_runs_its_pod_properties_as_given_and_reports_pod_and_node(server, kube_api, kubelet) -> None:
    batch, _ = clients(server)
    queue = eks_queue(batch)
    pod_properties = {
        "serviceAccountName": "batch-runner",
        "hostNetwork": False,
        "dnsPolicy": "ClusterFirst",
        "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}],
        "metadata": {"labels": {"team": "data"}},
        "initContainers": [{"name": "fetch", "image": "busybox", "command": ["true"]}],
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "command": ["sh", "-c"],
                "args": ["echo done"],
                "env": [{"name": "GREETING", "value": "hi"}],
                "resources": {"limits": {"cpu": "1", "memory": "128Mi"}},
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                "securityContext": {"runAsUser": 1000, "readOnlyRootFilesystem": True},
            }
        ],
    }
    batch.register_job_definition(
        jobDefinitionName="pod", type="container", eksProperties={"podProperties": pod_properties}
    )

    job_id = batch.submit_job(jobName="pod", jobQueue=queue, jobDefinition="pod")["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
    assert pod["metadata"]["namespace"] == "batch-jobs"
    assert pod["metadata"]["labels"]["team"] == "data"
    assert pod["metadata"]["labels"]["batch.amazonaws.com/job-id"] == job_id
    spec = pod["spec"]
    assert (spec["serviceAccountName"], spec["hostNetwork"], spec["dnsPolicy"]) == (
        "batch-runner",
        False,
        "ClusterFirst",
    )
    assert spec["volumes"] == pod_properties["volumes"]
    assert [c["name"] for c in spec["initContainers"]] == ["fetch"]
    [main] = spec["containers"]
    assert (main["command"], main["args"]) == (["sh", "-c"], ["echo done"])
    assert main["resources"] == {"limits": {"cpu": "1", "memory": "128Mi"}}
    assert main["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"}]
    assert main["securityContext"] == {"runAsUser": 1000, "readOnlyRootFilesystem": True}
    environment = env_of(pod)
    assert environment["GREETING"] == "hi"
    assert (
        environment["AWS_BATCH_JOB_KUBERNETES_NODE_UID"]
        == pod["metadata"]["labels"]["batch.amazonaws.com/node-uid"]
    )
    [attempt] = job["eksAttempts"]
    assert attempt["podName"] == pod["metadata"]["name"]
    assert attempt["nodeName"] == "kind-worker"
    assert attempt["podNamespace"] == "batch-jobs"
    assert [(c["name"], c["exitCode"]) for c in attempt["containers"]] == [("main", 0)]
    assert [(c["name"], c["exitCode"]) for c in attempt["initContainers"]] == [("fetch", 0)]


def test_array_of_ten_succeeds_never_holding_more_pods_than_max_vcpus_allows(
    server, kube_api, kubelet
) -> None:
    batch, _ = clients(server)
    kubelet.outcomes["busybox"] = Outcome(run_seconds=0.2)
    batch.create_compute_environment(computeEnvironmentName="ce", type="MANAGED", computeResources=MANAGED)
    batch.create_job_queue(
        jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
    )
    one_vcpu = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}]
    container_definition(batch, "child", ["true"], one_vcpu)

    job_id = batch.submit_job(
        jobName="array", jobQueue="q", jobDefinition="child", arrayProperties={"size": 10}
    )["jobId"]
    job = wait_until_ended(batch, job_id, timeout_seconds=60)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    assert job["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 10
    created = kube_api.created_pods()
    for pod in created:
        assert_aws_batch_pod(pod, env_of(pod)["AWS_BATCH_JOB_ID"])
    assert sorted(env_of(pod)["AWS_BATCH_JOB_ARRAY_INDEX"] for pod in created) == sorted(
        str(i) for i in range(10)
    )
    assert {pod["metadata"]["labels"]["batch.amazonaws.com/job-id"] for pod in created} == {
        f"{job_id}.{index}"
        for index in range(10)  # `<id>:<index>` made a valid label value
    }
    assert 1 <= kubelet.max_running <= 4  # maxvCpus 4, one vCPU each


def test_two_node_parallel_job_succeeds_with_the_main_pod_address_on_the_other_node(
    server, kube_api, kubelet
) -> None:
    batch, _ = clients(server)
    create_queue(batch, "q", "ce")
    batch.register_job_definition(
        jobDefinitionName="mnp",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:1",
                    "container": {
                        "image": "busybox",
                        "command": ["true"],
                        "resourceRequirements": MEMORY_256,
                    },
                }
            ],
        },
    )

    job_id = batch.submit_job(jobName="mnp", jobQueue="q", jobDefinition="mnp")["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    main, other = sorted(kube_api.created_pods(), key=lambda pod: env_of(pod)["AWS_BATCH_JOB_NODE_INDEX"])
    assert_aws_batch_pod(main, f"{job_id}#0")
    assert_aws_batch_pod(other, f"{job_id}#1")
    assert env_of(main)["AWS_BATCH_JOB_NUM_NODES"] == "2"
    assert "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" not in env_of(main)
    assert env_of(other)["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"].startswith("10.244.0.")
    node_0 = describe(batch, f"{job_id}#0")
    assert node_0["status"] == "SUCCEEDED"


def deletions(kube_api) -> list[Any]:
    return kube_api.in_loop(lambda: list(kube_api.kmock[kmock.action.DELETE, kmock.resource("v1/pods")]))


def test_timeout_deletes_the_pod_with_its_grace_period_and_fails_the_job(server, kube_api, kubelet) -> None:
    batch, _ = clients(server)
    kubelet.outcomes["busybox"] = Outcome(hold=True)
    create_queue(batch, "q", "ce")
    container_definition(batch, "slow", ["sleep", "60"], retryStrategy={"attempts": 2})

    job_id = batch.submit_job(
        jobName="slow", jobQueue="q", jobDefinition="slow", timeout={"attemptDurationSeconds": 1}
    )["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(job["attempts"]) == 1  # a timeout is not retried
    assert job["attempts"][0]["container"]["exitCode"] == 143  # SIGTERM within the grace period
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
    assert pod["spec"]["terminationGracePeriodSeconds"] == 2  # --stop-timeout-seconds
    assert pod["spec"]["activeDeadlineSeconds"] >= 1
    first_delete = deletions(kube_api)[0]
    assert first_delete.params.get("gracePeriodSeconds") == "2"
    eventually(lambda: kube_api.pods() == [], what="the pod to be deleted")


def test_terminate_job_deletes_the_pod_and_fails_the_job_with_the_callers_reason(
    server, kube_api, kubelet
) -> None:
    batch, _ = clients(server)
    kubelet.outcomes["busybox"] = Outcome(hold=True)
    create_queue(batch, "q", "ce")
    container_definition(batch, "slow", ["sleep", "60"])
    job_id = batch.submit_job(jobName="slow", jobQueue="q", jobDefinition="slow")["jobId"]
    eventually(lambda: describe(batch, job_id)["status"] == "RUNNING", what="the job to run")

    batch.terminate_job(jobId=job_id, reason="Stopped by the test")
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Stopped by the test"
    assert job["attempts"][0]["container"]["exitCode"] == 143
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
    assert deletions(kube_api)[0].params.get("gracePeriodSeconds") == "2"
    eventually(lambda: kube_api.pods() == [], what="the pod to be deleted")


def test_an_image_that_cannot_be_pulled_fails_the_attempt_with_cannot_pull_container_error(
    server, kube_api, kubelet
) -> None:
    batch, _ = clients(server)
    kubelet.outcomes["registry.example/missing:1"] = Outcome(pull_error=True)
    create_queue(batch, "q", "ce")
    container_definition(batch, "missing", ["true"], container={"image": "registry.example/missing:1"})

    job_id = batch.submit_job(jobName="missing", jobQueue="q", jobDefinition="missing")["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Task failed to start"
    reason = job["container"]["reason"]
    assert reason.startswith("CannotPullContainerError: ")
    assert "registry.example/missing:1" in reason
    assert "exitCode" not in job["container"]
    assert "startedAt" not in job
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
    eventually(lambda: kube_api.pods() == [], what="the pod that cannot start to be deleted")


def test_an_oom_killed_container_ends_with_aws_out_of_memory_reason(server, kube_api, kubelet) -> None:
    batch, _ = clients(server)
    kubelet.outcomes["busybox"] = Outcome(oom=True)
    create_queue(batch, "q", "ce")
    container_definition(batch, "hungry", ["true"])

    job_id = batch.submit_job(jobName="h", jobQueue="q", jobDefinition="hungry")["jobId"]
    job = wait_until_ended(batch, job_id)

    assert job["status"] == "FAILED"
    assert job["container"]["exitCode"] == 137
    assert job["container"]["reason"] == "OutOfMemoryError: Container killed due to memory usage"
    [pod] = kube_api.created_pods()
    assert_aws_batch_pod(pod, job_id)
