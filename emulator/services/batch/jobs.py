"""Job operations of the Batch API: SubmitJob, DescribeJobs, ListJobs, CancelJob, TerminateJob
and GetJobQueueSnapshot.

Each method checks what AWS enforces beyond the model (reference §5.4, §7, §8), calls one engine
command or query, and shapes the answer with `job_views`. The engine owns every job; this module
holds no job state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from emulator.engine.engine import JobNotFoundError
from emulator.engine.records import Dependency, Job, JobStatus, JobSubmission
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import job_views, rules, submission
from emulator.services.batch.definitions import resolve_definition_for_submit
from emulator.services.batch.queues import resolve_queue
from emulator.services.batch.submission import client_error
from emulator.services.batch.tags import get_tags, set_tags
from emulator.services.batch.tokens import decode_token, encode_token

JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
MAX_SUBMIT_BYTES = 30 * 1024
MAX_DESCRIBE_JOBS = 100
MAX_DEPENDENCIES = 20
MIN_ARRAY_SIZE, MAX_ARRAY_SIZE = 2, 10_000
MAX_REASON_LENGTH = 1024
# The SubmitJob members that, with the definition, decide what a job runs and its `detail`.
WORKLOAD_MEMBERS = (
    "parameters",
    "containerOverrides",
    "nodeOverrides",
    "ecsPropertiesOverride",
    "eksPropertiesOverride",
    "retryStrategy",
    "timeout",
    "propagateTags",
    "consumableResourcePropertiesOverride",
)
MAX_REMEMBERED_WORKLOADS = 256
FAIR_SHARE_ONLY = (
    "Job with shareIdentifier or schedulingPriority can onlybe submitted to job queue with fair share "
    "scheduling policy."
)


class JobOperations:
    """Mixed into BatchProvider, which supplies `store`, `engine`, `settings` and `clock`."""

    # ---- SubmitJob -------------------------------------------------------------------------

    def submit_job(
        self,
        ctx: RequestContext,
        *,
        job_name: str,
        job_queue: str,
        job_definition: str,
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        array_properties: dict[str, Any] | None = None,
        depends_on: list[dict[str, Any]] | None = None,
        parameters: dict[str, str] | None = None,
        container_overrides: dict[str, Any] | None = None,
        node_overrides: dict[str, Any] | None = None,
        retry_strategy: dict[str, Any] | None = None,
        propagate_tags: bool | None = None,
        timeout: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        eks_properties_override: dict[str, Any] | None = None,
        ecs_properties_override: dict[str, Any] | None = None,
        consumable_resource_properties_override: dict[str, Any] | None = None,
    ):
        # The rules below read the request as sent on the wire, so keep its camelCase names.
        sent = {
            "shareIdentifier": share_identifier,
            "schedulingPriorityOverride": scheduling_priority_override,
            "arrayProperties": array_properties,
            "dependsOn": depends_on,
            "parameters": parameters,
            "containerOverrides": container_overrides,
            "nodeOverrides": node_overrides,
            "retryStrategy": retry_strategy,
            "propagateTags": propagate_tags,
            "timeout": timeout,
            "tags": tags,
            "eksPropertiesOverride": eks_properties_override,
            "ecsPropertiesOverride": ecs_properties_override,
            "consumableResourcePropertiesOverride": consumable_resource_properties_override,
        }
        request = {name: value for name, value in sent.items() if value is not None}
        size_kib = len(json.dumps({"jobName": job_name, **request}).encode()) / 1024
        if size_kib * 1024 > MAX_SUBMIT_BYTES:
            raise client_error(f"Job size must be less than 30 KiB, got {round(size_kib)} KiB", wrapped=True)
        if not JOB_NAME.fullmatch(job_name):
            raise client_error("Job name should match valid pattern", wrapped=True)
        queue = resolve_queue(self.store, ctx, job_queue)
        if queue is None:
            raise client_error(f"JobQueue {job_queue} not found.")
        if queue.get("state") != "ENABLED":
            raise client_error(f"JobQueue {queue['jobQueueName']} is not in ENABLED state.")
        if "computeEnvironmentOrder" not in queue:
            raise client_error(f"JobQueue {queue['jobQueueName']} runs service jobs; use SubmitServiceJob.")
        definition = resolve_definition_for_submit(self.store, ctx, job_definition)
        self._check_platform(queue, definition)
        self._check_fair_share(queue, request)
        self._check_limits(request)
        dependencies = self._dependencies(request, ctx)

        retry = request.get("retryStrategy") or definition.get("retryStrategy")
        timeout = request.get("timeout") or definition.get("timeout")
        tags = (
            {**(definition.get("tags") or {}), **(request.get("tags") or {})}
            if request.get("propagateTags", definition.get("propagateTags"))
            else dict(request.get("tags") or {})
        )
        priority = request.get("schedulingPriorityOverride", definition.get("schedulingPriority"))
        # The override replaces the definition's list (reference §20); unknown resources are refused.
        consumables = request.get("consumableResourcePropertiesOverride") or definition.get(
            "consumableResourceProperties"
        )
        claims = self.consumable_claims(ctx, consumables)
        workload = self._shared_workload(definition, request, queue, retry, timeout, consumables)
        job = self.engine.submit(
            JobSubmission(
                account_id=ctx.account_id,
                region=ctx.region,
                name=job_name,
                queue_arn=queue["jobQueueArn"],
                queue_name=queue["jobQueueName"],
                definition_arn=definition["jobDefinitionArn"],
                depends_on=dependencies,
                array_size=(request.get("arrayProperties") or {}).get("size"),
                timeout_seconds=(timeout or {}).get("attemptDurationSeconds"),
                share_identifier=request.get("shareIdentifier"),
                scheduling_priority=priority if request.get("shareIdentifier") else None,
                tags=tags,
                consumables=claims,
                **workload,
            )
        )
        if tags:
            set_tags(self.store, job.arn, tags)
        return {"jobArn": job.arn, "jobName": job.name, "jobId": job.job_id}

    def _shared_workload(
        self,
        definition: dict[str, Any],
        request: dict[str, Any],
        queue: dict[str, Any],
        retry: dict[str, Any] | None,
        timeout: dict[str, Any] | None,
        consumables: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """`_workload` and the retry policy, as JobSubmission members, built once and shared by
        every job submitted with the same definition revision (same document) and the same
        request members that shape them: 10,000 jobs from one definition hold one ContainerSpec
        and one `detail`, not 10,000 copies (records are immutable, views copy what they change).
        EKS jobs read the queue's compute environments, which can change: never shared."""
        if _uses_eks(definition):
            return self._build_workload(definition, request, queue, retry, timeout, consumables)
        shaping = [request.get(member) for member in WORKLOAD_MEMBERS]
        key = (definition["jobDefinitionArn"], json.dumps(shaping, sort_keys=True, separators=(",", ":")))
        remembered = self.__dict__.setdefault("_remembered_workloads", {})
        found = remembered.get(key)
        if found is not None and found[0] == definition:  # a reset may reuse the ARN for another document
            return found[1]
        workload = self._build_workload(definition, request, queue, retry, timeout, consumables)
        if len(remembered) >= MAX_REMEMBERED_WORKLOADS:
            remembered.clear()
        remembered[key] = (definition, workload)
        return workload

    def _build_workload(
        self,
        definition: dict[str, Any],
        request: dict[str, Any],
        queue: dict[str, Any],
        retry: dict[str, Any] | None,
        timeout: dict[str, Any] | None,
        consumables: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        parameters = submission.merged_parameters(definition, request.get("parameters"))
        common_detail = {
            "parameters": parameters,
            "retryStrategy": submission.echoed_retry_strategy(retry),
            "timeout": timeout,
            "propagateTags": request.get("propagateTags", definition.get("propagateTags")),
            "platformCapabilities": definition.get("platformCapabilities") or [],
            "consumableResourceProperties": consumables,
        }
        workload = self._workload(definition, request, parameters, queue, common_detail)
        submission.check_simulation_variables(
            workload["container"], workload.get("task"), workload.get("multinode")
        )
        return {**workload, "retry": submission.retry_policy(retry)}

    def _workload(
        self,
        definition: dict[str, Any],
        request: dict[str, Any],
        parameters: dict[str, str],
        queue: dict[str, Any],
        common_detail: dict[str, Any],
    ) -> dict[str, Any]:
        """What the job runs, as JobSubmission members: one container (`containerProperties`), a
        multi-container task (`ecsProperties`, `eksProperties`) or nodes (`multinode`), with the
        effective properties DescribeJobs echoes in `detail`."""
        name = definition["jobDefinitionName"]
        kind = (
            "multinode"
            if definition.get("type") == "multinode"
            else next(
                (k for k in ("containerProperties", "ecsProperties", "eksProperties") if k in definition),
                "containerProperties",
            )
        )
        allowed = {
            "multinode": "nodeOverrides",
            "containerProperties": "containerOverrides",
            "ecsProperties": "ecsPropertiesOverride",
            "eksProperties": "eksPropertiesOverride",
        }[kind]
        for member in (
            "containerOverrides",
            "nodeOverrides",
            "ecsPropertiesOverride",
            "eksPropertiesOverride",
        ):
            if member != allowed and request.get(member):
                raise client_error(f"{member} does not apply to a job definition with {kind}.")
        if kind == "multinode":
            eks = self._eks_configuration(queue) if _uses_eks(definition) else {}
            if eks.get("eksClusterArn"):
                common_detail = {**common_detail, "eksClusterArn": eks["eksClusterArn"]}
            node_properties, totals, effective = submission.multinode_spec(
                definition["nodeProperties"],
                request.get("nodeOverrides"),
                parameters,
                definition_name=name,
                node_detail=common_detail,
                pod_namespace=eks.get("kubernetesNamespace") or "default",
            )
            return {
                "container": totals,
                "multinode": node_properties,
                "detail": {**common_detail, "nodeProperties": effective},
            }
        if kind == "ecsProperties":
            task, totals, effective = submission.ecs_task(
                definition["ecsProperties"],
                request.get("ecsPropertiesOverride"),
                parameters,
                definition_name=name,
            )
            return {
                "container": totals,
                "task": task,
                "detail": {**common_detail, "ecsProperties": effective},
            }
        if kind == "eksProperties":
            eks = self._eks_configuration(queue)
            task, totals, effective = submission.eks_task(
                definition["eksProperties"],
                request.get("eksPropertiesOverride"),
                definition_name=name,
                namespace=eks.get("kubernetesNamespace") or "default",
            )
            detail = {**common_detail, "eksProperties": effective, "eksClusterArn": eks.get("eksClusterArn")}
            return {"container": totals, "task": task, "detail": detail}
        container = submission.effective_container(
            definition["containerProperties"], request.get("containerOverrides"), parameters
        )
        return {
            "container": submission.container_spec(container, definition_name=name),
            "detail": {**common_detail, "container": container},
        }

    def _eks_configuration(self, queue: dict[str, Any]) -> dict[str, Any]:
        """The first compute environment of the queue with an `eksConfiguration` (namespace, cluster);
        the emulator runs EKS pods on any compute environment."""
        for entry in queue.get("computeEnvironmentOrder") or []:
            environment = self.store.get("compute-environment", entry["computeEnvironment"]) or {}
            if environment.get("eksConfiguration"):
                return environment["eksConfiguration"]
        return {}

    def _check_platform(self, queue: dict[str, Any], definition: dict[str, Any]) -> None:
        capability = (definition.get("platformCapabilities") or ["EC2"])[0]
        kinds = set()
        for entry in queue.get("computeEnvironmentOrder") or []:
            environment = self.store.get("compute-environment", entry["computeEnvironment"]) or {}
            resource_type = (environment.get("computeResources") or {}).get("type", "EC2")
            kinds.add("FARGATE" if resource_type.startswith("FARGATE") else "EC2")
        if kinds and capability not in kinds:
            raise client_error(
                f"Job Queue is attached to Compute Environment that can not run Jobs with capability {capability}."
            )

    def _check_fair_share(self, queue: dict[str, Any], request: dict[str, Any]) -> None:
        asks_fair_share = "shareIdentifier" in request or "schedulingPriorityOverride" in request
        if not queue.get("schedulingPolicyArn"):
            if asks_fair_share:
                raise client_error(FAIR_SHARE_ONLY)
        elif "shareIdentifier" not in request:
            raise client_error("Job submitted to a fair share job queue must have a shareIdentifier.")

    def _check_limits(self, request: dict[str, Any]) -> None:
        size = (request.get("arrayProperties") or {}).get("size")
        if size is not None and not MIN_ARRAY_SIZE <= size <= MAX_ARRAY_SIZE:
            raise client_error(
                f"Array properties size must be between {MIN_ARRAY_SIZE} and {MAX_ARRAY_SIZE}.", wrapped=True
            )
        if len(request.get("dependsOn") or []) > MAX_DEPENDENCIES:
            raise client_error(f"A job can depend on at most {MAX_DEPENDENCIES} jobs.", wrapped=True)
        timeout = (request.get("timeout") or {}).get("attemptDurationSeconds")
        if timeout is not None and timeout < self.settings.min_timeout_seconds:
            raise client_error(
                f"Timeout attemptDurationSeconds must be at least {self.settings.min_timeout_seconds}.",
                wrapped=True,
            )
        # The same rules RegisterJobDefinition applies; override environments are checked where
        # overrides are merged (submission.effective_container).
        rules.check_retry_strategy(request.get("retryStrategy"))
        rules.check_tags(request.get("tags"))

    def _dependencies(self, request: dict[str, Any], ctx: RequestContext) -> tuple[Dependency, ...]:
        """An entry that names a job id is a dependency on that job whatever its type (§9):
        `{"jobId": X, "type": "SEQUENTIAL"}` is sent by public pipeline code, and N_TO_N and
        SEQUENTIAL only add a per-index meaning for array jobs. Only a SEQUENTIAL entry without
        a job id needs an array job, having nothing else to mean."""
        is_array = bool(request.get("arrayProperties"))
        result = []
        for entry in request.get("dependsOn") or []:
            kind = entry.get("type")
            job_id = entry.get("jobId")
            if kind == "SEQUENTIAL" and not job_id:
                if not is_array:
                    raise client_error("SEQUENTIAL dependencies are only valid for array jobs.", wrapped=True)
            else:
                other = self.engine.get_job(job_id) if job_id else None
                if other is None or other.account_id != ctx.account_id or other.region != ctx.region:
                    raise client_error(f"Dependent job ID {job_id} does not exist.", wrapped=True)
                if (
                    kind == "N_TO_N"
                    and is_array
                    and (not other.is_array_parent or other.array_size != request["arrayProperties"]["size"])
                ):
                    raise client_error(
                        "N_TO_N dependencies require both jobs to be array jobs of the same size.",
                        wrapped=True,
                    )
            result.append(Dependency(job_id=job_id, kind=kind))
        return tuple(result)

    # ---- DescribeJobs ------------------------------------------------------------------------

    def describe_jobs(self, ctx: RequestContext, *, jobs: list[str]):
        if len(jobs) > MAX_DESCRIBE_JOBS:
            raise client_error("Maximum number of jobs supported is  100 .", wrapped=True)
        found = [job for job in self.engine.get_jobs(jobs) if self._visible(job, ctx)]
        render = self.render_job_detail
        cluster_name = self._cluster_names()  # one lookup per compute environment, not per job
        return {"jobs": [render(job, cluster_name=cluster_name) for job in found]}

    @property
    def render_job_detail(self) -> JobDetailRenderer:
        """`render_job_detail(job)`: the JobDetail DescribeJobs shows for this record; state-change
        events carry the same, through the renderer's `capture` (events.py)."""
        return JobDetailRenderer(self)

    def _tags(self, job: Job) -> dict[str, str]:
        return get_tags(self.store, job.arn) if job.array_index is None else {}

    def _cluster_names(self) -> job_views.ClusterName:
        """`_cluster_name`, remembering each answer: for one answer's worth of jobs."""
        known: dict[str, str] = {}

        def cluster_name(compute_environment_arn: str) -> str:
            name = known.get(compute_environment_arn)
            if name is None:
                name = known[compute_environment_arn] = self._cluster_name(compute_environment_arn)
            return name

        return cluster_name

    def _cluster_name(self, compute_environment_arn: str) -> str:
        get_member = getattr(self.store, "get_member", None)  # the memory store: no document copy
        if get_member is not None:
            cluster = get_member("compute-environment", compute_environment_arn, "ecsClusterArn")
        else:
            environment = self.store.get("compute-environment", compute_environment_arn) or {}
            cluster = environment.get("ecsClusterArn", "")
        return (
            cluster.rsplit("/", 1)[-1]
            if cluster
            else "AWSBatch-" + compute_environment_arn.rsplit("/", 1)[-1]
        )

    @staticmethod
    def _visible(job: Job, ctx: RequestContext) -> bool:
        return job.account_id == ctx.account_id and job.region == ctx.region

    # ---- ListJobs ----------------------------------------------------------------------------

    def list_jobs(
        self,
        ctx: RequestContext,
        *,
        job_queue: str | None = None,
        array_job_id: str | None = None,
        multi_node_job_id: str | None = None,
        job_status: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
        filters: list[dict[str, Any]] | None = None,
    ):
        if sum(x is not None for x in (job_queue, array_job_id, multi_node_job_id)) != 1:
            raise client_error("You must specify exactly one of jobQueue, arrayJobId or multiNodeJobId.")
        if filters and len(filters) > 1:
            raise client_error("Only one filter can be specified.")
        page_limit = 100 if filters else 1000
        if max_results is not None and not 1 <= max_results <= page_limit:
            raise client_error(f"maxResults must be between 1 and {page_limit}.")
        job_filter = filters[0] if filters else None
        limit = max_results or page_limit
        if job_filter is None or job_filter.get("name") == "SHARE_IDENTIFIER":
            return self._list_page(
                ctx, job_queue, array_job_id, multi_node_job_id, job_status, job_filter, limit, next_token
            )
        jobs = self._listed(ctx, job_queue, array_job_id, multi_node_job_id)
        matches = _filter_predicate(job_filter)
        jobs = [job for job in jobs if matches(job)]
        jobs.sort(key=lambda job: (-job.created_at_ms, job.job_id))
        start = 0
        if next_token:
            after = _token_key(next_token)
            start = next(
                (i for i, job in enumerate(jobs) if (-job.created_at_ms, job.job_id) > after),
                len(jobs),
            )
        page = jobs[start : start + limit]
        result: dict[str, Any] = {"jobSummaryList": [job_views.job_summary(job) for job in page]}
        if start + limit < len(jobs):
            last = page[-1]
            result["nextToken"] = encode_token("ListJobs", [-last.created_at_ms, last.job_id])
        return result

    def _list_page(
        self,
        ctx: RequestContext,
        job_queue: str | None,
        array_job_id: str | None,
        multi_node_job_id: str | None,
        job_status: str | None,
        job_filter: dict[str, Any] | None,
        limit: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        """One status (RUNNING unless asked), optionally one share: a page read from the engine's
        creation-ordered indexes, so its cost does not grow with the jobs held (reference §8)."""
        where = _share_filter(job_filter.get("values") or []) if job_filter is not None else None
        source = self._list_source(ctx, job_queue, array_job_id, multi_node_job_id)
        after = None
        if next_token:
            negated_ms, job_id = _token_key(next_token)
            after = (-negated_ms, job_id)
        page: list[Job] = []
        if source is not None:
            page = self.engine.page_jobs(
                JobStatus(job_status) if job_status else JobStatus.RUNNING,
                **source,
                after=after,
                limit=limit + 1,
                where=where,
            )
        result: dict[str, Any] = {"jobSummaryList": [job_views.job_summary(job) for job in page[:limit]]}
        if len(page) > limit:
            last = page[limit - 1]
            result["nextToken"] = encode_token("ListJobs", [-last.created_at_ms, last.job_id])
        return result

    def _list_source(self, ctx, job_queue, array_job_id, multi_node_job_id) -> dict[str, str] | None:
        """The page_jobs argument naming what is listed; None when the parent is not the caller's."""
        if job_queue is not None:
            queue = resolve_queue(self.store, ctx, job_queue)
            if queue is None:
                raise client_error(f"JobQueue {job_queue} not found.")
            return {"queue_arn": queue["jobQueueArn"]}
        parent_id = array_job_id if array_job_id is not None else multi_node_job_id
        parent = self.engine.get_job(parent_id)
        if parent is None or not self._visible(parent, ctx):
            return None
        if array_job_id is not None:
            return {"array_job_id": array_job_id}
        return {"multi_node_job_id": multi_node_job_id}

    def _listed(self, ctx, job_queue, array_job_id, multi_node_job_id) -> list[Job]:
        if job_queue is not None:
            queue = resolve_queue(self.store, ctx, job_queue)
            if queue is None:
                raise client_error(f"JobQueue {job_queue} not found.")
            return self.engine.list_jobs(queue_arn=queue["jobQueueArn"])
        if array_job_id is not None:
            parent = self.engine.get_job(array_job_id)
            if parent is None or not self._visible(parent, ctx):
                return []
            return self.engine.list_jobs(array_job_id=array_job_id)
        parent = self.engine.get_job(multi_node_job_id)
        if parent is None or not self._visible(parent, ctx):
            return []
        return self.engine.list_jobs(multi_node_job_id=multi_node_job_id)

    # ---- CancelJob / TerminateJob --------------------------------------------------------------

    def cancel_job(self, ctx: RequestContext, *, job_id: str, reason: str):
        """Jobs already STARTING or RUNNING are left alone and the call still succeeds, as on AWS;
        terminate_job is the way to stop those. Unknown ids answer 200 as AWS did (§7)."""
        self._stop(ctx, job_id, reason, self.engine.request_cancel)
        return {}

    def terminate_job(self, ctx: RequestContext, *, job_id: str, reason: str):
        self._stop(ctx, job_id, reason, self.engine.request_terminate)
        return {}

    def _stop(self, ctx: RequestContext, job_id: str, reason: str, command) -> None:
        """An empty jobId or reason is refused although the model sets no minimum length: AWS
        answers both with a ClientException (observed against AWS by a moto contributor), while an unknown
        id gets 200 (§7). The wording is unverified."""
        for member, value in (("jobId", job_id), ("reason", reason)):
            if not value:
                raise client_error(f"{member} is required.", wrapped=True)
        if len(reason) > MAX_REASON_LENGTH:
            raise client_error(f"Reason must be at most {MAX_REASON_LENGTH} characters.", wrapped=True)
        job = self.engine.get_job(job_id)
        if job is None or not self._visible(job, ctx):
            return
        try:
            command(job_id, reason)
        except JobNotFoundError:
            return

    # ---- GetJobQueueSnapshot ---------------------------------------------------------------

    def get_job_queue_snapshot(self, ctx: RequestContext, *, job_queue: str):
        queue = resolve_queue(self.store, ctx, job_queue)
        if queue is None:
            raise client_error(f"JobQueue {job_queue} not found.")
        now = self.clock.now_ms()
        front = self.engine.queue_front(queue["jobQueueArn"], limit=100)
        return {
            "frontOfQueue": {
                "jobs": [
                    {"jobArn": job.arn, "earliestTimeAtPosition": job.runnable_at_ms or job.created_at_ms}
                    for job in front
                ],
                "lastUpdatedAt": now,
            }
        }


class JobDetailRenderer:
    """Renders a job's JobDetail now (`renderer(job)`) or later (`renderer.capture(job)()`).

    Besides the immutable record a JobDetail reads two things that can change: the job's tags and
    the ECS cluster names of its attempts' compute environments. `capture` reads those now and
    returns a renderer holding them and the record, so a state-change event rendered when it is
    read shows what DescribeJobs showed at the change, without rendering it then."""

    __slots__ = ("_operations",)

    def __init__(self, operations: JobOperations) -> None:
        self._operations = operations

    def __call__(self, job: Job, *, cluster_name: job_views.ClusterName | None = None) -> dict[str, Any]:
        operations = self._operations
        return job_views.job_detail(job, operations._tags(job), cluster_name or operations._cluster_name)

    def capture(self, job: Job) -> CapturedDetail:
        operations = self._operations
        tags = operations._tags(job) or _EMPTY
        attempts = job.attempts if job.current_attempt is None else (*job.attempts, job.current_attempt)
        names = (
            {a.compute_environment_arn: operations._cluster_name(a.compute_environment_arn) for a in attempts}
            if attempts
            else _EMPTY
        )
        return CapturedDetail(job, tags, names)


class CapturedDetail:
    """A job's JobDetail with its tags and cluster names as they were when captured."""

    __slots__ = ("job", "tags", "cluster_names")

    def __init__(self, job: Job, tags: Mapping[str, str], cluster_names: Mapping[str, str]) -> None:
        self.job = job
        self.tags = tags
        self.cluster_names = cluster_names

    def __call__(self) -> dict[str, Any]:
        return job_views.job_detail(self.job, self.tags, self.cluster_names.__getitem__)


_EMPTY: Mapping[str, str] = MappingProxyType({})


def _uses_eks(definition: dict[str, Any]) -> bool:
    """An EKS job definition, or a multi-node one with an `eksProperties` node range."""
    ranges = (definition.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    return "eksProperties" in definition or any("eksProperties" in node_range for node_range in ranges)


def _share_filter(values: list[str]) -> Callable[[Job], bool]:
    """The SHARE_IDENTIFIER filter (reference §8)."""

    def matches(job: Job) -> bool:
        return job.share_identifier in values

    return matches


def _token_key(next_token: str) -> tuple[int, str]:
    """The (-created_at_ms, job_id) key of the last job of the previous page."""
    after = decode_token("ListJobs", next_token)
    if not (isinstance(after, list) and len(after) == 2 and type(after[0]) is int and type(after[1]) is str):
        raise client_error("Invalid nextToken", wrapped=True)  # as decode_token words it
    return after[0], after[1]


def _filter_predicate(job_filter: dict[str, Any]) -> Callable[[Job], bool]:
    """A ListJobs filter (reference §8) as a test of one job; its values are read once, here, so a
    bad value is refused whether or not any job is listed."""
    name = job_filter.get("name")
    values = job_filter.get("values") or []
    if name == "JOB_NAME":
        return lambda job: any(_prefix_or_equal(job.name.lower(), v.lower()) for v in values)
    if name == "JOB_DEFINITION":
        return lambda job: any(_definition_matches(job.definition_arn, v) for v in values)
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT"):
        bounds = [rules.read_epoch_ms(name, value) for value in values]
        if name == "BEFORE_CREATED_AT":
            return lambda job: all(job.created_at_ms < bound for bound in bounds)
        return lambda job: all(job.created_at_ms > bound for bound in bounds)
    if name == "SHARE_IDENTIFIER":
        return _share_filter(values)
    raise client_error(
        f"Filter name {name} is not valid; use JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT, AFTER_CREATED_AT "
        "or SHARE_IDENTIFIER."
    )


def _prefix_or_equal(text: str, pattern: str) -> bool:
    return text.startswith(pattern[:-1]) if pattern.endswith("*") else text == pattern


def _definition_matches(definition_arn: str, value: str) -> bool:
    if value.startswith("arn:"):
        return definition_arn == value
    name_and_revision = definition_arn.split(":job-definition/", 1)[-1]
    name = name_and_revision.rsplit(":", 1)[0]
    if ":" in value:
        return name_and_revision == value
    return _prefix_or_equal(name, value)
