"""The overview page's model: compute environments with what they hold, job queues with their
jobs per status, scheduling policies with their shares' usage.

Everything comes from the Batch service: the Describe operations for the resources as a client
sees them, `ObservationQueries` for what no operation tells (counts, usage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.engine.engine import PlacedUsage
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch.provider import BatchProvider


@dataclass(frozen=True)
class EnvironmentRow:
    name: str
    arn: str
    kind: str  # MANAGED EC2, MANAGED FARGATE, UNMANAGED, ...
    state: str
    status: str
    status_reason: str
    max_vcpus: float | None
    usage: PlacedUsage


@dataclass(frozen=True)
class QueueRow:
    name: str
    arn: str
    priority: int
    state: str
    status: str
    environments: list[str]  # names, in `order` order
    counts: dict[str, int] | None  # None: a queue of service jobs
    policy_arn: str | None


@dataclass(frozen=True)
class ShareRow:
    identifier: str
    weight: float | None  # None: not in the policy's shareDistribution (default weight)
    usage_vcpus: float | None  # None: no fair-share queue uses the policy


@dataclass(frozen=True)
class PolicyRow:
    name: str
    arn: str
    decay_seconds: int
    compute_reservation: int
    queues: list[str]
    shares: list[ShareRow] = field(default_factory=list)


@dataclass(frozen=True)
class Overview:
    environments: list[EnvironmentRow]
    queues: list[QueueRow]
    policies: list[PolicyRow]
    host_gpus: int


def build_overview(batch: BatchProvider, ctx: RequestContext) -> Overview:
    usage = batch.placed_usage()
    environments = [
        _environment_row(document, usage.get(document["computeEnvironmentArn"], PlacedUsage()))
        for document in batch.describe_compute_environments(ctx)["computeEnvironments"]
    ]
    names = {row.arn: row.name for row in environments}
    queues = [_queue_row(batch, document, names) for document in batch.describe_job_queues(ctx)["jobQueues"]]
    return Overview(environments, queues, _policy_rows(batch, ctx, queues), batch.host_gpus())


def _environment_row(document: dict[str, Any], usage: PlacedUsage) -> EnvironmentRow:
    resources = document.get("computeResources") or {}
    kind = document.get("type", "")
    if resources.get("type"):
        kind = f"{kind} {resources['type']}"
    max_vcpus = resources.get("maxvCpus")
    return EnvironmentRow(
        name=document["computeEnvironmentName"],
        arn=document["computeEnvironmentArn"],
        kind=kind,
        state=document.get("state", ""),
        status=document.get("status", ""),
        status_reason=document.get("statusReason", ""),
        max_vcpus=float(max_vcpus) if max_vcpus is not None else None,
        usage=usage,
    )


def _queue_row(batch: BatchProvider, document: dict[str, Any], names: dict[str, str]) -> QueueRow:
    is_job_queue = "computeEnvironmentOrder" in document
    order = sorted(document.get("computeEnvironmentOrder") or [], key=lambda entry: entry.get("order", 0))
    return QueueRow(
        name=document["jobQueueName"],
        arn=document["jobQueueArn"],
        priority=document.get("priority", 0),
        state=document.get("state", ""),
        status=document.get("status", ""),
        environments=[names.get(entry["computeEnvironment"], entry["computeEnvironment"]) for entry in order],
        counts=batch.queue_job_counts(document["jobQueueArn"]) if is_job_queue else None,
        policy_arn=document.get("schedulingPolicyArn"),
    )


def _policy_rows(batch: BatchProvider, ctx: RequestContext, queues: list[QueueRow]) -> list[PolicyRow]:
    arns = [
        entry["arn"] for entry in batch.list_scheduling_policies(ctx, max_results=100)["schedulingPolicies"]
    ]
    if not arns:
        return []
    rows = []
    for document in batch.describe_scheduling_policies(ctx, arns=arns)["schedulingPolicies"]:
        users = [queue for queue in queues if queue.policy_arn == document["arn"]]
        rows.append(_policy_row(batch, document, users))
    return rows


def _policy_row(batch: BatchProvider, document: dict[str, Any], users: list[QueueRow]) -> PolicyRow:
    policy = document.get("fairsharePolicy") or {}
    weights = {
        entry["shareIdentifier"]: entry.get("weightFactor", 1.0)
        for entry in policy.get("shareDistribution") or []
    }
    usage: dict[str, float] = {}
    for queue in users:
        for share, vcpus in batch.share_usage(queue.arn).items():
            usage[share] = usage.get(share, 0.0) + vcpus
    identifiers = list(weights) + [share for share in usage if share not in weights]
    shares = [
        ShareRow(share, weights.get(share), usage.get(share, 0.0) if users else None) for share in identifiers
    ]
    return PolicyRow(
        name=document.get("name", ""),
        arn=document["arn"],
        decay_seconds=policy.get("shareDecaySeconds", 0),
        compute_reservation=policy.get("computeReservation", 0),
        queues=[queue.name for queue in users],
        shares=shares,
    )
