"""Pure decisions for service jobs: which RUNNABLE jobs are SCHEDULED, which are blocked, which a
time-limit action terminates, and whether a failed attempt is retried (reference §16.6, §21).

Nothing here reads a clock or changes a record; the service-job engine applies the values returned.

Capacity, as implemented:
- A service environment's `capacityLimits` are per unit: `NUM_INSTANCES` counts every instance,
  an instance-type unit (`ml.m5.large`, quota management) counts instances of that type. A job
  demands its payload's `ResourceConfig.InstanceCount` (default 1) of NUM_INSTANCES and of its
  instance type's unit when the limits name it. Jobs hold their demand from SCHEDULED until their
  attempt ends.
- A job without an instance type, on limits that only name instance types, counts against the
  first of them (SageMaker requires an instance type; the emulator stays lenient).
- Queues are taken by descending priority (ties: the order the topology lists them; several queues
  may share one environment). Within a queue, FIFO queues go by the time a job last became
  RUNNABLE, then creation; fair-share and quota-share queues by descending schedulingPriority
  first (share weights are not modelled for service jobs). Quota-share queues form one lane per
  quota share, each FIFO in itself and limited by its own `capacityLimits` as well as the
  environment's; lanes are served in the order their heads became RUNNABLE. LEND and
  LEND_AND_BORROW behave as RESERVE: a share never borrows idle capacity (lending is not modelled).
- The head of a lane that does not fit now waits, and so does the rest of its lane. A head that can
  never fit gets a blocked status reason (§21) and blocks its lane until a `jobStateTimeLimitActions`
  rule terminates it (TERMINATE on service queues, §16.6); then the next job becomes the head.
- A DISABLED environment or quota share schedules nothing new; a DISABLED queue still dispatches
  the jobs it holds, as for container jobs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emulator.engine.service_records import (
    NUM_INSTANCES,
    QuotaShare,
    ServiceEnvironment,
    ServiceJob,
    ServiceQueue,
    ServiceRetryPolicy,
    ServiceTopology,
)

SERVICE_ENVIRONMENT_MAX_RESOURCE = (
    "MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE - Service environment(s) associated with the job "
    "queue cannot meet the capacity requirement of the job."
)
# The reference names this code without its message; the text after " - " is the emulator's.
QUOTA_MANAGEMENT_LIMIT_EXCEEDED = (
    "MISCONFIGURATION:QUOTA_MANAGEMENT_LIMIT_EXCEEDED - The quota share associated with the job cannot "
    "meet the capacity requirement of the job."
)
INSUFFICIENT_INSTANCE_CAPACITY = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Unable to provision requested compute resources"
)
BLOCKED_REASONS = frozenset(
    {SERVICE_ENVIRONMENT_MAX_RESOURCE, QUOTA_MANAGEMENT_LIMIT_EXCEEDED, INSUFFICIENT_INSTANCE_CAPACITY}
)
TERMINATED_BY_TIME_LIMIT = "Terminated by JobStateTimeLimit action due to reason: {reason}"


@dataclass(frozen=True, slots=True)
class Schedule:
    job_id: str


@dataclass(frozen=True, slots=True)
class Block:
    """Set (or clear, with None) the blocked status reason of a RUNNABLE head."""

    job_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Terminate:
    job_id: str
    reason: str


ServiceDecision = Schedule | Block | Terminate


@dataclass(frozen=True, slots=True)
class ServicePlan:
    decisions: tuple[ServiceDecision, ...]
    wake_at_ms: int | None = None  # the earliest moment a time-limit action could fire


# ---- capacity ---------------------------------------------------------------------------------


def demand(job: ServiceJob, limits: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The quantity of each limited unit `job` takes; {} when none of the units covers it."""
    units = [unit for unit, _ in limits]
    count = job.submission.instance_count
    instance_type = job.submission.instance_type
    typed = [unit for unit in units if unit != NUM_INSTANCES]
    wanted = {unit: count for unit in units if unit == NUM_INSTANCES}
    if instance_type in typed:
        wanted[instance_type] = count
    elif instance_type is None and typed and not wanted:
        wanted[typed[0]] = count
    return wanted


def _exceeds(wanted: Mapping[str, int], limits: Iterable[tuple[str, int]]) -> bool:
    maxima = dict(limits)
    return not wanted or any(quantity > maxima[unit] for unit, quantity in wanted.items())


def _fits(wanted: Mapping[str, int], limits: Iterable[tuple[str, int]], used: Mapping[str, int]) -> bool:
    maxima = dict(limits)
    return all(used.get(unit, 0) + quantity <= maxima[unit] for unit, quantity in wanted.items())


def blocked_reason(job: ServiceJob, environment: ServiceEnvironment, share: QuotaShare | None) -> str | None:
    """Why `job` can never be scheduled as configured now (§21), or None."""
    if _exceeds(demand(job, environment.capacity_limits), environment.capacity_limits):
        return SERVICE_ENVIRONMENT_MAX_RESOURCE
    if share is not None and _exceeds(demand(job, share.capacity_limits), share.capacity_limits):
        return QUOTA_MANAGEMENT_LIMIT_EXCEEDED
    return None


def reason_code(reason: str) -> str:
    return reason.split(" - ", 1)[0].strip()


# ---- time limits ------------------------------------------------------------------------------


def time_limit(
    job: ServiceJob, queue: ServiceQueue, reason: str, now_ms: int
) -> tuple[Terminate | None, int | None]:
    """The Terminate a matching rule orders now, or when it will. Time counts from when the job
    last joined the queue; for insufficient capacity, from the attempt's first SCHEDULED, so time
    spent SCHEDULED accumulates across resubmissions (§16.6)."""
    code = reason_code(reason)
    since_ms = job.runnable_at_ms if job.runnable_at_ms is not None else job.created_at_ms
    if reason == INSUFFICIENT_INSTANCE_CAPACITY and job.capacity_wait_since_ms is not None:
        since_ms = job.capacity_wait_since_ms
    earliest: int | None = None
    for rule in queue.time_limit_actions:
        if rule.state.upper() != "RUNNABLE" or rule.reason != code or rule.action.upper() != "TERMINATE":
            continue
        due_ms = since_ms + rule.max_time_seconds * 1000
        if due_ms <= now_ms:
            return Terminate(job.job_id, TERMINATED_BY_TIME_LIMIT.format(reason=code)), None
        earliest = due_ms if earliest is None else min(earliest, due_ms)
    return None, earliest


# ---- scheduling -------------------------------------------------------------------------------


def dispatch_key(job: ServiceJob, queue: ServiceQueue) -> tuple[int, int, int]:
    runnable_at = job.runnable_at_ms if job.runnable_at_ms is not None else job.created_at_ms
    priority = job.scheduling_priority or 0
    if queue.is_fair_share or queue.is_quota_share:
        return (-priority, runnable_at, job.sequence)
    return (0, runnable_at, job.sequence)


def _lanes(queue: ServiceQueue, jobs: list[ServiceJob]) -> list[list[ServiceJob]]:
    """The queue's jobs in dispatch order: one lane, or one per quota share."""
    lanes: dict[str | None, list[ServiceJob]] = {}
    for job in jobs:
        lane = job.submission.quota_share_name if queue.is_quota_share else None
        lanes.setdefault(lane, []).append(job)
    ordered = [sorted(lane, key=lambda job: dispatch_key(job, queue)) for lane in lanes.values()]
    return sorted(ordered, key=lambda lane: dispatch_key(lane[0], queue)[1:])


class _Usage:
    """Capacity held by in-flight jobs, per environment and per quota share, unit by unit."""

    def __init__(self) -> None:
        self.environments: dict[str, Counter[str]] = {}
        self.shares: dict[tuple[str, str], Counter[str]] = {}

    def add(self, job: ServiceJob, environment: ServiceEnvironment, share: QuotaShare | None) -> None:
        self.environments.setdefault(environment.arn, Counter()).update(
            demand(job, environment.capacity_limits)
        )
        if share is not None:
            self.shares.setdefault((share.queue_arn, share.name), Counter()).update(
                demand(job, share.capacity_limits)
            )

    def fits(self, job: ServiceJob, environment: ServiceEnvironment, share: QuotaShare | None) -> bool:
        used = self.environments.get(environment.arn, Counter())
        if not _fits(demand(job, environment.capacity_limits), environment.capacity_limits, used):
            return False
        if share is None:
            return True
        used = self.shares.get((share.queue_arn, share.name), Counter())
        return _fits(demand(job, share.capacity_limits), share.capacity_limits, used)


def share_of(job: ServiceJob, queue: ServiceQueue, topology: ServiceTopology) -> QuotaShare | None:
    if not queue.is_quota_share or job.submission.quota_share_name is None:
        return None
    return topology.shares.get((queue.arn, job.submission.quota_share_name))


def plan_scheduling(
    topology: ServiceTopology,
    runnable: Iterable[ServiceJob],
    in_flight: Iterable[ServiceJob],
    now_ms: int,
) -> ServicePlan:
    """What to do with the RUNNABLE jobs now, given the jobs holding capacity (see the module
    docstring for the rules)."""
    usage = _Usage()
    for job in in_flight:
        queue = topology.queues.get(job.queue_arn)
        environment = topology.environments.get(queue.service_environment_arn) if queue else None
        if queue is not None and environment is not None:
            usage.add(job, environment, share_of(job, queue, topology))
    by_queue: dict[str, list[ServiceJob]] = {}
    for job in runnable:
        by_queue.setdefault(job.queue_arn, []).append(job)
    queues = sorted(
        (queue for queue in topology.queues.values() if queue.arn in by_queue),
        key=lambda queue: -queue.priority,
    )
    decisions: list[ServiceDecision] = []
    wake: list[int] = []
    for queue in queues:
        environment = topology.environments.get(queue.service_environment_arn)
        if environment is None:
            continue
        for lane in _lanes(queue, by_queue[queue.arn]):
            _plan_lane(lane, queue, environment, topology, usage, now_ms, decisions, wake)
    return ServicePlan(tuple(decisions), min(wake) if wake else None)


def _plan_lane(
    lane: list[ServiceJob],
    queue: ServiceQueue,
    environment: ServiceEnvironment,
    topology: ServiceTopology,
    usage: _Usage,
    now_ms: int,
    decisions: list[ServiceDecision],
    wake: list[int],
) -> None:
    for job in lane:
        share = share_of(job, queue, topology)
        if queue.is_quota_share and share is None:
            return  # the share is gone or not yet known: the lane waits
        blocked = blocked_reason(job, environment, share)
        reason = blocked or (
            job.status_reason if job.status_reason == INSUFFICIENT_INSTANCE_CAPACITY else None
        )
        if reason is not None:
            terminate, due_ms = time_limit(job, queue, reason, now_ms)
            if terminate is not None:
                decisions.append(terminate)
                continue  # the next job becomes the head
            if due_ms is not None:
                wake.append(due_ms)
        if blocked is not None:
            if job.status_reason != blocked:
                decisions.append(Block(job.job_id, blocked))
            return
        if job.status_reason in BLOCKED_REASONS and job.status_reason != INSUFFICIENT_INSTANCE_CAPACITY:
            decisions.append(Block(job.job_id, None))  # no longer blocked: it waits for capacity
        if not environment.is_enabled or (share is not None and not share.is_enabled):
            return
        if not usage.fits(job, environment, share):
            return
        usage.add(job, environment, share)
        decisions.append(Schedule(job.job_id))


# ---- retries ----------------------------------------------------------------------------------


def pattern_matches(pattern: str, value: str | None) -> bool:
    """evaluateOnExit patterns (§12.3): exact, or a prefix before a trailing `*`; exact case."""
    if pattern == "*":
        return True
    if value is None:
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def should_retry(retry: ServiceRetryPolicy | None, attempts_made: int, status_reason: str) -> bool:
    """After a failed attempt (§12.3 with `onStatusReason` only): the first rule whose condition
    matches decides (EXIT fails now, RETRY retries while attempts remain); with no match, or no
    rules, the job is retried while attempts remain. A rule without a condition matches anything."""
    policy = retry or ServiceRetryPolicy()
    if attempts_made >= policy.attempts:
        return False
    for rule in policy.exit_rules:
        if rule.on_status_reason is None or pattern_matches(rule.on_status_reason, status_reason):
            return rule.action.upper() == "RETRY"
    return True
