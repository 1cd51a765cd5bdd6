"""Where and how an attempt's pod runs: what the engine's records and the compute environment say.

An `ExecutionRequest` carries what any executor needs (image, command, environment, limits); a pod
needs a few things more that only the job and its compute environment hold: the cluster
(`eksConfiguration.eksClusterArn`), the namespace (`kubernetesNamespace`), the pod properties of an
`eksProperties` job as DescribeJobs echoes them (volumes, service account, host network, DNS
policy, security contexts...) and the attempt's timeout. They are read here, never changed: the job
through the engine's `get_job` (bound once the engine exists), the compute environment from the
resource store the Batch service keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.engine.records import EMPTY_MAPPING, Job
from emulator.executors.base import ExecutionRequest
from emulator.executors.kubernetes.clusters import ContextMap
from emulator.stores.resources import ResourceStore

logger = logging.getLogger(__name__)

COMPUTE_ENVIRONMENT_KIND = "compute-environment"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class Placement:
    compute_environment_arn: str
    compute_environment_name: str
    context: str  # the kubeconfig context ("" for the current one)
    namespace: str
    task_id: str  # the attempt's task id, which names its pod
    cluster_arn: str | None = None
    is_eks_environment: bool = False
    # `eksProperties.podProperties` after overrides, wire-shaped; empty for container jobs.
    pod_properties: Mapping[str, Any] = field(default_factory=lambda: EMPTY_MAPPING)
    timeout_seconds: int | None = None


class Placements:
    def __init__(self, resources: ResourceStore, contexts: ContextMap) -> None:
        self._resources = resources
        self._contexts = contexts
        self._job_of: Callable[[str], Job | None] | None = None

    def read_jobs_from(self, job_of: Callable[[str], Job | None]) -> None:
        """Bind the engine's job lookup (`Engine.get_job`); the engine is built after its executor."""
        self._job_of = job_of

    def of(self, request: ExecutionRequest) -> Placement:
        job = self._job_of(request.job_id) if self._job_of is not None else None
        environment_arn = _environment_arn(request, job)
        document = self._resources.get(COMPUTE_ENVIRONMENT_KIND, environment_arn) or {}
        eks = document.get("eksConfiguration") or {}
        cluster_arn = eks.get("eksClusterArn")
        detail = job.detail if job is not None else EMPTY_MAPPING
        pod = (detail.get("eksProperties") or {}).get("podProperties") or EMPTY_MAPPING
        return Placement(
            compute_environment_arn=environment_arn,
            compute_environment_name=document.get("computeEnvironmentName")
            or environment_arn.rpartition("/")[2],
            context=self._contexts.context_for(cluster_arn),
            namespace=eks.get("kubernetesNamespace") or DEFAULT_NAMESPACE,
            task_id=_task_id(request, job),
            cluster_arn=cluster_arn,
            is_eks_environment=bool(eks),
            pod_properties=pod,
            timeout_seconds=job.timeout_seconds if job is not None else None,
        )

    def namespaces(self) -> list[tuple[str, str]]:
        """(context, namespace) of every EKS compute environment, and the default context's
        `default` namespace (where the pods of other compute environments go)."""
        found = {(self._contexts.default, DEFAULT_NAMESPACE)}
        for document in self._resources.list(COMPUTE_ENVIRONMENT_KIND):
            eks = document.get("eksConfiguration") or {}
            if eks:
                context = self._contexts.context_for(eks.get("eksClusterArn"))
                found.add((context, eks.get("kubernetesNamespace") or DEFAULT_NAMESPACE))
        return sorted(found)

    def is_eks_environment(self, request: ExecutionRequest) -> bool:
        return self.of(request).is_eks_environment


def _environment_arn(request: ExecutionRequest, job: Job | None) -> str:
    """The compute environment the engine placed the attempt on; without the job (an executor used
    on its own, in tests), the one `AWS_BATCH_CE_NAME` names in the request's account and region."""
    if job is not None and job.current_attempt is not None:
        return job.current_attempt.compute_environment_arn
    name = request.environment.get("AWS_BATCH_CE_NAME", "")
    target = request.log
    return f"arn:aws:batch:{target.region}:{target.account_id}:compute-environment/{name}"


def _task_id(request: ExecutionRequest, job: Job | None) -> str:
    """The attempt's task id; without the job, the last part of its log stream name, which the
    engine ends with the task id (`<prefix>/<container>/<task id>`)."""
    if job is not None and job.current_attempt is not None:
        return job.current_attempt.task_id
    target = request.containers[0].request.log if request.containers else request.log
    return target.stream.rpartition("/")[2]
