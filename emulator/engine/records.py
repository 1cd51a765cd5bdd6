"""The engine's records: frozen snake_case dataclasses, the only shapes the engine reads.

The Batch service translates wire requests into these (`JobSubmission`, `ComputeEnvironment`,
`JobQueue`) and renders them back (`views.py`). Fields named `detail` hold wire-shaped fragments
the engine carries but never reads (the effective container as DescribeJobs shows it, parameters,
the retry strategy as given, ...): they exist so DescribeJobs can echo what AWS echoes without the
engine learning camelCase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from emulator.engine.ids import job_arn

# One shared, read-only empty mapping for the `tags` and `detail` a record does not have: 10,000
# array children hold one, not 10,000 empty dicts.
EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})


def _empty_mapping() -> Mapping[str, Any]:
    return EMPTY_MAPPING


class JobStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


# ---- topology: what the scheduler places jobs on -------------------------------------------


@dataclass(frozen=True, slots=True)
class ComputeEnvironment:
    arn: str
    name: str
    is_enabled: bool
    is_valid: bool
    # None for UNMANAGED environments: only the host-level limit applies.
    max_vcpus: float | None
    is_fargate: bool = False


@dataclass(frozen=True, slots=True)
class TimeLimitAction:
    """A `jobStateTimeLimitActions` entry (reference §16.6)."""

    reason: str
    state: str  # always "RUNNABLE" today
    max_time_seconds: int
    action: str  # "CANCEL" | "TERMINATE"


@dataclass(frozen=True, slots=True)
class FairSharePolicy:
    """A scheduling policy's `fairsharePolicy` (reference §16.4). `weights` is `shareDistribution`
    as (shareIdentifier, weightFactor) pairs; an identifier ending in `*` is a prefix entry."""

    share_decay_seconds: int = 0
    compute_reservation: int = 0  # percent, 0-99
    weights: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class JobQueue:
    arn: str
    name: str
    is_enabled: bool
    priority: int
    compute_environment_arns: tuple[str, ...]  # in `order` order
    time_limit_actions: tuple[TimeLimitAction, ...] = ()
    is_fair_share: bool = False
    fair_share: FairSharePolicy | None = None  # set when is_fair_share; None means default weights


@dataclass(frozen=True, slots=True)
class ConsumableResource:
    """A consumable resource (reference §4.6, §20); the engine owns its live quantities."""

    arn: str
    name: str
    total_quantity: int
    kind: str = "REPLENISHABLE"  # or "NON_REPLENISHABLE"

    @property
    def is_replenishable(self) -> bool:
        return self.kind != "NON_REPLENISHABLE"


# ---- what a job asks for ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dependency:
    job_id: str | None  # None only for SEQUENTIAL
    kind: str | None = None  # None (plain), "N_TO_N", "SEQUENTIAL"


@dataclass(frozen=True, slots=True)
class ExitRule:
    """One `evaluateOnExit` entry; patterns as given, matched per reference §12.3."""

    action: str  # RETRY | EXIT as the client sent it; matched case-insensitively (§12.2)
    on_exit_code: str | None = None
    on_reason: str | None = None
    on_status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 1
    rules: tuple[ExitRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    host_path: str | None  # None: a scratch volume that lives as long as the attempt


@dataclass(frozen=True, slots=True)
class Mount:
    source_volume: str
    container_path: str
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class Ulimit:
    name: str
    soft: int
    hard: int


@dataclass(frozen=True, slots=True)
class Device:
    host_path: str
    container_path: str | None = None
    permissions: tuple[str, ...] = ()  # READ / WRITE / MKNOD


@dataclass(frozen=True, slots=True)
class Tmpfs:
    container_path: str
    size_mib: int
    mount_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything an executor needs to run one attempt of a container job, after overrides and
    parameter substitution. `environment` holds the user's variables only; the engine adds the
    `AWS_BATCH_*` ones per attempt."""

    image: str
    command: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    vcpus: float = 1.0
    memory_mib: int = 2048
    gpus: int = 0
    user: str | None = None
    privileged: bool = False
    readonly_root_filesystem: bool = False
    volumes: tuple[Volume, ...] = ()
    mounts: tuple[Mount, ...] = ()
    ulimits: tuple[Ulimit, ...] = ()
    devices: tuple[Device, ...] = ()
    init_process: bool = False
    shared_memory_mib: int | None = None
    tmpfs: tuple[Tmpfs, ...] = ()
    log_group: str = "/aws/batch/job"
    log_stream_prefix: str = "default"  # the definition name, or awslogs-stream-prefix
    # EKS `command` replaces the image's entrypoint (and `args` become `command`); None keeps it.
    entrypoint: tuple[str, ...] | None = None
    # `secrets` as (variable name, valueFrom): references only; the values are read from the
    # account when an attempt starts (engine/job_account.py) and never stored.
    secrets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TaskContainer:
    """One container of a multi-container task: an `ecsProperties` task container (reference §18)
    or an EKS pod container / init container (§19)."""

    name: str
    spec: ContainerSpec
    essential: bool = True
    # (container name, condition): START | COMPLETE | SUCCESS | HEALTHY
    depends_on: tuple[tuple[str, str], ...] = ()
    is_init: bool = False  # EKS init containers: run in order before the others, each must exit 0


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What an ECS-properties or EKS-properties job runs in each attempt: several containers
    sharing one network. `kind` is "ecs" or "eks"; it decides how the task's outcome is judged
    (`engine/tasks.py`)."""

    kind: str
    containers: tuple[TaskContainer, ...]
    pod_namespace: str = "default"  # EKS only


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of a multi-node parallel job after node-range resolution and overrides (§11).
    A node range with `ecsProperties` or `eksProperties` runs a whole task on each of its nodes:
    `task` holds its containers and `container` the task's totals, as on a single-node job."""

    container: ContainerSpec
    # The node job's `detail` (what DescribeJobs of `<job id>#<n>` echoes), prepared by the service.
    detail: Mapping[str, Any] = field(default_factory=_empty_mapping)
    task: TaskSpec | None = None


@dataclass(frozen=True, slots=True)
class MultiNode:
    """Multi-node parallel facts: on the parent `nodes` holds one NodeSpec per node index and
    `node_index` is None; on a node job `node_index` is set and `nodes` is empty."""

    num_nodes: int
    main_node_index: int
    nodes: tuple[NodeSpec, ...] = ()
    node_index: int | None = None

    @property
    def is_main_node(self) -> bool:
        return self.node_index == self.main_node_index


@dataclass(frozen=True, slots=True)
class ConsumableClaim:
    """`quantity` of the consumable resource `resource_arn`, locked while an attempt is placed."""

    resource_arn: str
    quantity: int


@dataclass(frozen=True, slots=True)
class JobSubmission:
    account_id: str
    region: str
    name: str
    queue_arn: str
    queue_name: str
    definition_arn: str
    container: ContainerSpec
    depends_on: tuple[Dependency, ...] = ()
    array_size: int | None = None
    retry: RetryPolicy = RetryPolicy()
    timeout_seconds: int | None = None
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    tags: Mapping[str, str] = field(default_factory=_empty_mapping)
    detail: Mapping[str, Any] = field(default_factory=_empty_mapping)
    consumables: tuple[ConsumableClaim, ...] = ()
    # ECS-/EKS-properties jobs: the containers of each attempt's task; `container` then holds the
    # task's totals (vCPUs, memory, GPUs), which is what scheduling counts.
    task: TaskSpec | None = None
    # Multi-node parallel jobs: `container` holds the totals over every node.
    multinode: MultiNode | None = None


# ---- what happened ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int  # 1-based; AWS_BATCH_JOB_ATTEMPT
    task_id: str  # 32 hex characters, the ECS task id AWS would show
    compute_environment_arn: str
    created_at_ms: int
    started_at_ms: int | None = None  # when it reached RUNNING
    stopped_at_ms: int | None = None
    exit_code: int | None = None
    reason: str | None = None  # the container reason, e.g. "OutOfMemoryError: ..."
    status_reason: str | None = None  # e.g. "Essential container in task exited"
    log_stream_name: str | None = None
    # ECS-/EKS-properties jobs: one result per task container, in task order.
    containers: tuple[ContainerResult, ...] = ()
    private_ipv4: str | None = None  # the attempt's address on its network (MNP nodes)
    node_name: str | None = None  # the Kubernetes node its pod ran on (Kubernetes executor only)
    gpu_ids: tuple[int, ...] = ()  # host GPU indexes held while placed


@dataclass(frozen=True, slots=True)
class ContainerResult:
    """How one container of a task ended (or that it never ran: no exit code)."""

    name: str
    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    container_id: str | None = None
    is_init: bool = False
    # Stopped by the task because an essential container exited first (ECS), not on its own.
    stopped_by_task: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    arn: str
    name: str
    account_id: str
    region: str
    queue_arn: str
    queue_name: str
    definition_arn: str
    container: ContainerSpec
    status: JobStatus
    created_at_ms: int
    status_reason: str | None = None
    started_at_ms: int | None = None
    stopped_at_ms: int | None = None
    # When the job last entered RUNNABLE: FIFO order and jobStateTimeLimitActions count from here.
    runnable_at_ms: int | None = None
    depends_on: tuple[Dependency, ...] = ()
    array_size: int | None = None  # array parents and children
    array_index: int | None = None  # array children only
    parent_job_id: str | None = None  # array children only
    status_summary: Mapping[str, int] | None = None  # array parents only, all seven statuses
    status_summary_updated_at_ms: int | None = None
    retry: RetryPolicy = RetryPolicy()
    timeout_seconds: int | None = None
    attempts: tuple[Attempt, ...] = ()  # finished attempts, oldest first
    current_attempt: Attempt | None = None  # the attempt in STARTING/RUNNING
    is_cancelled: bool = False
    is_terminated: bool = False
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    tags: Mapping[str, str] = field(default_factory=_empty_mapping)
    detail: Mapping[str, Any] = field(default_factory=_empty_mapping)
    # Every status the job entered, with when, oldest first: what state-change events are built from.
    transitions: tuple[tuple[JobStatus, int], ...] = ()
    consumables: tuple[ConsumableClaim, ...] = ()
    task: TaskSpec | None = None
    multinode: MultiNode | None = None

    @property
    def is_array_parent(self) -> bool:
        return self.array_size is not None and self.array_index is None

    @property
    def is_multinode_parent(self) -> bool:
        return self.multinode is not None and self.multinode.node_index is None

    @property
    def is_node(self) -> bool:
        """A node job `<job id>#<n>` of a multi-node parallel job."""
        return self.multinode is not None and self.multinode.node_index is not None


def spawned_job(parent: Job, job_id: str, status: JobStatus, now_ms: int, **own: Any) -> Job:
    """A job the engine creates for `parent` (an array child, a node of a multi-node job), entering
    `status` now: its own id and ARN; the parent's name, queue, definition, retry strategy, timeout,
    share identifier and scheduling priority; no tags. `own` gives every other field."""
    return Job(
        job_id=job_id,
        arn=job_arn(parent.region, parent.account_id, job_id),
        name=parent.name,
        account_id=parent.account_id,
        region=parent.region,
        queue_arn=parent.queue_arn,
        queue_name=parent.queue_name,
        definition_arn=parent.definition_arn,
        status=status,
        created_at_ms=now_ms,
        retry=parent.retry,
        timeout_seconds=parent.timeout_seconds,
        share_identifier=parent.share_identifier,
        scheduling_priority=parent.scheduling_priority,
        transitions=((status, now_ms),),
        **own,
    )
