"""ServiceJobEngine: the single owner of service-job state (SageMaker Training, reference §21).

Lifecycle (ServiceJobStatus, in AWS's order): SUBMITTED -> RUNNABLE -> SCHEDULED -> STARTING ->
RUNNING -> SUCCEEDED | FAILED. PENDING exists in the model but service jobs have no dependencies,
so nothing enters it. SCHEDULED means "submitted to SageMaker" (`scheduledAt`; the job holds its
capacity from here), STARTING "capacity acquired, downloading", RUNNING "training".

Commands (`submit`, `terminate`, `update_priority`) record under one lock and wake the loop; a pass
(`run_pass()`) moves each simulated job at most one step, so every status is observable, and the
loop runs another pass at once while anything moved. A training container's updates are applied as
they come: one that starts and exits between two passes goes through RUNNING to its end in one
pass (listeners still see both statuses). A pass reads the control plane through the injected
topology source (outside the engine lock, so a service holding the resource store's lock while it
calls a command can never deadlock with a pass), applies the runner's updates, then:
1. SUBMITTED jobs become RUNNABLE; jobs of a deleted queue are terminated;
2. in-flight jobs whose step is due move on: SCHEDULED -> STARTING (or back to RUNNABLE with the
   insufficient-capacity reason, keeping their place and spending no retry attempt), STARTING ->
   RUNNING, RUNNING -> the attempt's end; an attempt past `timeoutConfig.attemptDurationSeconds`
   (measured from RUNNING) fails, never retried;
3. `service_scheduling.plan_scheduling()` decides what is SCHEDULED, blocked or terminated by a
   `jobStateTimeLimitActions` rule.
A step that raises on one job (it should never happen; SubmitServiceJob refuses what it can
foresee) fails that job with `Internal emulator error: <error>` and the pass goes on with the
others.

Each attempt either runs the training image or goes through a simulated SageMaker, in order:
1. `script(key, *outcomes)` with the job id or job name as key (outcome n for attempt n, the last
   repeats), also reachable as the test control POST /_emulator/service-job-outcomes: simulated;
2. the training image, when the engine has a runner (a Docker executor) and its daemon had the
   payload's `TrainingImage` when the job was submitted (it is never pulled): the attempt is
   handed to the runner on entering STARTING (training_containers.py says how SageMaker's
   conventions are met), is RUNNING once the container runs, and ends with it;
   `MaxRuntimeInSeconds` and TerminateServiceJob stop the container;
3. the payload's `HyperParameters` (see `outcome_from_hyper_parameters`): simulated;
4. success after no time at all.
Simulated durations are measured on the engine's clock.

Choices where AWS is unverified:
- TerminateServiceJob acts at once, from any non-terminal status: the job is FAILED with the
  caller's reason and `isTerminated`, and a running attempt ends with the same reason.
- A failed attempt's statusReason is `Received status from SageMaker: <FailureReason>`, by analogy
  with the documented `Received status from SageMaker: Training job completed`; the default
  FailureReason is `Training job failed`. A timed-out attempt reads
  `Job attempt duration exceeded timeout`, as for container jobs.
- A training container stopped by `MaxRuntimeInSeconds` (measured from RUNNING) ends its attempt
  with `Received status from SageMaker: <SageMaker's MaxRuntimeExceeded message>`, retried as any
  other failed attempt; an attempt timeout that comes first is not retried. Stopping, by the
  runtime limit, an attempt timeout or TerminateServiceJob, ends the attempt at once and frees its
  capacity while the container is still being stopped.
- `startedAt` is set when the attempt reaches RUNNING; `attempts` lists finished attempts and
  `latestAttempt` names the current (or last) training job. Insufficient-capacity fallbacks create
  a new training job name but are not listed as attempts.
- Training job ARNs are `arn:<partition>:sagemaker:<region>:<account>:training-job/AWSBatch<jobName>
  <32 hex>` (the name form seen in AWS's event example; not truncated to SageMaker's 63 characters).
Not modelled: preemption (`preemptionSummary` never appears), quota-share lending and borrowing,
fair-share weights, more than one training container per attempt (`InstanceCount` > 1 runs algo-1
alone).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from emulator.engine import numeric_text
from emulator.engine import service_scheduling as scheduling
from emulator.engine import training_containers as training
from emulator.engine.clock import Clock
from emulator.engine.notifier import Notifier
from emulator.engine.pass_loop import PassLoop, broken_job_reason
from emulator.engine.service_records import (
    ServiceAttempt,
    ServiceJob,
    ServiceJobStatus,
    ServiceJobSubmission,
    ServiceTopology,
    apply_transition,
)
from emulator.executors.base import ExecutionUpdate, UpdateKind

log = logging.getLogger(__name__)

S = ServiceJobStatus
TRAINING_COMPLETED = "Received status from SageMaker: Training job completed"
SAGEMAKER_STATUS = "Received status from SageMaker: {reason}"
DEFAULT_FAILURE_REASON = "Training job failed"
ATTEMPT_TIMED_OUT = "Job attempt duration exceeded timeout"
QUEUE_DELETED = "Job queue deleted"

# HyperParameters the simulated SageMaker reads (all optional, values are strings as SageMaker's).
EXIT_PARAMETER = "batch-emulator-exit"  # "succeeded" (default) | "failed"
FAILURE_REASON_PARAMETER = "batch-emulator-failure-reason"  # SageMaker's FailureReason
DURATION_PARAMETER = "batch-emulator-duration-seconds"  # RUNNING -> end
CAPACITY_PARAMETER = "batch-emulator-insufficient-capacity"  # capacity failures before STARTING

# With RUNNABLE jobs waiting, the loop looks again this often even when nothing wakes it: capacity
# raised through UpdateServiceEnvironment or UpdateQuotaShare does not call this engine.
TOPOLOGY_RECHECK_SECONDS = 1.0


class ServiceJobNotFoundError(Exception):
    """A command named a service job id the engine does not hold."""


class ServiceJobFinishedError(Exception):
    """A command that needs a non-terminal job named a SUCCEEDED or FAILED one."""


class DuplicateServiceJobError(Exception):
    """The same client token and request were already submitted (reference §1.8)."""


@dataclass(frozen=True, slots=True)
class ServiceOutcome:
    """What the simulated SageMaker does with one attempt."""

    succeeded: bool = True
    failure_reason: str = DEFAULT_FAILURE_REASON
    scheduled_ms: int = 0  # SCHEDULED -> STARTING
    starting_ms: int = 0  # STARTING -> RUNNING
    duration_ms: int = 0  # RUNNING -> end
    insufficient_capacity: int = 0  # times SCHEDULED falls back to RUNNABLE before STARTING

    @property
    def status_reason(self) -> str:
        if self.succeeded:
            return TRAINING_COMPLETED
        return SAGEMAKER_STATUS.format(reason=self.failure_reason)


def outcome_from_hyper_parameters(parameters: Mapping[str, str]) -> ServiceOutcome:
    """The outcome the payload's HyperParameters ask for (EXIT_PARAMETER and friends above).
    SubmitServiceJob refuses a value `read_hyper_parameter_outcome` cannot read; one that reaches
    a pass all the same fails the attempt, saying why, and never the pass."""
    try:
        return read_hyper_parameter_outcome(parameters)
    except ValueError as error:
        return ServiceOutcome(succeeded=False, failure_reason=f"ClientError: {error}")


def read_hyper_parameter_outcome(parameters: Mapping[str, str]) -> ServiceOutcome:
    """As above; ValueError naming the hyperparameter when a value cannot be read. A duration is
    seconds (a fraction allowed) from 0 to ten years; a count of capacity failures a whole number
    within the model's Integer."""
    exit_value = parameters.get(EXIT_PARAMETER, "succeeded").strip().lower()
    if exit_value not in ("succeeded", "failed"):
        raise ValueError(f'HyperParameters {EXIT_PARAMETER} must be "succeeded" or "failed"')
    try:
        duration_ms = numeric_text.duration_ms(parameters.get(DURATION_PARAMETER, "0"), ms_per_unit=1000)
    except numeric_text.NumericTextError as error:
        raise ValueError(f"HyperParameters {DURATION_PARAMETER} {error}") from None
    try:
        capacity_failures = numeric_text.read_integer(
            parameters.get(CAPACITY_PARAMETER, "0"), 0, numeric_text.INT32_MAX
        )
    except numeric_text.NumericTextError as error:
        raise ValueError(f"HyperParameters {CAPACITY_PARAMETER} {error}") from None
    return ServiceOutcome(
        succeeded=exit_value == "succeeded",
        failure_reason=parameters.get(FAILURE_REASON_PARAMETER) or DEFAULT_FAILURE_REASON,
        duration_ms=duration_ms,
        insufficient_capacity=capacity_failures,
    )


@dataclass(slots=True)
class _AttemptPlan:
    outcome: ServiceOutcome
    capacity_failures_left: int
    attempt_id: str | None = None  # set when the attempt runs the training image


class ServiceJobEngine:
    def __init__(
        self,
        *,
        clock: Clock,
        topology_source: Callable[[], ServiceTopology] | None = None,
        new_resource_suffix: Callable[[], str] | None = None,
        runner: training.TrainingRunner | None = None,
    ) -> None:
        """`runner` runs training images (a Docker executor of its own: the engine polls all of
        its updates); without one every attempt is simulated."""
        self.clock = clock
        self.runner = runner
        self._topology_source = topology_source
        self._new_suffix = new_resource_suffix or (lambda: uuid.uuid4().hex)
        self._lock = threading.RLock()
        self._pass_loop = PassLoop(
            thread_name="batch-service-jobs",
            run_pass=self.run_pass,
            wait_seconds=self._wait_seconds,
            failure_message="service-job pass failed",
        )
        self._notifier: Notifier[ServiceJob, ServiceJobStatus] = Notifier("service job")
        self._scripts: dict[str, tuple[ServiceOutcome, ...]] = {}
        self._clear()
        self._pass_loop.wake_on_changes(clock, runner)

    def _clear(self) -> None:
        self._topology = ServiceTopology()
        self._jobs: dict[str, ServiceJob] = {}
        self._by_status: dict[ServiceJobStatus, dict[str, None]] = {status: {} for status in S}
        self._by_queue: dict[str, dict[str, None]] = {}
        self._tokens: dict[tuple[str | None, str | None], str] = {}  # (token, request digest) -> job id
        self._plans: dict[str, _AttemptPlan] = {}
        self._containers: dict[str, str] = {}  # attempt id of a training container -> job id
        self._next_sequence = 0
        self._time_limit_wake_ms: int | None = None
        self._again = False  # something moved since the last pass began: run one at once
        # (record, status entered, None) for a status change; (record, RUNNABLE, at_ms) for a
        # RUNNABLE job that got a blocked status reason.
        self._notices: list[tuple[ServiceJob, ServiceJobStatus, int | None]] = []

    def bind_topology(self, source: Callable[[], ServiceTopology]) -> None:
        """Where each pass reads service environments, queues and quota shares from."""
        self._topology_source = source
        self.wake()

    # ---- scripting (simulated SageMaker) ----
    def script(self, key: str, *outcomes: ServiceOutcome) -> None:
        """Outcomes for the attempts of the service jobs `key` (job id or name) names."""
        if not outcomes:
            raise ValueError("script() needs at least one ServiceOutcome")
        with self._lock:
            self._scripts[key] = tuple(outcomes)

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    # ---- commands ----
    def submit(self, submission: ServiceJobSubmission) -> ServiceJob:
        runs_image = self._has_image(submission)  # asks the daemon: never under the lock
        with self._lock:
            token_key = (submission.client_token, submission.request_digest)
            if submission.client_token is not None and token_key in self._tokens:
                raise DuplicateServiceJobError(self._tokens[token_key])
            now = self.clock.now_ms()
            job = ServiceJob(
                submission=submission,
                created_at_ms=now,
                sequence=self._next_sequence,
                scheduling_priority=submission.scheduling_priority,
                transitions=((S.SUBMITTED, now),),
                runs_training_image=runs_image,
            )
            self._next_sequence += 1
            self._jobs[job.job_id] = job
            self._by_status[job.status][job.job_id] = None
            self._by_queue.setdefault(job.queue_arn, {})[job.job_id] = None
            if submission.client_token is not None:
                self._tokens[token_key] = job.job_id
            self._notice(job)
        log.info(
            "service job %s: SUBMITTED to %s%s",
            job.job_id,
            job.queue_arn,
            " (runs its training image)" if runs_image else "",
        )
        self.wake()
        return job

    def _has_image(self, submission: ServiceJobSubmission) -> bool:
        container = submission.training_container
        return container is not None and self.runner is not None and self.runner.has_image(container.image)

    def terminate(self, job_id: str, reason: str) -> None:
        """From any non-terminal status; a finished job is left as it is."""
        with self._lock:
            job = self._require(job_id)
            if not job.status.is_terminal:
                self._terminate(job, reason, self.clock.now_ms())
                self._again = True  # its capacity is free: a pass is due
        self._notify()
        self.wake()

    def update_priority(self, job_id: str, scheduling_priority: int) -> ServiceJob:
        with self._lock:
            job = self._require(job_id)
            if job.status.is_terminal:
                raise ServiceJobFinishedError(job.status.value)
            job = self._jobs[job_id] = replace(job, scheduling_priority=scheduling_priority)
            self._again = True
        self.wake()
        return job

    def reset(self) -> None:
        """Forget every service job and script, stopping the training containers still running."""
        with self._lock:
            for attempt_id in self._containers:
                self.runner.stop(attempt_id, "emulator reset")
            self._clear()
            self._scripts.clear()

    # ---- queries ----
    def get_job(self, job_id: str) -> ServiceJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list_jobs(
        self, *, queue_arn: str | None = None, status: ServiceJobStatus | None = None
    ) -> list[ServiceJob]:
        """Jobs in creation order, optionally of one queue and one status."""
        with self._lock:
            if status is not None:
                ids = self._by_status[status]
                if queue_arn is not None:
                    members = self._by_queue.get(queue_arn, {})
                    ids = {job_id: None for job_id in ids if job_id in members}
            elif queue_arn is not None:
                ids = self._by_queue.get(queue_arn, {})
            else:
                ids = self._jobs
            jobs = [self._jobs[job_id] for job_id in ids]
        return sorted(jobs, key=lambda job: job.sequence)

    def add_listener(self, listener: Callable[[ServiceJob, ServiceJobStatus], None]) -> None:
        """Call `listener(job, status)` for every status a job enters, in order, outside the lock."""
        self._notifier.add_status_listener(listener)

    def add_blocked_listener(self, listener: Callable[[ServiceJob, int], None]) -> None:
        """Call `listener(job, at_ms)` when a RUNNABLE job gets a blocked status reason
        (`service_scheduling.BLOCKED_REASONS`: a head that can never fit, or a fall back from
        SCHEDULED for insufficient capacity) or a different one; never again for a pass that
        leaves the reason as it is. Told in order with the status changes, outside the lock."""
        self._notifier.add_blocked_listener(listener)

    def next_wakeup_ms(self) -> int | None:
        """The earliest clock time at which a pass has something to do without any command."""
        with self._lock:
            if self._again or self._by_status[S.SUBMITTED]:
                return self.clock.now_ms()
            candidates = [self._time_limit_wake_ms]
            for status in (S.SCHEDULED, S.STARTING, S.RUNNING):
                for job_id in self._by_status[status]:
                    job = self._jobs[job_id]
                    candidates += [job.step_due_ms, job.deadline_ms]
        known = [value for value in candidates if value is not None]
        return min(known) if known else None

    # ---- the pass ----
    def run_pass(self) -> None:
        source = self._topology_source
        topology = source() if source is not None else None  # never under the engine lock
        with self._lock:
            if topology is not None:
                self._topology = topology
            now = self.clock.now_ms()
            moved: set[str] = set()
            for update in self.runner.poll() if self.runner is not None else ():
                job_id = self._containers.get(update.attempt_id)
                if job_id is not None and self._guarded(job_id, now, self._record_update, update, now):
                    moved.add(job_id)
            for job_id in list(self._by_status[S.SUBMITTED]):
                job = self._jobs[job_id]
                self._guarded(job_id, now, self._move, job, S.RUNNABLE, now, runnable_at_ms=now)
                moved.add(job_id)
            self._terminate_deleted_queues(now, moved)
            for status in (S.RUNNING, S.STARTING, S.SCHEDULED):
                for job_id in list(self._by_status[status]):
                    if job_id in moved:
                        continue
                    if self._guarded(job_id, now, self._step, self._jobs[job_id], now):
                        moved.add(job_id)
            runnable = [self._jobs[job_id] for job_id in self._by_status[S.RUNNABLE] if job_id not in moved]
            in_flight = [
                self._jobs[job_id]
                for status in (S.SCHEDULED, S.STARTING, S.RUNNING)
                for job_id in self._by_status[status]
            ]
            plan = scheduling.plan_scheduling(self._topology, runnable, in_flight, now)
            self._time_limit_wake_ms = plan.wake_at_ms
            for decision in plan.decisions:
                if self._guarded(decision.job_id, now, self._apply, decision, now):
                    moved.add(decision.job_id)
            self._again = bool(moved)
        self._notify()

    def _guarded(self, job_id: str | None, now: int, step: Callable[..., object], *args, **kwargs) -> object:
        """One job's step of a pass: its result, or True when it raised and the job was failed
        instead (`_fail_broken`), so that the pass goes on with the other jobs."""
        try:
            return step(*args, **kwargs)
        except Exception as error:
            self._fail_broken(job_id, error, now)
            return True

    def _fail_broken(self, job_id: str | None, error: Exception, now: int) -> None:
        """FAILED with `broken_job_reason`, its attempt ended and its container stopped; if even
        that fails, the job leaves the status indexes a pass walks, so no pass meets it again."""
        log.error("service job %s: a pass failed on it; failing the job", job_id, exc_info=error)
        job = self._jobs.get(job_id) if job_id is not None else None
        if job is None or job.status.is_terminal:
            return
        try:
            self._fail_now(job, broken_job_reason(error), now, is_terminated=False)
        except Exception:
            log.exception("service job %s: could not be failed; no pass will look at it again", job_id)
            for ids in self._by_status.values():
                ids.pop(job_id, None)

    def _terminate_deleted_queues(self, now: int, moved: set[str]) -> None:
        for queue in self._topology.queues.values():
            if not queue.is_deleted:
                continue
            for job_id in list(self._by_queue.get(queue.arn, {})):
                job = self._jobs[job_id]
                if not job.status.is_terminal:
                    self._guarded(job_id, now, self._terminate, job, QUEUE_DELETED, now)
                    moved.add(job_id)

    def _step(self, job: ServiceJob, now: int) -> bool:
        """Move an in-flight job on if its step (or its timeout) is due; True if it moved. A
        training container's steps are its executor's updates (`_record_update`), not due times."""
        if job.status is S.RUNNING and job.deadline_ms is not None and job.deadline_ms <= now:
            if job.step_due_ms is None or job.deadline_ms <= job.step_due_ms:
                self._time_out(job, now)
                return True
        if job.step_due_ms is None or job.step_due_ms > now:
            return False
        plan = self._plans[job.job_id]
        if job.status is S.SCHEDULED:
            self._leave_scheduled(job, plan, now)
        elif job.status is S.STARTING:
            self._begin_running(job, plan, now)
        else:
            outcome = plan.outcome
            self._end_attempt(job, now, outcome.status_reason, succeeded=outcome.succeeded)
        return True

    def _leave_scheduled(self, job: ServiceJob, plan: _AttemptPlan, now: int) -> None:
        if plan.capacity_failures_left > 0:
            plan.capacity_failures_left -= 1
            self._move(
                job,
                S.RUNNABLE,
                now,
                status_reason=scheduling.INSUFFICIENT_INSTANCE_CAPACITY,
                current_attempt=None,
                step_due_ms=None,
            )
        elif plan.attempt_id is not None:
            job = self._move(job, S.STARTING, now, step_due_ms=None)
            container = job.submission.training_container
            assert container is not None and self.runner is not None  # runs_training_image says so
            arn = job.current_attempt.training_job_arn
            self._containers[plan.attempt_id] = job.job_id
            self.runner.start(training.execution_request(job, container, plan.attempt_id, arn, now))
        else:
            self._move(job, S.STARTING, now, step_due_ms=now + plan.outcome.starting_ms)

    def _begin_running(self, job: ServiceJob, plan: _AttemptPlan, now: int) -> ServiceJob:
        """STARTING -> RUNNING: the simulated attempt's duration, or its container's runtime
        limit, counts from here, and so does the attempt timeout."""
        limits_seconds = [job.submission.attempt_duration_seconds]
        step_due_ms: int | None = now + plan.outcome.duration_ms
        if plan.attempt_id is not None:
            step_due_ms = None  # it ends when its container does
            container = job.submission.training_container
            limits_seconds.append(container.max_runtime_seconds if container is not None else None)
        limits = [seconds for seconds in limits_seconds if seconds is not None]
        return self._move(
            job,
            S.RUNNING,
            now,
            current_attempt=replace(job.current_attempt, started_at_ms=now),
            started_at_ms=now,
            step_due_ms=step_due_ms,
            deadline_ms=now + min(limits) * 1000 if limits else None,
        )

    def _time_out(self, job: ServiceJob, now: int) -> None:
        """The attempt timeout (never retried) or, first, a container's MaxRuntimeInSeconds."""
        timeout = job.submission.attempt_duration_seconds
        started_at_ms = job.current_attempt.started_at_ms or now
        if timeout is not None and started_at_ms + timeout * 1000 <= now:
            self._end_attempt(job, now, ATTEMPT_TIMED_OUT, succeeded=False, may_retry=False)
        else:
            reason = SAGEMAKER_STATUS.format(reason=training.MAX_RUNTIME_EXCEEDED)
            self._end_attempt(job, now, reason, succeeded=False)

    def _record_update(self, update: ExecutionUpdate, now: int) -> str | None:
        """Apply what the runner says of a training container; the job id if it moved. An update
        for an attempt already ended (a timeout, a terminate, a reset) is dropped."""
        job_id = self._containers.get(update.attempt_id)
        if job_id is None:
            return None
        job, plan = self._jobs[job_id], self._plans[job_id]
        if update.kind is UpdateKind.RUNNING:
            if job.status is S.STARTING:
                self._begin_running(job, plan, now)
            return job_id
        del self._containers[update.attempt_id]
        if job.status is S.STARTING and update.kind is UpdateKind.EXITED and update.exit_code is not None:
            job = self._begin_running(job, plan, now)  # it ran, though its RUNNING update was missed
        reason = training.failure_reason(update)
        log.info(
            "service job %s: training container %s ended: %s",
            job_id,
            update.attempt_id,
            reason or "completed",
        )
        if reason is None:
            self._end_attempt(job, now, TRAINING_COMPLETED, succeeded=True)
        else:
            self._end_attempt(job, now, SAGEMAKER_STATUS.format(reason=reason), succeeded=False)
        return job_id

    def _apply(self, decision: scheduling.ServiceDecision, now: int) -> bool:
        job = self._jobs[decision.job_id]
        if isinstance(decision, scheduling.Block):  # decided only when the reason changes
            job = self._jobs[job.job_id] = replace(job, status_reason=decision.reason)
            if decision.reason is not None:
                log.info("service job %s: blocked: %s", job.job_id, decision.reason)
                self._notice_blocked(job, now)
            return False
        if isinstance(decision, scheduling.Terminate):
            self._terminate(job, decision.reason, now)
            return True
        self._schedule(job, now)
        return True

    def _schedule(self, job: ServiceJob, now: int) -> None:
        plan = self._plans.get(job.job_id)
        if plan is None:  # a new attempt; a resubmission after a capacity failure keeps its plan
            plan = self._plans[job.job_id] = self._plan_attempt(job, len(job.attempts) + 1)
        self._move(
            job,
            S.SCHEDULED,
            now,
            status_reason=None,
            scheduled_at_ms=now,
            current_attempt=ServiceAttempt(training_job_arn=self._training_job_arn(job)),
            capacity_wait_since_ms=job.capacity_wait_since_ms
            if job.capacity_wait_since_ms is not None
            else now,
            step_due_ms=now + plan.outcome.scheduled_ms,
        )

    def _end_attempt(
        self, job: ServiceJob, now: int, reason: str, *, succeeded: bool, may_retry: bool = True
    ) -> None:
        attempt = replace(job.current_attempt, stopped_at_ms=now, status_reason=reason)
        attempts = (*job.attempts, attempt)
        self._forget_plan(job.job_id, reason)
        ended = dict(
            attempts=attempts,
            current_attempt=None,
            step_due_ms=None,
            deadline_ms=None,
            capacity_wait_since_ms=None,
        )
        if succeeded:
            self._move(job, S.SUCCEEDED, now, status_reason=reason, stopped_at_ms=now, **ended)
        elif may_retry and scheduling.should_retry(job.submission.retry, len(attempts), reason):
            log.info("service job %s: attempt %d failed (%s), retrying", job.job_id, len(attempts), reason)
            self._move(job, S.RUNNABLE, now, status_reason=None, runnable_at_ms=now, **ended)
        else:
            self._move(job, S.FAILED, now, status_reason=reason, stopped_at_ms=now, **ended)

    def _terminate(self, job: ServiceJob, reason: str, now: int) -> None:
        self._fail_now(job, reason, now, is_terminated=True)

    def _fail_now(self, job: ServiceJob, reason: str, now: int, *, is_terminated: bool) -> None:
        """FAILED at once from any status, ending a current attempt with the same reason."""
        attempts = job.attempts
        if job.current_attempt is not None:
            attempts = (*attempts, replace(job.current_attempt, stopped_at_ms=now, status_reason=reason))
        self._forget_plan(job.job_id, reason)
        self._move(
            job,
            S.FAILED,
            now,
            status_reason=reason,
            is_terminated=is_terminated,
            stopped_at_ms=now,
            attempts=attempts,
            current_attempt=None,
            step_due_ms=None,
            deadline_ms=None,
        )

    def _move(self, job: ServiceJob, to: ServiceJobStatus, now: int, **changes: object) -> ServiceJob:
        new = apply_transition(job, to, now, **changes)
        self._jobs[job.job_id] = new
        del self._by_status[job.status][job.job_id]
        self._by_status[to][job.job_id] = None
        self._notice(new)
        if to is S.RUNNABLE and new.status_reason in scheduling.BLOCKED_REASONS:
            self._notice_blocked(new, now)  # back from SCHEDULED for insufficient capacity
        log.info("service job %s: %s -> %s", job.job_id, job.status.value, to.value)
        return new

    def _plan_attempt(self, job: ServiceJob, attempt_number: int) -> _AttemptPlan:
        """A script first, then the training image, then the hyperparameters (module docstring)."""
        outcome = None
        for key in (job.job_id, job.job_name):
            outcomes = self._scripts.get(key)
            if outcomes:
                outcome = outcomes[min(attempt_number, len(outcomes)) - 1]
                break
        if outcome is None and job.runs_training_image:
            return _AttemptPlan(ServiceOutcome(), 0, training.attempt_id(job.job_id, attempt_number))
        if outcome is None:
            parameters = dict(job.submission.hyper_parameters)
            outcome = outcome_from_hyper_parameters(parameters) if parameters else ServiceOutcome()
        return _AttemptPlan(outcome, outcome.insufficient_capacity)

    def _forget_plan(self, job_id: str, reason: str) -> None:
        """The attempt is over: a training container still running is stopped."""
        plan = self._plans.pop(job_id, None)
        if plan is not None and plan.attempt_id is not None and self._containers.pop(plan.attempt_id, None):
            log.info("service job %s: stopping training container %s (%s)", job_id, plan.attempt_id, reason)
            self.runner.stop(plan.attempt_id, reason)

    def _training_job_arn(self, job: ServiceJob) -> str:
        """`arn:<partition>:sagemaker:<region>:<account>:training-job/AWSBatch<jobName><32 hex>`."""
        parts = job.submission.job_arn.split(":")
        partition, region, account = parts[1], parts[3], parts[4]
        name = f"AWSBatch{job.job_name}{self._new_suffix()}"
        return f"arn:{partition}:sagemaker:{region}:{account}:training-job/{name}"

    def _require(self, job_id: str) -> ServiceJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise ServiceJobNotFoundError(job_id)
        return job

    # ---- notifications ----
    def _notice(self, job: ServiceJob) -> None:
        if self._notifier.status_listeners:
            self._notices.append((job, job.status, None))

    def _notice_blocked(self, job: ServiceJob, now: int) -> None:
        if self._notifier.blocked_listeners:
            self._notices.append((job, job.status, now))

    def _notify(self) -> None:
        self._notifier.tell(self._take_notices)

    def _take_notices(self) -> list[tuple[ServiceJob, ServiceJobStatus, int | None]]:
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    # ---- the loop ----
    def wake(self) -> None:
        """Ask the background loop for a pass now (commands and clock jumps call this)."""
        self._pass_loop.wake()

    def start(self) -> None:
        """Start the one background loop thread, `batch-service-jobs` (idempotent)."""
        self._pass_loop.start()

    def close(self) -> None:
        self._pass_loop.close()

    def _wait_seconds(self) -> float | None:
        """Until the next deadline; None (until woken) when nothing is due and nothing waits."""
        wakeup_ms = self.next_wakeup_ms()
        with self._lock:
            waiting = bool(self._by_status[S.RUNNABLE])
        ceiling = TOPOLOGY_RECHECK_SECONDS if waiting else None
        if wakeup_ms is None:
            return ceiling
        seconds = max(0.0, (wakeup_ms - self.clock.now_ms()) / 1000)
        return seconds if ceiling is None else min(ceiling, seconds)
