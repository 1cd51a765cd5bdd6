"""Records of the service-job engine (SageMaker Training through AWS Batch, reference §21).

Frozen, slotted, snake_case: the Batch service turns them into DescribeServiceJob/ListServiceJobs
shapes. The topology records (`ServiceEnvironment`, `ServiceQueue`, `QuotaShare`) are what the
engine reads from the control plane at the start of each pass; `ServiceJob` is the state it owns.
Kept apart from `records.py` (container jobs) because the two lifecycles share no state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

NUM_INSTANCES = "NUM_INSTANCES"


class ServiceJobStatus(StrEnum):
    """`ServiceJobStatus` in the service model, in the order AWS lists it (reference §21)."""

    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    SCHEDULED = "SCHEDULED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in (ServiceJobStatus.SUCCEEDED, ServiceJobStatus.FAILED)

    @property
    def holds_capacity(self) -> bool:
        """From SCHEDULED (submitted to SageMaker) until the attempt ends."""
        return self in (ServiceJobStatus.SCHEDULED, ServiceJobStatus.STARTING, ServiceJobStatus.RUNNING)


_S = ServiceJobStatus
# PENDING is in the model but service jobs have no dependencies, so nothing enters it.
NEXT: dict[ServiceJobStatus, frozenset[ServiceJobStatus]] = {
    _S.SUBMITTED: frozenset({_S.RUNNABLE, _S.FAILED}),
    _S.PENDING: frozenset({_S.RUNNABLE, _S.FAILED}),
    _S.RUNNABLE: frozenset({_S.SCHEDULED, _S.FAILED}),
    # back to RUNNABLE on insufficient capacity (no retry attempt consumed)
    _S.SCHEDULED: frozenset({_S.STARTING, _S.RUNNABLE, _S.FAILED}),
    # back to RUNNABLE when an attempt fails and retries remain
    _S.STARTING: frozenset({_S.RUNNING, _S.RUNNABLE, _S.FAILED}),
    _S.RUNNING: frozenset({_S.SUCCEEDED, _S.RUNNABLE, _S.FAILED}),
    _S.SUCCEEDED: frozenset(),
    _S.FAILED: frozenset(),
}


class IllegalServiceTransitionError(Exception):
    """A move the service-job lifecycle table does not allow."""


# ---- topology ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceEnvironment:
    arn: str
    is_enabled: bool  # state ENABLED; a DISABLED environment schedules nothing new
    # capacityLimits: unit (NUM_INSTANCES or an instance type such as ml.m5.large) -> maxCapacity
    capacity_limits: tuple[tuple[str, int], ...] = ((NUM_INSTANCES, 0),)


@dataclass(frozen=True, slots=True)
class ServiceTimeLimitAction:
    """A `jobStateTimeLimitActions` entry of a service queue (reference §16.6)."""

    reason: str
    state: str
    max_time_seconds: int
    action: str


@dataclass(frozen=True, slots=True)
class ServiceQueue:
    arn: str
    priority: int
    service_environment_arn: str
    is_enabled: bool = True  # a DISABLED queue still dispatches the jobs it holds
    is_fair_share: bool = False
    is_quota_share: bool = False
    time_limit_actions: tuple[ServiceTimeLimitAction, ...] = ()
    is_deleted: bool = False  # DeleteJobQueue was called: its jobs are terminated


@dataclass(frozen=True, slots=True)
class QuotaShare:
    queue_arn: str
    name: str
    is_enabled: bool
    capacity_limits: tuple[tuple[str, int], ...]  # instance type -> maxCapacity
    strategy: str = "RESERVE"  # RESERVE | LEND | LEND_AND_BORROW (lending is not modelled)


@dataclass(frozen=True, slots=True)
class ServiceTopology:
    environments: dict[str, ServiceEnvironment] = field(default_factory=dict)
    queues: dict[str, ServiceQueue] = field(default_factory=dict)
    shares: dict[tuple[str, str], QuotaShare] = field(default_factory=dict)  # (queue ARN, name)


# ---- jobs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceExitRule:
    action: str  # RETRY | EXIT, compared case-insensitively
    on_status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceRetryPolicy:
    attempts: int = 1
    exit_rules: tuple[ServiceExitRule, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceAttempt:
    """One SageMaker training job created for the service job (ServiceJobAttemptDetail)."""

    training_job_arn: str
    started_at_ms: int | None = None
    stopped_at_ms: int | None = None
    status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TrainingContainer:
    """What running the payload's training image takes, read from the payload by the service:
    the image (`AlgorithmSpecification.TrainingImage`), `Environment`, the config files SageMaker
    writes under /opt/ml/input/config (file name, JSON text), the input channels (one directory
    each under /opt/ml/input/data) and `StoppingCondition.MaxRuntimeInSeconds`."""

    image: str
    environment: tuple[tuple[str, str], ...] = ()
    config_files: tuple[tuple[str, str], ...] = ()
    channels: tuple[str, ...] = ()
    max_runtime_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ServiceJobSubmission:
    """What SubmitServiceJob asked for, after the service's validation."""

    job_id: str
    job_arn: str
    job_name: str
    queue_arn: str
    service_job_type: str
    service_request_payload: str
    instance_count: int = 1  # ResourceConfig.InstanceCount of the payload
    instance_type: str | None = None  # ResourceConfig.InstanceType
    capacity_unit: str = NUM_INSTANCES  # the unit DescribeServiceJob's capacityUsage is shown in
    retry: ServiceRetryPolicy | None = None  # None: not given (one attempt)
    scheduling_priority: int | None = None
    share_identifier: str | None = None
    quota_share_name: str | None = None
    preemption_retries_before_termination: int | None = None
    attempt_duration_seconds: int | None = None
    # Idempotency: the client token and an opaque digest of the request, checked by the service.
    client_token: str | None = None
    request_digest: str | None = None
    hyper_parameters: tuple[tuple[str, str], ...] = ()
    # The payload names a training image: run it when the executor's daemon has it.
    training_container: TrainingContainer | None = None


@dataclass(frozen=True, slots=True)
class ServiceJob:
    submission: ServiceJobSubmission
    created_at_ms: int
    sequence: int  # creation order: FIFO's last tie-breaker and the paging key
    status: ServiceJobStatus = ServiceJobStatus.SUBMITTED
    status_reason: str | None = None
    scheduling_priority: int | None = None  # UpdateServiceJob changes it
    attempts: tuple[ServiceAttempt, ...] = ()  # finished attempts
    current_attempt: ServiceAttempt | None = None  # from SCHEDULED until the attempt ends
    scheduled_at_ms: int | None = None
    started_at_ms: int | None = None
    stopped_at_ms: int | None = None
    is_terminated: bool = False
    # When the job last joined the back of its queue: FIFO order and RUNNABLE time limits.
    runnable_at_ms: int | None = None
    # When the current attempt was first SCHEDULED: time lost to insufficient capacity
    # accumulates from here toward a CAPACITY time limit across resubmissions (§16.6).
    capacity_wait_since_ms: int | None = None
    step_due_ms: int | None = None  # when SCHEDULED -> STARTING -> RUNNING -> end is next due
    deadline_ms: int | None = None  # the attempt's timeoutConfig deadline, from RUNNING
    transitions: tuple[tuple[ServiceJobStatus, int], ...] = ()
    # Decided at submission: attempts run the training image as a container (the daemon had it)
    # rather than through the simulated SageMaker.
    runs_training_image: bool = False

    @property
    def job_id(self) -> str:
        return self.submission.job_id

    @property
    def job_name(self) -> str:
        return self.submission.job_name

    @property
    def queue_arn(self) -> str:
        return self.submission.queue_arn

    @property
    def latest_attempt(self) -> ServiceAttempt | None:
        if self.current_attempt is not None:
            return self.current_attempt
        return self.attempts[-1] if self.attempts else None


def apply_transition(job: ServiceJob, to: ServiceJobStatus, now_ms: int, **changes: object) -> ServiceJob:
    """The job in status `to`, with `changes` applied; refuses moves NEXT does not list."""
    if to not in NEXT[job.status]:
        raise IllegalServiceTransitionError(f"service job {job.job_id}: {job.status.value} -> {to.value}")
    return replace(job, status=to, transitions=(*job.transitions, (to, now_ms)), **changes)
