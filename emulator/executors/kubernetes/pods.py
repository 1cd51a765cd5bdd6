"""The Pod manifest of one attempt, in the shape AWS Batch on EKS gives its pods (pure).

AWS Batch on EKS (user guide, "Amazon EKS jobs", "Map a running pod back to its job") names a job's
pod `aws-batch.<uuid>` and labels it `batch.amazonaws.com/job-id`,
`batch.amazonaws.com/compute-environment-uuid` and `batch.amazonaws.com/node-uid`; every container
gets the `AWS_BATCH_*` environment (here: the request's complete environment, in its order); the pod
never restarts a container (`restartPolicy: Never`: a retry is a new attempt, a new pod). An
`eksProperties` job's pod properties are used as given: init containers in order, volumes, service
account, `hostNetwork` (unset: `true` with `dnsPolicy: ClusterFirstWithHostNet`, as AWS
documents), `dnsPolicy`, image pull secrets, `shareProcessNamespace`, metadata labels and
annotations, and per container its resources, volume mounts, security context and pull policy.
A container job is translated: VCPU and MEMORY become equal requests and limits (a guaranteed pod,
as a container's hard limits are under Docker), GPU becomes `nvidia.com/gpu`, user, privileged and
read-only root become the security context, host-path and scratch volumes `hostPath` and
`emptyDir` volumes.

Label values may hold only letters, digits, `-`, `_` and `.` (63 at most), which array children
(`<id>:<index>`) and node jobs (`<id>#<node>`) are not; labels carry `label_value()` of the ids and
the annotations carry them exactly. Labels and annotations the emulator needs for itself (managed,
attempt, instance, state) come from the executor as `own_labels`.

Not translated: tmpfs, ulimits, devices, shared memory size, `--init`: Kubernetes has no pod field for
them (a cluster sets such things per node or runtime class).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from emulator.engine.records import Mount, Volume
from emulator.executors.base import ExecutionRequest, TaskMember
from emulator.executors.kubernetes.placement import Placement

POD_NAME_PREFIX = "aws-batch."
JOB_ID_LABEL = "batch.amazonaws.com/job-id"
COMPUTE_ENVIRONMENT_UUID_LABEL = "batch.amazonaws.com/compute-environment-uuid"
NODE_UID_LABEL = "batch.amazonaws.com/node-uid"
ATTEMPT_ANNOTATION = "batch-emulator/attempt-id"
CONTAINER_NAME = "default"  # a container job's one container, as AWS names an unnamed EKS container
GPU_RESOURCE = "nvidia.com/gpu"
NODE_UID_VARIABLE = "AWS_BATCH_JOB_KUBERNETES_NODE_UID"
# A pod's own deadline (activeDeadlineSeconds) counts from the pod's start, before its images are
# pulled; the attempt's timeout counts from RUNNING. The pod gets this much more, so that the
# engine's timeout (which deletes the pod with AWS's reason) always acts first, and the cluster's
# only ends pods whose emulator is gone.
DEADLINE_ALLOWANCE_SECONDS = 300
_LABEL_VALUE_MAX = 63
_POD_FIELDS = ("serviceAccountName", "dnsPolicy", "imagePullSecrets", "shareProcessNamespace", "volumes")
_CONTAINER_FIELDS = ("volumeMounts", "securityContext", "imagePullPolicy")


def pod_name(task_id: str) -> str:
    """`aws-batch.<uuid>`: the attempt's task id as a UUID, as DescribeJobs shows `podName`."""
    try:
        return f"{POD_NAME_PREFIX}{uuid.UUID(task_id)}"
    except ValueError:
        return f"{POD_NAME_PREFIX}{task_id.lower()}"


def label_value(text: str) -> str:
    """`text` as a valid label value: `:` becomes `.`, `#` and `/` become `_`, anything else not
    allowed becomes `-`; at most 63 characters, starting and ending with a letter or digit."""
    value = text.replace(":", ".").replace("#", "_").replace("/", "_")
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", value)[:_LABEL_VALUE_MAX]
    return value.strip("-_.")


def pod_manifest(
    request: ExecutionRequest,
    placement: Placement,
    *,
    name: str,
    own_labels: Mapping[str, str],
    grace_seconds: int,
) -> dict[str, Any]:
    pod_properties = placement.pod_properties
    metadata = pod_properties.get("metadata") or {}
    labels = {
        **(metadata.get("labels") or {}),
        JOB_ID_LABEL: label_value(request.job_id),
        COMPUTE_ENVIRONMENT_UUID_LABEL: str(
            uuid.uuid5(uuid.NAMESPACE_URL, placement.compute_environment_arn)
        ),
        NODE_UID_LABEL: request.environment.get(NODE_UID_VARIABLE)
        or str(uuid.uuid5(uuid.NAMESPACE_URL, placement.compute_environment_name or "batch-emulator")),
        **own_labels,
    }
    annotations = {
        **(metadata.get("annotations") or {}),
        **request.labels,
        ATTEMPT_ANNOTATION: request.attempt_id,
    }
    spec: dict[str, Any] = {"restartPolicy": "Never", "terminationGracePeriodSeconds": grace_seconds}
    if placement.timeout_seconds:
        spec["activeDeadlineSeconds"] = placement.timeout_seconds + grace_seconds + DEADLINE_ALLOWANCE_SECONDS
    if request.containers:
        spec.update(_task_spec(request.containers, pod_properties))
    else:
        spec.update(_container_job_spec(request))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": placement.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": spec,
    }


# ---- eksProperties: the pod properties as given --------------------------------------------


def _task_spec(members: tuple[TaskMember, ...], pod_properties: Mapping[str, Any]) -> dict[str, Any]:
    given = {
        (member_kind == "initContainers", container.get("name")): container
        for member_kind in ("initContainers", "containers")
        for container in pod_properties.get(member_kind) or []
    }
    spec: dict[str, Any] = {key: pod_properties[key] for key in _POD_FIELDS if key in pod_properties}
    host_network = pod_properties.get("hostNetwork")
    spec["hostNetwork"] = True if host_network is None else bool(host_network)
    if "dnsPolicy" not in spec and host_network is None:
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    init = [_member_container(m, given.get((True, m.name), {})) for m in members if m.is_init]
    if init:
        spec["initContainers"] = init
    spec["containers"] = [
        _member_container(m, given.get((False, m.name), {})) for m in members if not m.is_init
    ]
    return spec


def _member_container(member: TaskMember, given: Mapping[str, Any]) -> dict[str, Any]:
    container = _base_container(member.name, member.request)
    container.update({key: given[key] for key in _CONTAINER_FIELDS if key in given})
    resources = _given_resources(given.get("resources")) or _resources(member.request)
    if resources:
        container["resources"] = resources
    return container


def _given_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """As given; memory and GPUs named only in `requests` are also limits (Kubernetes needs an
    extended resource such as `nvidia.com/gpu` in `limits`, and memory gets its hard bound)."""
    if not resources:
        return {}
    requests = dict(resources.get("requests") or {})
    limits = dict(resources.get("limits") or {})
    for key in ("memory", GPU_RESOURCE):
        if key in requests and key not in limits:
            limits[key] = requests[key]
    return {part: values for part, values in (("requests", requests), ("limits", limits)) if values}


# ---- container jobs: translated --------------------------------------------------------------


def _container_job_spec(request: ExecutionRequest) -> dict[str, Any]:
    container = _base_container(CONTAINER_NAME, request)
    resources = _resources(request)
    if resources:
        container["resources"] = resources
    security = _security_context(request)
    if security:
        container["securityContext"] = security
    volumes, mounts = _volumes(request.volumes, request.mounts)
    if mounts:
        container["volumeMounts"] = mounts
    spec: dict[str, Any] = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    return spec


def _base_container(name: str, request: ExecutionRequest) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": request.image,
        "env": [{"name": key, "value": value} for key, value in request.environment.items()],
    }
    if request.entrypoint is not None:
        container["command"] = list(request.entrypoint)
    if request.command:
        container["args"] = list(request.command)
    return container


def _resources(request: ExecutionRequest) -> dict[str, Any]:
    amounts: dict[str, str] = {}
    if request.vcpus > 0:
        amounts["cpu"] = cpu_quantity(request.vcpus)
    if request.memory_mib > 0:
        amounts["memory"] = f"{request.memory_mib}Mi"
    limits = dict(amounts)
    if request.gpus > 0:
        limits[GPU_RESOURCE] = str(request.gpus)
    return {part: values for part, values in (("requests", amounts), ("limits", limits)) if values}


def cpu_quantity(vcpus: float) -> str:
    """1 -> "1", 0.25 -> "250m": whole CPUs plainly, anything else in millicores."""
    if float(vcpus).is_integer():
        return str(int(vcpus))
    return f"{round(vcpus * 1000)}m"


def _security_context(request: ExecutionRequest) -> dict[str, Any]:
    """A numeric user ("1000" or "1000:1000") becomes runAsUser/runAsGroup; a user name cannot be
    expressed in a pod and is left to the image."""
    context: dict[str, Any] = {}
    if request.privileged:
        context["privileged"] = True
    if request.readonly_root_filesystem:
        context["readOnlyRootFilesystem"] = True
    user, _, group = (request.user or "").partition(":")
    if user.isdigit():
        context["runAsUser"] = int(user)
        if group.isdigit():
            context["runAsGroup"] = int(group)
    return context


def _volumes(volumes: tuple[Volume, ...], mounts: tuple[Mount, ...]) -> tuple[list[dict], list[dict]]:
    names = {volume.name: _volume_name(volume.name, index) for index, volume in enumerate(volumes)}
    pod_volumes = [
        {"name": names[v.name], "hostPath": {"path": v.host_path}}
        if v.host_path is not None
        else {"name": names[v.name], "emptyDir": {}}
        for v in volumes
    ]
    container_mounts = [
        {"name": names[m.source_volume], "mountPath": m.container_path, "readOnly": m.read_only}
        for m in mounts
        if m.source_volume in names
    ]
    return pod_volumes, container_mounts


def _volume_name(name: str, index: int) -> str:
    """A DNS label (what Kubernetes requires of volume names), unique by the volume's index."""
    cleaned = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")[:50] or "volume"
    return f"{cleaned}-{index}"
