"""The job page's model: one job as DescribeJobs shows it, plus what the console shows besides:
its status timeline, every attempt (the one in flight included) with its host and containers, the
definition it was submitted against and what differed from it, its dependencies in both
directions, an array's children, a multi-node job's nodes, and the log streams it wrote.

The record comes from `BatchProvider.job_record`, the wire detail from `describe_jobs`; neither
is kept: every request reads them afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.dashboard.errors import not_found
from emulator.dashboard.joblist import JobRow, job_row
from emulator.engine.records import Attempt, ContainerResult, Job
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import job_views
from emulator.services.batch.provider import BatchProvider

# Container members a submit can change (containerOverrides, parameter substitution in `command`).
OVERRIDABLE = ("command", "environment", "resourceRequirements", "vcpus", "memory", "instanceType")


@dataclass(frozen=True)
class ContainerRun:
    name: str
    exit_code: int | None
    reason: str
    log_stream: str
    container_id: str
    is_init: bool


@dataclass(frozen=True)
class AttemptRow:
    number: int
    is_current: bool
    environment_arn: str
    task_arn: str
    host: str  # the container instance ARN, or an EKS node name
    started_at_ms: int | None
    stopped_at_ms: int | None
    exit_code: int | None
    reason: str
    status_reason: str
    log_stream: str
    containers: list[ContainerRun]


@dataclass(frozen=True)
class ContainerConfig:
    """What one container was told to run, from the wire detail (overrides applied)."""

    label: str
    image: str
    command: list[str]
    args: list[str]
    environment: list[Mapping[str, Any]]
    secrets: list[Mapping[str, Any]]
    resources: str


@dataclass(frozen=True)
class LogSource:
    label: str
    group: str
    stream: str


@dataclass(frozen=True)
class LinkedJob:
    job_id: str
    name: str
    status: str
    kind: str  # the dependency type: "", N_TO_N, SEQUENTIAL


@dataclass(frozen=True)
class JobView:
    job: Job
    detail: dict[str, Any]
    timeline: list[tuple[str, int, int | None]]  # status, at, ms since the previous one
    attempts: list[AttemptRow]
    containers: list[ContainerConfig]
    definition: dict[str, Any] | None
    changed: list[tuple[str, Any, Any]]  # member, the definition's value, the value in force
    depends_on: list[LinkedJob]
    dependents: list[LinkedJob]
    nodes: list[JobRow]
    log_sources: list[LogSource]
    now_ms: int

    @property
    def is_terminal(self) -> bool:
        return self.job.status.is_terminal

    @property
    def parent_id(self) -> str | None:
        """The array parent of a child, or the multi-node job of a node."""
        if self.job.parent_job_id is not None:
            return self.job.parent_job_id
        return self.job.job_id.rpartition("#")[0] if self.job.is_node else None


def build_job_view(
    batch: BatchProvider, ctx: RequestContext, job_id: str, *, live_part_only: bool = False
) -> JobView:
    """`live_part_only`: what the polled fragment shows, without the definition (a Describe of
    every revision's document) and the configuration, which do not change while a job runs."""
    job = batch.job_record(ctx, job_id)
    if job is None:
        raise not_found(f"Job {job_id} does not exist in account {ctx.account_id}, region {ctx.region}.")
    detail = batch.describe_jobs(ctx, jobs=[job_id])["jobs"][0]
    definition = None if live_part_only else _definition(batch, ctx, job.definition_arn)
    return JobView(
        job=job,
        detail=detail,
        timeline=_timeline(job),
        attempts=attempt_rows(batch, job),
        containers=[] if live_part_only else container_configs(detail),
        definition=definition,
        changed=_changed(definition, detail),
        depends_on=_depends_on(batch, ctx, job),
        dependents=[_linked(other, "") for other in batch.job_dependents(ctx, job_id)],
        nodes=[job_row(node) for node in batch.multinode_nodes(ctx, job_id)]
        if job.is_multinode_parent
        else [],
        log_sources=log_sources(job),
        now_ms=batch.now_ms(),
    )


def _timeline(job: Job) -> list[tuple[str, int, int | None]]:
    steps, previous = [], None
    for status, at_ms in job.transitions:
        steps.append((status.value, at_ms, at_ms - previous if previous is not None else None))
        previous = at_ms
    return steps


def _attempts(job: Job) -> list[tuple[Attempt, bool]]:
    finished = [(attempt, False) for attempt in job.attempts]
    return finished + ([(job.current_attempt, True)] if job.current_attempt is not None else [])


def attempt_rows(batch: BatchProvider, job: Job) -> list[AttemptRow]:
    is_eks = _task_kind(job) == "eks"
    rows = []
    for attempt, is_current in _attempts(job):
        rows.append(
            AttemptRow(
                number=attempt.number,
                is_current=is_current,
                environment_arn=attempt.compute_environment_arn,
                task_arn="" if is_eks else job_views.task_arn(job, attempt, batch.cluster_name),
                host=job_views.node_name(job, attempt)
                if is_eks
                else job_views.container_instance_arn(job, attempt, batch.cluster_name),
                started_at_ms=attempt.started_at_ms,
                stopped_at_ms=attempt.stopped_at_ms,
                exit_code=attempt.exit_code,
                reason=attempt.reason or "",
                status_reason=attempt.status_reason or "",
                log_stream=attempt.log_stream_name or "",
                containers=[_container_run(result) for result in attempt.containers],
            )
        )
    return rows


def _container_run(result: ContainerResult) -> ContainerRun:
    return ContainerRun(
        name=result.name,
        exit_code=result.exit_code,
        reason=result.reason or "",
        log_stream=result.log_stream_name or "",
        container_id=result.container_id or "",
        is_init=result.is_init,
    )


def _task_kind(job: Job) -> str | None:
    if job.task is not None:
        return job.task.kind
    if job.is_multinode_parent and job.multinode.nodes:
        task = job.multinode.nodes[job.multinode.main_node_index].task
        return task.kind if task is not None else None
    return None


def log_sources(job: Job) -> list[LogSource]:
    """Every log stream the job's attempts wrote, newest attempt last. A multi-node parent has
    none of its own (its nodes write them); nor has an array parent (its children do)."""
    if job.is_multinode_parent or job.is_array_parent:
        return []
    groups = {member.name: member.spec.log_group for member in job.task.containers} if job.task else {}
    sources = []
    for attempt, _ in _attempts(job):
        if attempt.containers:
            sources += [
                LogSource(
                    f"attempt {attempt.number} · {result.name}",
                    groups.get(result.name, job.container.log_group),
                    result.log_stream_name,
                )
                for result in attempt.containers
                if result.log_stream_name
            ]
        elif attempt.log_stream_name:
            sources.append(
                LogSource(f"attempt {attempt.number}", job.container.log_group, attempt.log_stream_name)
            )
    return sources


def default_log_source(sources: list[LogSource]) -> LogSource | None:
    """The latest attempt's first stream: the one a user opening the page wants to follow."""
    if not sources:
        return None
    latest = sources[-1].label.split(" · ")[0]
    return next(source for source in sources if source.label.split(" · ")[0] == latest)


def container_configs(detail: Mapping[str, Any]) -> list[ContainerConfig]:
    if "container" in detail:
        return [_config("container", detail["container"])]
    if "ecsProperties" in detail:
        task = (detail["ecsProperties"].get("taskProperties") or [{}])[0]
        return [_config(c.get("name", "container"), c) for c in task.get("containers") or []]
    if "eksProperties" in detail:
        pod = detail["eksProperties"].get("podProperties") or {}
        init = [_config(f"{c.get('name', '')} (init)", c) for c in pod.get("initContainers") or []]
        return init + [_config(c.get("name", "container"), c) for c in pod.get("containers") or []]
    ranges = (detail.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    return [
        _config(f"nodes {node_range.get('targetNodes', '')}", node_range["container"])
        for node_range in ranges
        if "container" in node_range
    ]


def _config(label: str, container: Mapping[str, Any]) -> ContainerConfig:
    requirements = container.get("resourceRequirements") or (container.get("resources") or {}).get("limits")
    if isinstance(requirements, Mapping):  # EKS: {"cpu": "1", "memory": "2048Mi"}
        resources = ", ".join(f"{name} {value}" for name, value in requirements.items())
    else:
        resources = ", ".join(f"{r.get('type')} {r.get('value')}" for r in requirements or [])
    if not resources and (container.get("vcpus") or container.get("memory")):
        resources = f"VCPU {container.get('vcpus', '')}, MEMORY {container.get('memory', '')}"
    return ContainerConfig(
        label=label,
        image=str(container.get("image", "")),
        command=[str(part) for part in container.get("command") or []],
        args=[str(part) for part in container.get("args") or []],
        environment=list(container.get("environment") or container.get("env") or []),
        secrets=list(container.get("secrets") or []),
        resources=resources,
    )


def _definition(batch: BatchProvider, ctx: RequestContext, arn: str) -> dict[str, Any] | None:
    found = batch.describe_job_definitions(ctx, job_definitions=[arn])["jobDefinitions"]
    return found[0] if found else None


def _changed(definition: Mapping[str, Any] | None, detail: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """The container members whose value in force differs from the definition's: what
    containerOverrides and parameter substitution changed. Container jobs only."""
    if definition is None or "container" not in detail:
        return []
    defined = definition.get("containerProperties") or {}
    in_force = detail["container"]
    return [
        (member, defined.get(member), in_force.get(member))
        for member in OVERRIDABLE
        if (member in defined or member in in_force) and defined.get(member) != in_force.get(member)
    ]


def _depends_on(batch: BatchProvider, ctx: RequestContext, job: Job) -> list[LinkedJob]:
    linked = []
    for dependency in job.depends_on:
        if dependency.job_id is None:  # SEQUENTIAL: on the previous child, shown by the grid
            continue
        other = batch.job_record(ctx, dependency.job_id)
        linked.append(
            _linked(other, dependency.kind or "")
            if other is not None
            else LinkedJob(dependency.job_id, "", "", dependency.kind or "")
        )
    return linked


def _linked(job: Job, kind: str) -> LinkedJob:
    return LinkedJob(job.job_id, job.name, job.status.value, kind)
