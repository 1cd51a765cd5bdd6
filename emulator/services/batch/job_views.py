"""Engine Job records -> DescribeJobs' JobDetail and ListJobs' JobSummary (wire shapes).

What appears when follows reference §6.5 and Appendix C: empty collections AWS always sends are
sent, optional members are omitted rather than null, and runtime container fields (`taskArn`,
`logStreamName`, `exitCode`, `reason`) mirror the current or last attempt.

Multi-container jobs (reference §6.4, §6.5, §18, §19): ECS-properties jobs show no `container`;
`ecsProperties.taskProperties[0]` and each attempt's `taskProperties` carry the task ARN and every
container's `exitCode`/`reason`/`logStreamName`. EKS-properties jobs show `attempts: []` and
`eksAttempts` (containers with `containerID`, `exitCode`, `reason`; pod and node names), and
`eksProperties.podProperties` with `podName`/`nodeName` and per-container results. Multi-node
parallel parents show the effective `nodeProperties` and no `container`; node jobs show
`nodeDetails` and their node's container, with `networkInterfaces` giving their private address.
A node of an `ecsProperties`/`eksProperties` range shows its task as a single-node job of that
kind does, each task container listing the node's network interface (awsvpc: one per task). The
parent's attempts take the shape of its main node's (`taskProperties`, or `eksAttempts`); the
reference is silent there.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from emulator.engine import multinode
from emulator.engine.records import Attempt, ContainerResult, Job, JobStatus, TaskSpec

ClusterName = Callable[[str], str]  # compute environment ARN -> ECS cluster name

ALL_STATUSES = [status.value for status in JobStatus]


def task_arn(job: Job, attempt: Attempt, cluster_name: ClusterName) -> str:
    return f"arn:aws:ecs:{job.region}:{job.account_id}:task/{cluster_name(attempt.compute_environment_arn)}/{attempt.task_id}"


def container_instance_arn(job: Job, attempt: Attempt, cluster_name: ClusterName) -> str:
    # One stable fake instance per compute environment: the emulator's host.
    instance = hashlib.md5(attempt.compute_environment_arn.encode()).hexdigest()  # noqa: S324 - an id, not security
    return (
        f"arn:aws:ecs:{job.region}:{job.account_id}:container-instance/"
        f"{cluster_name(attempt.compute_environment_arn)}/{instance}"
    )


def _network_interfaces(attempt: Attempt) -> list[dict[str, Any]]:
    if not attempt.private_ipv4:
        return []
    attachment = str(uuid.uuid5(uuid.NAMESPACE_OID, attempt.task_id))
    return [{"attachmentId": attachment, "privateIpv4Address": attempt.private_ipv4}]


def _attempt_container(job: Job, attempt: Attempt, cluster_name: ClusterName) -> dict[str, Any]:
    container: dict[str, Any] = {
        "containerInstanceArn": container_instance_arn(job, attempt, cluster_name),
        "taskArn": task_arn(job, attempt, cluster_name),
        "exitCode": attempt.exit_code,
        "reason": attempt.reason,
        "logStreamName": attempt.log_stream_name,
        "networkInterfaces": _network_interfaces(attempt),
    }
    return {k: v for k, v in container.items() if v is not None}


def _task_containers(job: Job, attempt: Attempt) -> list[dict[str, Any]]:
    interfaces = _node_interfaces(job, attempt)
    return [
        _without_none(
            {
                "name": result.name,
                "exitCode": result.exit_code,
                "reason": result.reason,
                "logStreamName": result.log_stream_name,
                "networkInterfaces": interfaces,
            }
        )
        for result in attempt.containers
    ]


def _node_interfaces(job: Job, attempt: Attempt) -> list[dict[str, Any]]:
    """A node's task containers share the node's one network interface; other tasks list none."""
    return _network_interfaces(attempt) if job.is_node else []


def _attempt_task(job: Job, attempt: Attempt, cluster_name: ClusterName) -> dict[str, Any]:
    return {
        "containerInstanceArn": container_instance_arn(job, attempt, cluster_name),
        "taskArn": task_arn(job, attempt, cluster_name),
        "containers": _task_containers(job, attempt),
    }


def _is_ecs_task(job: Job) -> bool:
    return job.task is not None and job.task.kind == "ecs"


def _is_eks(job: Job) -> bool:
    return job.task is not None and job.task.kind == "eks"


def _attempts_task(job: Job) -> TaskSpec | None:
    """The task each attempt of `job` ran: its own, or a multi-node parent's main node's."""
    return job.task if job.task is not None or not job.is_multinode_parent else multinode.main_node_task(job)


def _attempts_kind(job: Job) -> str | None:
    task = _attempts_task(job)
    return task.kind if task is not None else None


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def attempt_detail(job: Job, attempt: Attempt, cluster_name: ClusterName) -> dict[str, Any]:
    if _attempts_kind(job) == "ecs":
        return _without_none(
            {
                "taskProperties": [_attempt_task(job, attempt, cluster_name)],
                "startedAt": attempt.started_at_ms,
                "stoppedAt": attempt.stopped_at_ms,
                "statusReason": attempt.status_reason,
            }
        )
    detail = {
        "container": _attempt_container(job, attempt, cluster_name),
        "startedAt": attempt.started_at_ms,
        "stoppedAt": attempt.stopped_at_ms,
        "statusReason": attempt.status_reason,
    }
    return {k: v for k, v in detail.items() if v is not None}


def _latest_attempt(job: Job) -> Attempt | None:
    if job.current_attempt is not None:
        return job.current_attempt
    return job.attempts[-1] if job.attempts else None


def _array_properties(job: Job) -> dict[str, Any] | None:
    if job.array_index is not None:
        return {"index": job.array_index}
    if job.is_array_parent:
        summary = {status: 0 for status in ALL_STATUSES}
        summary.update(job.status_summary or {})
        return {
            "size": job.array_size,
            "statusSummary": summary,
            "statusSummaryLastUpdatedAt": job.status_summary_updated_at_ms,
        }
    return None


def _runtime_container(job: Job, cluster_name: ClusterName) -> dict[str, Any]:
    container = dict(job.detail.get("container") or {})
    container.setdefault("networkInterfaces", [])
    attempt = _latest_attempt(job)
    if attempt is not None and not job.is_array_parent:
        container.update(_attempt_container(job, attempt, cluster_name))
    return container


# ---- EKS (reference §19) ----


def pod_name(attempt: Attempt) -> str:
    try:
        return f"aws-batch.{uuid.UUID(attempt.task_id)}"
    except ValueError:
        return f"aws-batch.{attempt.task_id}"


def node_name(job: Job, attempt: Attempt) -> str:
    """The node the pod ran on when a Kubernetes cluster ran it, else an EC2-style name per CE."""
    if attempt.node_name:
        return attempt.node_name
    digest = hashlib.md5(attempt.compute_environment_arn.encode()).digest()  # noqa: S324 - a name
    return f"ip-192-168-{digest[0]}-{digest[1]}.{job.region}.compute.internal"


def _eks_container(result: ContainerResult) -> dict[str, Any]:
    return _without_none(
        {
            "name": result.name,
            "containerID": result.container_id,
            "exitCode": result.exit_code,
            "reason": result.reason,
        }
    )


def eks_attempt(job: Job, attempt: Attempt) -> dict[str, Any]:
    return _without_none(
        {
            "containers": [_eks_container(r) for r in attempt.containers if not r.is_init],
            "initContainers": [_eks_container(r) for r in attempt.containers if r.is_init],
            "eksClusterArn": job.detail.get("eksClusterArn"),
            "podName": pod_name(attempt),
            "podNamespace": task.pod_namespace if (task := _attempts_task(job)) else None,
            "nodeName": node_name(job, attempt),
            "startedAt": attempt.started_at_ms,
            "stoppedAt": attempt.stopped_at_ms,
            "statusReason": attempt.status_reason,
        }
    )


def _eks_properties(job: Job) -> dict[str, Any]:
    pod = dict((job.detail.get("eksProperties") or {}).get("podProperties") or {})
    attempt = _latest_attempt(job)
    if attempt is not None:
        results = {(r.is_init, r.name): r for r in attempt.containers}
        for member, is_init in (("containers", False), ("initContainers", True)):
            if member in pod:
                pod[member] = [
                    {
                        **c,
                        **_without_none(
                            {
                                "exitCode": results[(is_init, c["name"])].exit_code,
                                "reason": results[(is_init, c["name"])].reason,
                            }
                        ),
                    }
                    if (is_init, c.get("name")) in results
                    else c
                    for c in pod[member]
                ]
        pod["podName"] = pod_name(attempt)
        pod["nodeName"] = node_name(job, attempt)
    return {"podProperties": pod}


def _ecs_properties(job: Job, cluster_name: ClusterName) -> dict[str, Any]:
    task = dict(((job.detail.get("ecsProperties") or {}).get("taskProperties") or [{}])[0])
    attempt = _latest_attempt(job)
    if attempt is not None:
        results = {r.name: r for r in attempt.containers}
        interfaces = {"networkInterfaces": _node_interfaces(job, attempt)} if job.is_node else {}
        task["containers"] = [
            {
                **c,
                **interfaces,
                **_without_none(
                    {
                        "exitCode": results[c["name"]].exit_code,
                        "reason": results[c["name"]].reason,
                        "logStreamName": results[c["name"]].log_stream_name,
                    }
                ),
            }
            if c.get("name") in results
            else c
            for c in task.get("containers") or []
        ]
        task["taskArn"] = task_arn(job, attempt, cluster_name)
        task["containerInstanceArn"] = container_instance_arn(job, attempt, cluster_name)
    return {"taskProperties": [task]}


def _node_details(job: Job) -> dict[str, Any] | None:
    if not job.is_node:
        return None
    return {"nodeIndex": job.multinode.node_index, "isMainNode": job.multinode.is_main_node}


def _node_summary(job: Job) -> dict[str, Any] | None:
    if job.multinode is None:
        return None
    if job.is_node:
        return {
            "isMainNode": job.multinode.is_main_node,
            "numNodes": job.multinode.num_nodes,
            "nodeIndex": job.multinode.node_index,
        }
    return {"numNodes": job.multinode.num_nodes}


def job_detail(job: Job, tags: Mapping[str, str], cluster_name: ClusterName) -> dict[str, Any]:
    detail = job.detail
    result: dict[str, Any] = {
        "jobArn": job.arn,
        "jobName": job.name,
        "jobId": job.job_id,
        "jobQueue": job.queue_arn,
        "status": job.status.value,
        "shareIdentifier": job.share_identifier,
        "schedulingPriority": job.scheduling_priority,
        "attempts": []
        if _attempts_kind(job) == "eks"
        else [attempt_detail(job, a, cluster_name) for a in job.attempts],
        "statusReason": job.status_reason,
        "createdAt": job.created_at_ms,
        "retryStrategy": detail.get("retryStrategy"),
        "startedAt": job.started_at_ms,
        "stoppedAt": job.stopped_at_ms,
        "dependsOn": [_dependency(d) for d in job.depends_on],
        "jobDefinition": job.definition_arn,
        "parameters": dict(detail.get("parameters") or {}),
        "container": _runtime_container(job, cluster_name) if "container" in detail else None,
        "nodeProperties": detail.get("nodeProperties") if job.is_multinode_parent else None,
        "nodeDetails": _node_details(job),
        "ecsProperties": _ecs_properties(job, cluster_name) if _is_ecs_task(job) else None,
        "eksProperties": _eks_properties(job) if _is_eks(job) else None,
        "timeout": detail.get("timeout"),
        "arrayProperties": _array_properties(job),
        "tags": dict(tags),
        "propagateTags": detail.get("propagateTags"),
        "platformCapabilities": list(detail.get("platformCapabilities") or []),
        "eksAttempts": [eks_attempt(job, a) for a in job.attempts] if _attempts_kind(job) == "eks" else [],
        "consumableResourceProperties": detail.get("consumableResourceProperties") or None,
        "isCancelled": True if job.is_cancelled else None,
        "isTerminated": True if job.is_terminated else None,
    }
    return {k: v for k, v in result.items() if v is not None}


def _dependency(dependency) -> dict[str, Any]:
    result = {"jobId": dependency.job_id, "type": dependency.kind}
    return {k: v for k, v in result.items() if v is not None}


def job_summary(job: Job) -> dict[str, Any]:
    attempt = _latest_attempt(job)
    container = None
    if attempt is not None and job.status.is_terminal:
        container = {
            k: v
            for k, v in {"exitCode": attempt.exit_code, "reason": attempt.reason}.items()
            if v is not None
        }
    summary: dict[str, Any] = {
        "jobArn": job.arn,
        "jobId": job.job_id,
        "jobName": job.name,
        "createdAt": job.created_at_ms,
        "status": job.status.value,
        "statusReason": job.status_reason,
        "startedAt": job.started_at_ms,
        "stoppedAt": job.stopped_at_ms,
        "container": container or None,
        "arrayProperties": _array_properties(job),
        "nodeProperties": _node_summary(job),
        "jobDefinition": job.definition_arn,
        "shareIdentifier": job.share_identifier,
    }
    return {k: v for k, v in summary.items() if v is not None}
