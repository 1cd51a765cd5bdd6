"""Pure scheduling decisions: where RUNNABLE jobs go, which are blocked, what a failed attempt means.

Nothing here reads a clock or changes a record: `plan_placements()` gets the topology, the
RUNNABLE jobs of each queue in dispatch order, the capacity in use and "now", and returns values
(`Place`, `Fail`, `SetStatusReason`) for the engine to apply. `after_failed_attempt()` applies the
retry strategy (reference §12).

Placement (§16.1, §16.2), as implemented:
- Queues are evaluated by descending priority (equal priorities: the order the engine was told
  about them). A DISABLED queue still dispatches the jobs it holds (§5.2 UpdateJobQueue).
- Within a queue, jobs go strictly in dispatch order: when the head cannot be placed the rest of
  that queue waits for the next pass. FIFO queues dispatch by the time a job last became RUNNABLE,
  then creation. Fair-share queues dispatch in `fair_share_order()` (below).
- The head goes to the first ENABLED and VALID compute environment, in the queue's order, whose
  free vCPUs (max_vcpus minus the vCPUs of its STARTING/RUNNING jobs; None = unlimited) fit the
  job, and only while the host has a free slot (`max_running` attempts at once) and every
  consumable resource it claims has the quantity available (§20: it waits RUNNABLE at the head
  otherwise, with no status reason, as the reference leaves the reason unverified).

Fair share (§16.4), as modelled:
- A share's usage is the vCPUs its STARTING/RUNNING jobs hold now plus its recent history (the
  vCPU-seconds it used, decayed exponentially over `shareDecaySeconds`, 0 meaning the model's
  default of 600 s, divided by that window; see `usage.ShareIndex`), times its weightFactor. The
  next job comes from the share with the lowest usage (ties: the share whose head became RUNNABLE
  first), and is counted into that share's usage before the next pick. So a share with weight w
  converges on a slice of the capacity proportional to 1/w: weights 1 and 3 settle at 3:1, and
  0.125 gets 8x what 1.0 gets, as the reference says; and a share that has just run a lot yields
  to one that has not, until its history decays.
- Identifiers not in `shareDistribution` weigh 1.0; a `prefix*` entry's weight is multiplied by the
  number of active identifiers it matches (2023 guide); an exact entry beats a prefix entry.
- Within a share: higher schedulingPriority first, then FIFO.
- `computeReservation` keeps (computeReservation/100)^active_shares of the queue's maximum vCPUs
  (the sum of its ENABLED, VALID environments' max_vcpus; no reservation when one is unlimited)
  free for identifiers not yet active. A share is active while it has RUNNABLE, STARTING or
  RUNNING jobs in the queue and for one decay window after its last job ended.
- GPUs (§17.1): the host has a fixed number of GPUs (`host_gpus`); a job holds its GPU count
  while placed and waits at the head while too few are free. A job asking for more GPUs than the
  host has can never run: it gets JOB_RESOURCE_REQUIREMENT, as for an instance type too small.
- A job needing more vCPUs than every environment's maxvCpus gets COMPUTE_ENVIRONMENT_MAX_RESOURCE.
- A head that no compute environment of its queue can ever take gets a blocked reason (§16.5) and
  blocks its queue (§16.3); a queue's `jobStateTimeLimitActions` (§16.6) then cancel it once it has
  been RUNNABLE for `max_time_seconds`, and the next job becomes the head.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from emulator.engine.records import (
    Attempt,
    ComputeEnvironment,
    ConsumableClaim,
    ExitRule,
    FairSharePolicy,
    Job,
    JobQueue,
    RetryPolicy,
)

ACTION_REQUIRED_INVALID_CES = "ACTION_REQUIRED - CE(s) associated with the job queue are invalid."
JOB_RESOURCE_REQUIREMENT = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is "
    "higher than that can be met by the CE(s) attached to the job queue."
)
COMPUTE_ENVIRONMENT_MAX_RESOURCE = (
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue cannot "
    "meet the CPU requirement of the job."
)
BLOCKED_REASONS = frozenset(
    {ACTION_REQUIRED_INVALID_CES, COMPUTE_ENVIRONMENT_MAX_RESOURCE, JOB_RESOURCE_REQUIREMENT}
)
CANCELED_BY_TIME_LIMIT = "Canceled by JobStateTimeLimit action due to reason: {reason}"
TERMINATED_BY_TIME_LIMIT = "Terminated by JobStateTimeLimit action due to reason: {reason}"


# ---- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    job_id: str
    compute_environment_arn: str


@dataclass(frozen=True, slots=True)
class Fail:
    job_id: str
    reason: str
    is_cancelled: bool = False
    is_terminated: bool = False


@dataclass(frozen=True, slots=True)
class SetStatusReason:
    job_id: str
    reason: str | None


Decision = Place | Fail | SetStatusReason


@dataclass(frozen=True, slots=True)
class Plan:
    decisions: tuple[Decision, ...]
    # The earliest moment a time-limit action could fire for a job blocked now; None if none.
    wake_at_ms: int | None = None


# ---- placement -------------------------------------------------------------------------------


def blocked_reason(
    job: Job,
    queue: JobQueue,
    environments: Mapping[str, ComputeEnvironment],
    host_gpus: int | None = None,
) -> str | None:
    """Why `job` can never run on `queue` as configured now, as AWS words it (§16.5); None if it can
    (perhaps later). Environments the engine has not been told about are ignored. `host_gpus`:
    the GPUs this host has (None: GPUs are not counted)."""
    known = [environments[arn] for arn in queue.compute_environment_arns if arn in environments]
    if not known:
        return None
    valid = [environment for environment in known if environment.is_valid]
    if not valid:
        return ACTION_REQUIRED_INVALID_CES
    vcpus = job.container.vcpus
    if all(env.max_vcpus is not None and vcpus > env.max_vcpus for env in valid):
        return COMPUTE_ENVIRONMENT_MAX_RESOURCE
    if host_gpus is not None and job.container.gpus > host_gpus:
        return JOB_RESOURCE_REQUIREMENT
    return None


def reason_code(blocked: str) -> str:
    """`MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job ...` -> `MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT`."""
    return blocked.split(" - ", 1)[0].strip()


def time_limit_fail(job: Job, queue: JobQueue, blocked: str, now_ms: int) -> tuple[Fail | None, int | None]:
    """The Fail a matching `jobStateTimeLimitActions` rule orders now, or when it will (§16.6).

    The time counts from when the job last became RUNNABLE."""
    code = reason_code(blocked)
    since_ms = job.runnable_at_ms if job.runnable_at_ms is not None else job.created_at_ms
    earliest: int | None = None
    for rule in queue.time_limit_actions:
        if rule.state.upper() != "RUNNABLE" or rule.reason != code:
            continue
        due_ms = since_ms + rule.max_time_seconds * 1000
        if due_ms <= now_ms:
            if rule.action.upper() == "TERMINATE":
                return Fail(
                    job.job_id, TERMINATED_BY_TIME_LIMIT.format(reason=code), is_terminated=True
                ), None
            return Fail(job.job_id, CANCELED_BY_TIME_LIMIT.format(reason=code), is_cancelled=True), None
        earliest = due_ms if earliest is None else min(earliest, due_ms)
    return None, earliest


def first_fit(
    job: Job,
    queue: JobQueue,
    environments: Mapping[str, ComputeEnvironment],
    usage_vcpus: Mapping[str, float],
) -> str | None:
    """The first ENABLED, VALID compute environment of the queue, in order, with room for the job."""
    vcpus = job.container.vcpus
    for arn in queue.compute_environment_arns:
        environment = environments.get(arn)
        if environment is None or not (environment.is_enabled and environment.is_valid):
            continue
        if environment.max_vcpus is None or usage_vcpus.get(arn, 0.0) + vcpus <= environment.max_vcpus:
            return arn
    return None


def queue_order(queues: Iterable[JobQueue]) -> list[JobQueue]:
    """Higher priority first; ties keep the given order (sorted() is stable)."""
    return sorted(queues, key=lambda queue: -queue.priority)


def has_consumables(claims: Iterable[ConsumableClaim], available: Mapping[str, int]) -> bool:
    """Every claimed quantity is available now; a resource the engine does not know has none."""
    return all(available.get(claim.resource_arn, 0) >= claim.quantity for claim in claims)


def plan_placements(
    queues: Sequence[JobQueue],
    environments: Mapping[str, ComputeEnvironment],
    runnable: Callable[[str], Iterable[Job]],
    usage_vcpus: Mapping[str, float],
    host_slots_free: int,
    now_ms: int,
    *,
    consumables_available: Mapping[str, int] | None = None,
    queue_caps_vcpus: Mapping[str, float] | None = None,
    queue_usage_vcpus: Mapping[str, float] | None = None,
    host_gpus: int | None = None,
    gpus_free: int | None = None,
) -> Plan:
    """Decide this pass's placements. `runnable(queue_arn)` yields that queue's RUNNABLE jobs in
    dispatch order and is consumed only as far as needed, so a pass costs in proportion to the jobs
    it places, not to the length of the queues.

    `consumables_available`: resource ARN -> quantity free now. `queue_caps_vcpus`: queue ARN ->
    the most vCPUs its jobs may hold (fair-share computeReservation, see `fair_share_cap_vcpus`),
    with `queue_usage_vcpus` the vCPUs they hold now. `host_gpus`/`gpus_free`: the host's GPUs and
    how many no placed job holds (None: GPUs are not counted)."""
    usage = dict(usage_vcpus)
    available = dict(consumables_available or {})
    caps = queue_caps_vcpus or {}
    queue_usage = dict(queue_usage_vcpus or {})
    slots = host_slots_free
    gpus = gpus_free
    decisions: list[Decision] = []
    wake_at_ms: int | None = None
    for queue in queue_order(queues):
        for job in runnable(queue.arn):
            blocked = blocked_reason(job, queue, environments, host_gpus)
            if blocked is not None:
                fail, due_ms = time_limit_fail(job, queue, blocked, now_ms)
                if fail is not None:
                    decisions.append(fail)
                    continue  # the next job becomes the head
                if job.status_reason != blocked:
                    decisions.append(SetStatusReason(job.job_id, blocked))
                if due_ms is not None:
                    wake_at_ms = due_ms if wake_at_ms is None else min(wake_at_ms, due_ms)
                break
            if job.status_reason in BLOCKED_REASONS:
                decisions.append(SetStatusReason(job.job_id, None))
            vcpus = job.container.vcpus
            if queue.arn in caps and queue_usage.get(queue.arn, 0.0) + vcpus > caps[queue.arn]:
                break
            if not has_consumables(job.consumables, available):
                break
            if gpus is not None and job.container.gpus > gpus:
                break
            target = first_fit(job, queue, environments, usage) if slots > 0 else None
            if target is None:
                break
            usage[target] = usage.get(target, 0.0) + vcpus
            queue_usage[queue.arn] = queue_usage.get(queue.arn, 0.0) + vcpus
            for claim in job.consumables:
                available[claim.resource_arn] -= claim.quantity
            slots -= 1
            if gpus is not None:
                gpus -= job.container.gpus
            decisions.append(Place(job.job_id, target))
    return Plan(tuple(decisions), wake_at_ms)


# ---- fair share ------------------------------------------------------------------------------


DEFAULT_WEIGHT = 1.0


def share_weight(policy: FairSharePolicy | None, share: str, active_shares: Iterable[str]) -> float:
    """The weightFactor of `share` (§16.4): its own entry; else the longest `prefix*` entry that
    matches, times the number of active identifiers that prefix matches; else 1.0."""
    if policy is None:
        return DEFAULT_WEIGHT
    best_prefix: tuple[str, float] | None = None
    for identifier, weight in policy.weights:
        if identifier == share:
            return weight
        if identifier.endswith("*") and share.startswith(identifier[:-1]):
            if best_prefix is None or len(identifier) > len(best_prefix[0]):
                best_prefix = (identifier, weight)
    if best_prefix is None:
        return DEFAULT_WEIGHT
    prefix = best_prefix[0][:-1]
    matching = sum(1 for other in set(active_shares) | {share} if other.startswith(prefix))
    return best_prefix[1] * matching


def fair_share_order(
    shares: Mapping[str, Iterable[Job]],
    usage_vcpus: Mapping[str, float],
    active_shares: Iterable[str],
    policy: FairSharePolicy | None,
    fifo_key: Callable[[Job], Hashable],
) -> Iterator[Job]:
    """A fair-share queue's RUNNABLE jobs in dispatch order, lazily.

    `shares` maps each share identifier to its RUNNABLE jobs, already in within-share order
    (priority, then FIFO); `usage_vcpus` gives each share's usage now (held plus decayed history)
    and `active_shares` the identifiers that count for prefix weights. Each pick takes the head of
    the share with the lowest weighted usage and counts that job's vCPUs into the share's usage,
    as if it were placed, so the order is the one successive passes would follow."""
    active = set(active_shares)
    weights = {share: share_weight(policy, share, active) for share in shares}
    usage = {share: usage_vcpus.get(share, 0.0) for share in shares}
    heads: list[tuple[float, Hashable, str]] = []
    iterators: dict[str, Iterator[Job]] = {}
    pending: dict[str, Job] = {}
    for share, jobs in shares.items():
        iterator = iter(jobs)
        head = next(iterator, None)
        if head is not None:
            iterators[share], pending[share] = iterator, head
            heapq.heappush(heads, (usage[share] * weights[share], fifo_key(head), share))
    while heads:
        _, _, share = heapq.heappop(heads)
        job = pending.pop(share)
        yield job
        usage[share] += job.container.vcpus
        head = next(iterators[share], None)
        if head is not None:
            pending[share] = head
            heapq.heappush(heads, (usage[share] * weights[share], fifo_key(head), share))


def fair_share_cap_vcpus(
    queue: JobQueue, environments: Mapping[str, ComputeEnvironment], active_shares: int
) -> float | None:
    """The most vCPUs a fair-share queue's jobs may hold now, keeping
    (computeReservation/100)^active_shares of its maximum vCPUs for shares not yet active; None
    when nothing is reserved (no reservation, or an environment with no vCPU limit)."""
    policy = queue.fair_share
    if policy is None or not policy.compute_reservation:
        return None
    usable = [
        environments[arn]
        for arn in queue.compute_environment_arns
        if arn in environments and environments[arn].is_enabled and environments[arn].is_valid
    ]
    if any(environment.max_vcpus is None for environment in usable):
        return None
    total = sum(environment.max_vcpus or 0.0 for environment in usable)
    reserved = total * (policy.compute_reservation / 100) ** max(1, active_shares)
    return total - reserved


# ---- retries ---------------------------------------------------------------------------------


RETRY = "RETRY"
EXIT = "EXIT"


def pattern_matches(pattern: str, value: str | None) -> bool:
    """§12.3: `*` alone matches anything (even a missing value); a trailing `*` matches a prefix;
    otherwise the whole string must be equal. Case-sensitive. A missing value matches only `*`."""
    if pattern == "*":
        return True
    if value is None:
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def rule_matches(rule: ExitRule, attempt: Attempt) -> bool:
    """Every condition the rule gives must match; a rule with none matches everything (§12.2)."""
    exit_code = None if attempt.exit_code is None else str(attempt.exit_code)
    conditions = (
        (rule.on_exit_code, exit_code),
        (rule.on_reason, attempt.reason),
        (rule.on_status_reason, attempt.status_reason),
    )
    return all(pattern_matches(pattern, value) for pattern, value in conditions if pattern is not None)


def matching_rule(rules: Iterable[ExitRule], attempt: Attempt) -> ExitRule | None:
    return next((rule for rule in rules if rule_matches(rule, attempt)), None)


def after_failed_attempt(retry: RetryPolicy, attempt: Attempt) -> str:
    """RETRY or EXIT for an attempt that did not succeed and may be retried at all (§12.3, §12.5):
    the first matching rule decides; with no match, retry while attempts remain."""
    rule = matching_rule(retry.rules, attempt)
    if rule is not None and rule.action.upper() == EXIT:
        return EXIT
    return RETRY if attempt.number < retry.attempts else EXIT
