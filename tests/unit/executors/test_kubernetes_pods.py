"""The pod manifest of an attempt (pure): AWS Batch on EKS's names, labels and defaults, and how a
container job's settings become pod fields."""

from __future__ import annotations

import pytest

from emulator.engine.records import Mount, Volume
from emulator.executors.base import ExecutionRequest, LogTarget, TaskMember
from emulator.executors.kubernetes.placement import Placement
from emulator.executors.kubernetes.pods import cpu_quantity, label_value, pod_manifest, pod_name

LOG = LogTarget("123456789012", "us-east-1", "/aws/batch/job", "def/default/0123456789abcdef0123456789abcdef")


def request(**fields) -> ExecutionRequest:
    values = {
        "attempt_id": "job-1/1",
        "job_id": "job-1",
        "image": "busybox",
        "command": ("echo", "hi"),
        "environment": {"AWS_BATCH_JOB_ID": "job-1", "AWS_BATCH_CE_NAME": "ce"},
        "vcpus": 2.0,
        "memory_mib": 512,
        "log": LOG,
    }
    values.update(fields)
    return ExecutionRequest(**values)


def placement(**fields) -> Placement:
    values = {
        "compute_environment_arn": "arn:aws:batch:us-east-1:123456789012:compute-environment/ce",
        "compute_environment_name": "ce",
        "context": "",
        "namespace": "jobs",
        "task_id": "0123456789abcdef0123456789abcdef",
    }
    values.update(fields)
    return Placement(**values)


def manifest(req: ExecutionRequest, where: Placement | None = None) -> dict:
    return pod_manifest(
        req, where or placement(), name="aws-batch.x", own_labels={"own": "1"}, grace_seconds=30
    )


def test_pod_name_is_aws_batch_and_the_task_id_as_a_uuid() -> None:
    assert pod_name("0123456789abcdef0123456789abcdef") == "aws-batch.01234567-89ab-cdef-0123-456789abcdef"


@pytest.mark.parametrize(
    ("job_id", "expected"),
    [
        ("8f3c0d6e-aaaa-bbbb-cccc-0123456789ab", "8f3c0d6e-aaaa-bbbb-cccc-0123456789ab"),
        ("8f3c0d6e-aaaa-bbbb-cccc-0123456789ab:7", "8f3c0d6e-aaaa-bbbb-cccc-0123456789ab.7"),
        ("8f3c0d6e-aaaa-bbbb-cccc-0123456789ab#1", "8f3c0d6e-aaaa-bbbb-cccc-0123456789ab_1"),
        ("8f3c0d6e-aaaa-bbbb-cccc-0123456789ab:7/2", "8f3c0d6e-aaaa-bbbb-cccc-0123456789ab.7_2"),
    ],
    ids=["job", "array-child", "node", "attempt"],
)
def test_ids_become_valid_label_values(job_id: str, expected: str) -> None:
    assert label_value(job_id) == expected


@pytest.mark.parametrize(("vcpus", "quantity"), [(1, "1"), (4.0, "4"), (0.25, "250m"), (1.5, "1500m")])
def test_vcpus_become_cpu_quantities(vcpus: float, quantity: str) -> None:
    assert cpu_quantity(vcpus) == quantity


def test_container_job_gets_equal_requests_and_limits_and_gpus_as_nvidia_resource() -> None:
    pod = manifest(request(gpus=2))

    [container] = pod["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "512Mi", "nvidia.com/gpu": "2"},
    }
    assert container["env"] == [
        {"name": "AWS_BATCH_JOB_ID", "value": "job-1"},
        {"name": "AWS_BATCH_CE_NAME", "value": "ce"},
    ]
    assert pod["metadata"]["labels"]["batch.amazonaws.com/job-id"] == "job-1"
    assert pod["metadata"]["labels"]["own"] == "1"
    assert pod["metadata"]["annotations"]["batch-emulator/attempt-id"] == "job-1/1"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert "activeDeadlineSeconds" not in pod["spec"]


def test_a_timeout_becomes_the_pods_active_deadline_after_the_engines_own() -> None:
    pod = manifest(request(), placement(timeout_seconds=60))

    assert pod["spec"]["activeDeadlineSeconds"] > 60 + 30


def test_container_job_volumes_user_and_flags_become_pod_fields() -> None:
    pod = manifest(
        request(
            volumes=(Volume("Data Dir", "/srv/data"), Volume("scratch", None)),
            mounts=(Mount("Data Dir", "/data", read_only=True), Mount("scratch", "/tmp/work")),
            user="1000:2000",
            privileged=True,
            readonly_root_filesystem=True,
            entrypoint=("/bin/sh",),
        )
    )

    spec = pod["spec"]
    assert spec["volumes"] == [
        {"name": "data-dir-0", "hostPath": {"path": "/srv/data"}},
        {"name": "scratch-1", "emptyDir": {}},
    ]
    [container] = spec["containers"]
    assert container["volumeMounts"] == [
        {"name": "data-dir-0", "mountPath": "/data", "readOnly": True},
        {"name": "scratch-1", "mountPath": "/tmp/work", "readOnly": False},
    ]
    assert container["securityContext"] == {
        "privileged": True,
        "readOnlyRootFilesystem": True,
        "runAsUser": 1000,
        "runAsGroup": 2000,
    }
    assert (container["command"], container["args"]) == (["/bin/sh"], ["echo", "hi"])


def eks_request(*members: TaskMember) -> ExecutionRequest:
    return request(containers=members)


def test_an_eks_pod_without_host_network_gets_aws_defaults() -> None:
    pod = manifest(
        eks_request(TaskMember("main", request())),
        placement(pod_properties={"containers": [{"name": "main"}]}),
    )

    assert pod["spec"]["hostNetwork"] is True
    assert pod["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"


def test_an_eks_pod_keeps_init_containers_first_and_gpu_requests_become_limits() -> None:
    pod_properties = {
        "initContainers": [{"name": "setup"}],
        "containers": [{"name": "main", "resources": {"requests": {"cpu": "1", "nvidia.com/gpu": "1"}}}],
    }
    pod = manifest(
        eks_request(TaskMember("setup", request(), is_init=True), TaskMember("main", request())),
        placement(pod_properties=pod_properties),
    )

    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["setup"]
    [main] = pod["spec"]["containers"]
    assert main["resources"] == {
        "requests": {"cpu": "1", "nvidia.com/gpu": "1"},
        "limits": {"nvidia.com/gpu": "1"},
    }
