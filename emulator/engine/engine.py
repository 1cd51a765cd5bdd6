"""Engine: the single owner of job state.

Commands (`submit`, `request_cancel`, `request_terminate`, topology updates, fault injection)
validate and record intent under one lock; `run_pass()` acts on it. A background loop (`start()`)
runs a pass right after each command and whenever the earliest deadline comes due; tests call
`run_pass()` directly.

A pass: pull the executor's updates (RUNNING / EXITED / FAILED_TO_START) and apply them; apply the
recorded cancel/terminate/fault intents; stop attempts whose timeout has passed; move SUBMITTED jobs
on (spawning array children); settle dependencies and array parents until nothing changes; then
apply what `scheduling.plan_placements()` decides. Work is found through indexes (SUBMITTED jobs,
jobs to re-check for dependencies, RUNNABLE jobs per queue in dispatch order, a deadline heap,
array parents whose children changed), so a pass costs in proportion to the jobs that can change,
never to the number of jobs held.

Choices where AWS is unclear or an emulator has to differ:
- CancelJob on a PENDING job fails it at once; AWS waits for its dependencies to finish (§7).
- TerminateJob on SUBMITTED/PENDING/RUNNABLE fails the job at once and sets `is_terminated`.
- A stopped attempt (TerminateJob, timeout, host termination) keeps the job STARTING/RUNNING until
  the executor reports the container gone, as AWS keeps it RUNNING until ECS stops the task.
- Cancelling or terminating an array parent applies the same command to every child; the parent
  ends, with the caller's reason, once every child has ended (§7, §10).
- An array parent goes PENDING in the pass that spawns its children.
- Multi-node parallel jobs (§11, `multinode.py`): the parent is placed with every node's capacity;
  node jobs `<id>#<n>` run the containers, the main node first and the others, together, once it
  is RUNNING; the parent's status, times and exit follow the main node. When the main node exits
  the others get `mnp_stop_grace_seconds` on the clock to end by themselves (AWS takes seconds to
  notice the exit) and are then stopped as ECS stops a task; when the engine stops the job itself
  (TerminateJob, a lost host) they are stopped at once. ECS-/EKS-properties jobs run one
  multi-container task per attempt, judged by `tasks.py`; so does each node of a node range with
  `ecsProperties`/`eksProperties`.
- GPUs (§17.1): the host's GPU indexes (`gpus`) are a pool; each attempt is given specific indexes
  while placed, so two running attempts never share a GPU.
- A step of a pass that raises on one job (never expected: the service refuses what it can foresee)
  fails that job with `Internal emulator error: <error>`, giving up what it holds, and the pass
  goes on with the others (`_guarded`).

THIS MODULE'S PUBLIC API IS THE CONTRACT WITH THE BATCH SERVICE. Keep the signatures.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import math
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields, replace

from emulator.engine import dependencies, multinode, scheduling, states, tasks
from emulator.engine.clock import Clock
from emulator.engine.dependencies import DependencyState
from emulator.engine.ids import child_job_id, instance_id_for, job_arn, new_job_id, new_task_id
from emulator.engine.job_account import (
    JobAccess,
    JobCredentials,
    SecretResolver,
    SecretUnavailableError,
    dummy_credentials,
    read_secrets,
    secret_environment,
)
from emulator.engine.listing import JobListing, ListingKey
from emulator.engine.notifier import Notifier
from emulator.engine.pass_loop import PassLoop, broken_job_reason
from emulator.engine.records import (
    EMPTY_MAPPING,
    Attempt,
    ComputeEnvironment,
    ConsumableResource,
    ContainerResult,
    ContainerSpec,
    Job,
    JobQueue,
    JobStatus,
    JobSubmission,
)
from emulator.engine.usage import ConsumableLedger, ConsumableUsage, ShareIndex, decay_window_seconds
from emulator.executors.base import (
    ExecutionRequest,
    ExecutionUpdate,
    Executor,
    LogTarget,
    TaskMember,
    UpdateKind,
)
from emulator.stores.jobs import JobStore

log = logging.getLogger(__name__)

ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"
TASK_FAILED_TO_START = "Task failed to start"
ATTEMPT_TIMED_OUT = "Job attempt duration exceeded timeout"
ARRAY_CHILD_FAILED = "Array Child Job failed"
HOST_TERMINATED = "Host EC2 (instance {instance_id}) terminated."
QUEUE_DELETED = "Job queue deleted"

ACTIVE_STATUSES = (
    JobStatus.SUBMITTED,
    JobStatus.PENDING,
    JobStatus.RUNNABLE,
    JobStatus.STARTING,
    JobStatus.RUNNING,
)

# How long the background loop waits at most: with executors that cannot say when their next
# update is due (Docker, processes) it polls this often while attempts are in flight.
POLL_INTERVAL_SECONDS = 0.05
IDLE_WAIT_SECONDS = 1.0


class JobNotFoundError(Exception):
    """A command named a job id the engine does not hold."""


@dataclass(frozen=True, slots=True)
class _Intent:
    kind: str  # "cancel" | "terminate" | "host" | "fail"
    job_id: str
    reason: str
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why the engine stopped an attempt, applied when the executor reports it ended."""

    status_reason: str
    is_retryable: bool
    is_terminated: bool = False
    overrides_exit: bool = False  # use exit_code/container_reason below, not the executor's
    exit_code: int | None = None
    container_reason: str | None = None
    # The attempt is still judged by its exit code (an MNP node stopped because the main node exited).
    keeps_exit_verdict: bool = False
    # The job's status reason, with no exit code or container reason, when the attempt ends without
    # ever having run (an MNP node whose container had not started when the main node exited).
    status_reason_if_never_ran: str | None = None


# How the other nodes of a multi-node job are stopped once its main node has exited (§11): each
# keeps the verdict of its own exit code; one whose container never ran says why.
MAIN_NODE_EXIT_STOP = _Stop(
    ESSENTIAL_CONTAINER_EXITED,
    is_retryable=False,
    keeps_exit_verdict=True,
    status_reason_if_never_ran=multinode.MAIN_NODE_EXITED,
)


class Engine:
    def __init__(
        self,
        *,
        clock: Clock,
        executor: Executor,
        max_running: int,
        endpoint_url: str = "",
        new_job_id: Callable[[], str] | None = None,
        new_task_id: Callable[[], str] | None = None,
        job_store: JobStore | None = None,
        gpus: int = 0,
        mnp_stop_grace_seconds: float = 5.0,
        job_credentials: JobCredentials = dummy_credentials,
        resolve_secrets: SecretResolver | None = None,
    ) -> None:
        """`job_credentials` and `resolve_secrets` link jobs to their account (job_account.py)."""
        self.clock = clock
        self.executor = executor
        self.max_running = max(1, max_running)
        self.host_gpus = max(0, gpus)  # GPUs on this host, indexes 0..gpus-1
        # How long the other nodes of a multi-node job may run on after its main node exited (§11).
        self.mnp_stop_grace_ms = round(max(0.0, mnp_stop_grace_seconds) * 1000)
        self.endpoint_url = endpoint_url
        self._job_credentials = job_credentials
        self._resolve_secrets = resolve_secrets
        self._new_job_id = new_job_id or _default_job_id
        self._new_task_id = new_task_id or _default_task_id
        # Write-through for --state-dir (emulator/stores/jobs.py); None: nothing is tracked.
        self._job_store = job_store
        self._lock = threading.RLock()
        self._pass_loop = PassLoop(
            thread_name="batch-engine",
            run_pass=self.run_pass,
            wait_seconds=self._wait_seconds,
            failure_message="engine pass failed",
        )
        # Told (job, status) for every status a job enters and (job, at_ms) when a queue's head job
        # gets a blocked status reason, in order, outside the lock.
        self._notifier: Notifier[Job, JobStatus] = Notifier("job")
        self._clear()
        self._pass_loop.wake_on_changes(clock, executor)

    def _clear(self) -> None:
        self._environments: dict[str, ComputeEnvironment] = {}
        self._queues: dict[str, JobQueue] = {}
        self._jobs: dict[str, Job] = {}
        # Creation order, the last FIFO tie-breaker; only unfinished jobs need one.
        self._sequence: dict[str, int] = {}
        self._next_sequence = 0
        # top-level jobs per queue and status, and array children per parent and status, in
        # ListJobs order: for list_jobs, page_jobs and DeleteJobQueue
        self._by_queue: dict[str, dict[JobStatus, JobListing]] = {}
        self._by_parent: dict[str, dict[JobStatus, JobListing]] = {}
        self._runnable: dict[str, list[tuple[int, int, int, str]]] = {}  # queue -> sorted keys
        self._runnable_key: dict[str, tuple[int, int, int, str]] = {}
        self._submitted: dict[str, None] = {}
        self._to_check: dict[str, None] = {}  # PENDING jobs whose dependencies may have changed
        self._waiters: dict[str, set[str]] = {}  # dependency id -> jobs waiting for it
        self._child_counts: dict[str, dict[JobStatus, int]] = {}  # array parent -> status counts
        self._parents_changed: dict[str, None] = {}
        self._parent_stops: dict[str, _Intent] = {}
        self._intents: list[_Intent] = []
        self._attempt_jobs: dict[str, str] = {}  # attempt id -> job id, while STARTING/RUNNING
        self._stops: dict[str, _Stop] = {}  # attempt id -> why the engine stopped it
        self._deadlines: list[tuple[int, str]] = []  # (deadline_ms, attempt id), a heap
        # (due_ms, multi-node parent id, attempt number), a heap: when that attempt's nodes that
        # are still running are stopped, its main node having exited (or the job being stopped).
        self._node_stops: list[tuple[int, str, int]] = []
        self._usage_vcpus: dict[str, float] = {}
        self._gpus_free: list[int] = list(range(self.host_gpus))  # GPU indexes no attempt holds
        self._time_limit_wake_ms: int | None = None
        self._shares = ShareIndex()  # fair-share queues: RUNNABLE jobs per share, vCPUs held
        self._consumables = ConsumableLedger()
        # Not yet told to listeners: (record, status entered, None) for a status change,
        # (record, RUNNABLE, at_ms) for a head job that got a blocked status reason.
        self._notices: list[tuple[Job, JobStatus, int | None]] = []
        # With a job store: what changed since the last commit, the keys of the intents not yet
        # applied, and executor starts held back until the records that place them are committed.
        self._dirty: dict[str, None] = {}
        self._dirty_notes: dict[str, dict | None] = {}
        self._intent_keys: list[str] = []
        self._intent_numbers = itertools.count(1)
        self._pending_starts: list[ExecutionRequest] = []

    # ---- topology (pushed by the Batch service whenever a CE or queue changes) ----
    def put_compute_environment(self, environment: ComputeEnvironment) -> None:
        with self._lock:
            self._environments[environment.arn] = environment
        self.wake()

    def remove_compute_environment(self, arn: str) -> None:
        """Jobs already placed on it run to the end; nothing new goes there."""
        with self._lock:
            self._environments.pop(arn, None)
        self.wake()

    def put_queue(self, queue: JobQueue) -> None:
        with self._lock:
            self._queues[queue.arn] = queue
        self.wake()

    def put_consumable_resource(self, resource: ConsumableResource) -> None:
        """Create a consumable resource or replace its total; quantities in use stay in use."""
        with self._lock:
            self._consumables.put(resource)
        self.wake()

    def remove_consumable_resource(self, arn: str) -> None:
        with self._lock:
            self._consumables.remove(arn)
        self.wake()

    def remove_queue(self, arn: str) -> None:
        """Jobs still in the queue are terminated (reference §5.2 DeleteJobQueue)."""
        with self._lock:
            self._queues.pop(arn, None)
            for status in ACTIVE_STATUSES:
                for job_id in self._by_queue.get(arn, {}).get(status, ()):
                    self._queue_intent(_Intent("terminate", job_id, QUEUE_DELETED))
            self._commit()
        self.wake()

    # ---- commands ----
    def submit(self, submission: JobSubmission) -> Job:
        """Record a new job in SUBMITTED (array parents spawn children on the next pass). Figures
        scheduling adds up must be finite and not negative (ValueError): one NaN would make every
        later capacity comparison false."""
        figures = submission.container
        if not math.isfinite(figures.vcpus) or min(figures.vcpus, figures.memory_mib, figures.gpus) < 0:
            raise ValueError(f"job {submission.name}: vCPUs, memory and GPUs must be finite and not negative")
        with self._lock:
            now = self.clock.now_ms()
            job_id = self._new_job_id()
            # The same few strings arrive as new objects with every request: keep one of each.
            region, account_id = sys.intern(submission.region), sys.intern(submission.account_id)
            job = Job(
                job_id=job_id,
                arn=job_arn(region, account_id, job_id),
                name=sys.intern(submission.name),
                account_id=account_id,
                region=region,
                queue_arn=sys.intern(submission.queue_arn),
                queue_name=sys.intern(submission.queue_name),
                definition_arn=sys.intern(submission.definition_arn),
                container=submission.container,
                status=JobStatus.SUBMITTED,
                created_at_ms=now,
                depends_on=submission.depends_on,
                array_size=submission.array_size,
                status_summary=_summary({}) if submission.array_size is not None else None,
                retry=submission.retry,
                timeout_seconds=submission.timeout_seconds,
                share_identifier=submission.share_identifier,
                scheduling_priority=submission.scheduling_priority,
                tags=dict(submission.tags) if submission.tags else EMPTY_MAPPING,
                detail=submission.detail,
                transitions=((JobStatus.SUBMITTED, now),),
                consumables=submission.consumables,
                task=submission.task,
                multinode=submission.multinode,
            )
            self._add(job)
            self._commit()  # durable before SubmitJob answers
            log.info("job %s submitted to %s", job_id, submission.queue_name)
        # Listeners hear of SUBMITTED at the end of the pass this wakes, still before any later
        # change of the job: telling them here would make the request wait for a pass that is
        # telling them about other jobs.
        self.wake()
        return job

    def request_cancel(self, job_id: str, reason: str) -> None:
        """SUBMITTED/PENDING/RUNNABLE jobs fail with `reason`; STARTING/RUNNING ones are left alone
        (reference §7). An array parent passes the cancel on to its children."""
        self._record_intent(_Intent("cancel", job_id, reason))

    def request_terminate(self, job_id: str, reason: str) -> None:
        """Like cancel, and STARTING/RUNNING attempts are stopped; the job then fails with `reason`."""
        self._record_intent(_Intent("terminate", job_id, reason))

    def simulate_host_termination(self, job_id: str) -> None:
        """Fault injection: the instance running the job's attempt goes away. The attempt ends with
        no exit code and `Host EC2 (instance i-...) terminated.`, and is retried if the retry
        strategy allows. No effect unless the job is STARTING or RUNNING."""
        self._record_intent(_Intent("host", job_id, ""))

    def fail_attempt(self, job_id: str, reason: str, exit_code: int | None = 137) -> None:
        """Fault injection: the running container dies with `exit_code` and container `reason`
        (e.g. `OutOfMemoryError: Container killed due to memory usage`, 137); the attempt is judged
        like any failed attempt. No effect unless the job is STARTING or RUNNING."""
        self._record_intent(_Intent("fail", job_id, reason, exit_code))

    def _record_intent(self, intent: _Intent) -> None:
        with self._lock:
            if intent.job_id not in self._jobs:
                raise JobNotFoundError(intent.job_id)
            self._queue_intent(intent)
            self._commit()  # durable before the API answers
        self.wake()

    def reset(self) -> None:
        """Forget every job and all topology; attempts in flight are stopped first."""
        with self._lock:
            for attempt_id in list(self._attempt_jobs):
                self.executor.stop(attempt_id, "emulator reset")
            self._clear()
            if self._job_store is not None:
                self._job_store.clear()
        self.wake()

    def restore(self) -> list[str]:
        """Load the jobs and notes of the job store (a restart with --state-dir) and rebuild every
        index; push the topology first. An attempt that was STARTING or RUNNING is offered to the
        executor's `adopt(request)`: one whose container still exists (found by its labels) is
        followed to its end as if there had been no restart; any other was lost with its host and
        fails with `Host EC2 (instance i-...) terminated.`, retried if the strategy allows. No
        attempt is ever started twice: adoption never starts anything, and a retry is a new
        attempt. Returns the ids of the attempts adopted."""
        if self._job_store is None:
            return []
        adopt = getattr(self.executor, "adopt", None)
        adopted: list[str] = []
        with self._lock:
            now = self.clock.now_ms()
            for job in self._job_store.load_all():
                self._add(job)
                if job.status is JobStatus.PENDING:
                    target = self._parents_changed if job.is_array_parent else self._to_check
                    target[job.job_id] = None
            self._notices.clear()  # restored, not new: no state-change events for them
            self._dirty.clear()
            self._restore_notes(self._job_store.load_notes())
            for job in [
                j for j in self._jobs.values() if j.status in (JobStatus.STARTING, JobStatus.RUNNING)
            ]:
                attempt_id = self._restore_attempt(job)
                if attempt_id is None:
                    continue
                environment = self._environments.get(job.current_attempt.compute_environment_arn)
                request = build_execution_request(
                    job, job.current_attempt, environment.name if environment else "", self.endpoint_url
                )
                if callable(adopt) and adopt(request):
                    adopted.append(attempt_id)
                    if attempt_id in self._stops:  # it was being stopped when the server died
                        self.executor.stop(attempt_id, self._stops[attempt_id].status_reason)
                    continue
                log.info("job %s: attempt %s was lost with the emulator's restart", job.job_id, attempt_id)
                task_id = job.current_attempt.task_id
                reason = HOST_TERMINATED.format(instance_id=instance_id_for(task_id))
                self._stops.setdefault(attempt_id, _Stop(reason, is_retryable=True, overrides_exit=True))
                kind = UpdateKind.FAILED_TO_START if job.status is JobStatus.STARTING else UpdateKind.EXITED
                self._record_update(ExecutionUpdate(attempt_id, kind), now)
            self._restore_node_stops()
            self._commit()
        self._notify()
        self.wake()
        return adopted

    def _restore_node_stops(self) -> None:
        """Nodes still running whose main node had exited before the restart: stopped a grace after
        that exit, as if the server had not stopped."""
        for node in self._jobs.values():
            if not getattr(node, "is_node", False) or node.current_attempt is None:
                continue
            if node.multinode.is_main_node:
                continue
            parent_id = node.job_id.rpartition("#")[0]
            main = self._jobs.get(multinode.main_node_id(self._jobs[parent_id]))
            number = node.current_attempt.number
            if main is None or (main.current_attempt is not None and main.current_attempt.number == number):
                continue  # the main node still runs this attempt
            exited_at = [a.stopped_at_ms for a in main.attempts if a.number == number and a.stopped_at_ms]
            due = (exited_at[-1] if exited_at else 0) + self.mnp_stop_grace_ms
            heapq.heappush(self._node_stops, (due, parent_id, number))

    def _restore_attempt(self, job: Job) -> str | None:
        """Account again for what a placed attempt holds; its attempt id, or None for a job whose
        attempts are run by other jobs (a multi-node parent's nodes)."""
        attempt = job.current_attempt
        if attempt is None:
            return None
        if not getattr(job, "is_node", False):  # node jobs hold nothing: their parent does
            arn = attempt.compute_environment_arn
            self._usage_vcpus[arn] = self._usage_vcpus.get(arn, 0.0) + job.container.vcpus
            self._shares.hold(job, self.clock.now_ms(), self._share_window(job))
            self._consumables.lock(job)
            held = set(getattr(attempt, "gpu_ids", ()))
            if held:
                self._gpus_free = [index for index in self._gpus_free if index not in held]
        if getattr(job, "is_multinode_parent", False):
            return None
        attempt_id = _attempt_id(job.job_id, attempt.number)
        self._attempt_jobs[attempt_id] = job.job_id
        if job.status is JobStatus.RUNNING and job.timeout_seconds and attempt.started_at_ms is not None:
            heapq.heappush(self._deadlines, (attempt.started_at_ms + job.timeout_seconds * 1000, attempt_id))
        return attempt_id

    def _restore_notes(self, notes: dict[str, dict]) -> None:
        numbers = [0]
        for key in sorted(notes):
            kind, _, name = key.partition(":")
            if kind == "intent":
                self._intents.append(_from_note(_Intent, notes[key]))
                self._intent_keys.append(key)
                numbers.append(int(name))
            elif kind == "stop":
                self._stops[name] = _from_note(_Stop, notes[key])
            elif kind == "parent-stop":
                self._parent_stops[name] = _from_note(_Intent, notes[key])
        self._intent_numbers = itertools.count(max(numbers) + 1)

    # ---- queries (return current records; never change state) ----
    def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def get_jobs(self, job_ids: Iterable[str]) -> list[Job]:
        """The jobs found, in the order asked; unknown ids are skipped."""
        with self._lock:
            return [self._jobs[job_id] for job_id in job_ids if job_id in self._jobs]

    def list_jobs(
        self,
        *,
        queue_arn: str | None = None,
        array_job_id: str | None = None,
        status: JobStatus | None = None,
        multi_node_job_id: str | None = None,
    ) -> list[Job]:
        """Newest first. By queue: top-level jobs only; by array_job_id: that parent's children;
        by multi_node_job_id: that job's node jobs (once it has been placed)."""
        with self._lock:
            if multi_node_job_id is not None:
                parent = self._jobs.get(multi_node_job_id)
                if parent is None or not parent.is_multinode_parent:
                    return []
                found = [self._jobs[n] for n in multinode.node_ids(parent) if n in self._jobs]
                found = [job for job in found if status is None or job.status is status]
            elif array_job_id is not None:
                parent = self._jobs.get(array_job_id)
                if parent is None or not parent.is_array_parent:
                    return []
                found = [self._jobs[child_id] for child_id in self._children_of(parent)]
                found = [job for job in found if status is None or job.status is status]
            elif queue_arn is not None:
                by_status = self._by_queue.get(queue_arn, {})
                statuses = [status] if status is not None else list(JobStatus)
                found = [self._jobs[job_id] for s in statuses for job_id in by_status.get(s, ())]
            else:
                found = [job for job in self._jobs.values() if status is None or job.status is status]
            # Finished jobs keep no sequence: among those, equal times keep the index's order.
            found.sort(key=lambda job: (job.created_at_ms, self._sequence.get(job.job_id, -1)), reverse=True)
            return found

    def page_jobs(
        self,
        status: JobStatus,
        *,
        queue_arn: str | None = None,
        array_job_id: str | None = None,
        multi_node_job_id: str | None = None,
        after: ListingKey | None = None,
        limit: int = 100,
        where: Callable[[Job], bool] | None = None,
    ) -> list[Job]:
        """Up to `limit` jobs in `status`, in ListJobs order: newest first, then by job id, starting
        after the key `after` = (created_at_ms, job_id) of the last job of the previous page. Which
        jobs, as for list_jobs: a queue's top-level jobs, an array's children, or a multi-node
        job's nodes; `where`, if given, keeps only the jobs it accepts. Costs O(log n + jobs
        looked at) from the creation-ordered indexes, not O(jobs held)."""
        with self._lock:
            if multi_node_job_id is not None:
                candidates = self._node_ids_listed(multi_node_job_id, status, after)
            elif array_job_id is not None:
                parent = self._jobs.get(array_job_id)
                if parent is None or not parent.is_array_parent:
                    return []
                listing = self._by_parent.get(array_job_id, {}).get(status)
                candidates = listing.newest(after) if listing is not None else iter(())
            elif queue_arn is not None:
                listing = self._by_queue.get(queue_arn, {}).get(status)
                candidates = listing.newest(after) if listing is not None else iter(())
            else:
                raise ValueError("page_jobs needs queue_arn, array_job_id or multi_node_job_id")
            found: list[Job] = []
            for job_id in candidates:
                if len(found) >= limit:
                    break
                job = self._jobs[job_id]
                if where is None or where(job):
                    found.append(job)
            return found

    def _node_ids_listed(self, parent_id: str, status: JobStatus, after: ListingKey | None) -> list[str]:
        """A multi-node job's node ids in `status`, in ListJobs order (a few nodes: sorted here)."""
        parent = self._jobs.get(parent_id)
        if parent is None or not parent.is_multinode_parent:
            return []
        keys = [
            (-node.created_at_ms, node.job_id)
            for node in (self._jobs.get(node_id) for node_id in multinode.node_ids(parent))
            if node is not None and node.status is status
        ]
        if after is not None:
            keys = [key for key in keys if key > (-after[0], after[1])]
        return [job_id for _, job_id in sorted(keys)]

    def queue_front(self, queue_arn: str, limit: int = 100) -> list[Job]:
        """RUNNABLE jobs of the queue in the order the scheduler will dispatch them (§16.7)."""
        with self._lock:
            return list(itertools.islice(self._runnable_jobs(queue_arn), max(0, limit)))

    def consumable_usage(self, arn: str) -> ConsumableUsage | None:
        """Total and in-use quantity of a consumable resource; None if the engine does not know it."""
        with self._lock:
            return self._consumables.usage(arn)

    def jobs_using_consumable(self, arn: str) -> list[Job]:
        """Every job (array children, not their parents) that claims the resource, oldest first."""
        with self._lock:
            return [self._jobs[job_id] for job_id in self._consumables.consumers(arn) if job_id in self._jobs]

    def add_listener(self, listener: Callable[[Job, JobStatus], None]) -> None:
        """Call `listener(job, status)` for every status a job enters (SUBMITTED for a new job,
        PENDING for a new array child, then each transition), in the order they happened, after
        the change is committed and outside the engine lock; `job` is the record as it was right
        after the change. Only changes made after the listener was added are told. Listeners run
        on the thread that made the change and must not block."""
        self._notifier.add_status_listener(listener)

    def add_blocked_listener(self, listener: Callable[[Job, int], None]) -> None:
        """Call `listener(job, at_ms)` when the RUNNABLE job at the head of a queue gets a blocked
        status reason (reference §16.5, `scheduling.BLOCKED_REASONS`) or a different one: once per
        reason, not on every pass that finds it still blocked. `job` is the record carrying the
        reason, `at_ms` the clock time of the pass that set it. Told in order with the status
        changes, under the same rules as `add_listener`."""
        self._notifier.add_blocked_listener(listener)

    def next_wakeup_ms(self) -> int | None:
        """The earliest clock time at which a pass has something to do without any command:
        an attempt timeout, a time-limit action, or the executor's next update if it can say."""
        with self._lock:
            while self._deadlines and self._deadlines[0][1] not in self._attempt_jobs:
                heapq.heappop(self._deadlines)
            candidates = [self._time_limit_wake_ms]
            if self._deadlines:
                candidates.append(self._deadlines[0][0])
            if self._node_stops:
                candidates.append(self._node_stops[0][0])
        next_event = getattr(self.executor, "next_event_ms", None)
        if callable(next_event):
            candidates.append(next_event())
        known = [value for value in candidates if value is not None]
        return min(known) if known else None

    # ---- the loop ----
    def run_pass(self) -> None:
        with self._lock:
            now = self.clock.now_ms()
            for update in self.executor.poll():
                job_id = self._attempt_jobs.get(update.attempt_id)
                self._guarded(job_id, now, self._record_update, update, now)
            intents, self._intents = self._intents, []
            for key in self._intent_keys:  # applied below, settled in this pass's commit
                self._note(key, None)
            self._intent_keys = []
            for intent in intents:
                self._guarded(intent.job_id, now, self._apply_intent, intent, now)
            self._stop_timed_out(now)
            self._stop_nodes_due(now)
            for job_id in list(self._submitted):
                self._guarded(job_id, now, self._advance_submitted, self._jobs[job_id], now)
            self._settle(now)
            plan = scheduling.plan_placements(
                list(self._queues.values()),
                self._environments,
                self._runnable_jobs,
                self._usage_vcpus,
                self.max_running - len(self._attempt_jobs),
                now,
                consumables_available=self._consumables.available(),
                host_gpus=self.host_gpus,
                gpus_free=len(self._gpus_free),
                **self._fair_share_caps(),
            )
            self._time_limit_wake_ms = plan.wake_at_ms
            for decision in plan.decisions:
                self._guarded(decision.job_id, now, self._apply_decision, decision, now)
            self._settle(now)
            self._publish_summaries(now)
            self._commit()
        self._notify()

    def _notify(self) -> None:
        """Tell listeners about the status changes committed so far, in order."""
        self._notifier.tell(self._take_notices)

    def _take_notices(self) -> list[tuple[Job, JobStatus, int | None]]:
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    def wake(self) -> None:
        """Ask the background loop for a pass now (commands, clock jumps and executors call this);
        coalesced, see `PassLoop.wake`."""
        self._pass_loop.wake()

    def start(self) -> None:
        """Start the one background loop thread, `batch-engine` (idempotent)."""
        self._pass_loop.start()

    def close(self) -> None:
        """Stop the loop and wait for it; the executor is closed by whoever built it."""
        self._pass_loop.close()

    def _wait_seconds(self) -> float:
        wakeup_ms = self.next_wakeup_ms()
        with self._lock:
            in_flight = bool(self._attempt_jobs)
        ceiling = IDLE_WAIT_SECONDS
        if in_flight and not callable(getattr(self.executor, "next_event_ms", None)):
            ceiling = POLL_INTERVAL_SECONDS
        if wakeup_ms is None:
            return ceiling
        return max(0.0, min(ceiling, (wakeup_ms - self.clock.now_ms()) / 1000))

    # ---- a job a pass cannot handle ----
    def _guarded(self, job_id: str | None, now: int, step: Callable[..., object], *args) -> None:
        """One job's step of a pass. If it raises, the job is failed instead (`_fail_broken`) and
        the pass goes on: nothing one job carries may stop every job."""
        try:
            step(*args)
        except Exception as error:
            self._fail_broken(job_id, error, now)

    def _fail_broken(self, job_id: str | None, error: Exception, now: int) -> None:
        """FAILED with `broken_job_reason` (a node's failure is its multi-node job's), after giving
        up what it holds. Should even that raise, the job leaves the indexes a pass works from,
        so that no pass meets it again."""
        log.error("job %s: a pass failed on it; failing the job", job_id, exc_info=error)
        job = self._jobs.get(job_id) if job_id is not None else None
        if job is not None and job.is_node:
            job = self._jobs.get(job.job_id.rpartition("#")[0])
        if job is None or job.status.is_terminal:
            return
        reason = broken_job_reason(error)
        try:
            self._let_go(job, reason, now)
            job = self._jobs[job.job_id]
            attempts = job.attempts
            if job.current_attempt is not None:
                attempts = (*attempts, replace(job.current_attempt, stopped_at_ms=now, status_reason=reason))
            self._transition(
                job, JobStatus.FAILED, now, status_reason=reason, attempts=attempts, current_attempt=None
            )
        except Exception:
            log.exception("job %s: could not be failed; no pass will look at it again", job.job_id)
            self._forget_work(job)

    def _let_go(self, job: Job, reason: str, now: int) -> None:
        """What a job being failed holds: an array's children are terminated, a multi-node job's
        nodes stopped (or failed, not yet started), a placed attempt stopped and its capacity,
        GPUs and consumables given back."""
        if job.is_array_parent:
            for child_id in list(self._children_of(job)):
                self._apply_intent(_Intent("terminate", child_id, reason), now)
            return
        attempt = job.current_attempt
        if attempt is None:
            return
        if job.is_multinode_parent:
            for node in [self._jobs.get(node_id) for node_id in multinode.node_ids(job)]:
                if node is not None and node.status is JobStatus.RUNNABLE:
                    self._transition(node, JobStatus.FAILED, now, status_reason=reason)
                elif node is not None and node.current_attempt is not None:
                    self._stop_attempt(node, _Stop(reason, is_retryable=False))
        else:
            attempt_id = _attempt_id(job.job_id, attempt.number)
            if self._attempt_jobs.pop(attempt_id, None) is None:
                return  # placement failed before the attempt held anything (see `_place`)
            self._stops.pop(attempt_id, None)
            self._note(f"stop:{attempt_id}", None)
            try:
                self.executor.stop(attempt_id, reason)
            except Exception:
                log.exception("job %s: stopping attempt %s failed", job.job_id, attempt_id)
        self._release(job)
        self._consumables.give_back(job, is_final=True)

    def _forget_work(self, job: Job) -> None:
        self._submitted.pop(job.job_id, None)
        self._to_check.pop(job.job_id, None)
        self._parents_changed.pop(job.job_id, None)
        key = self._runnable_key.pop(job.job_id, None)
        keys = self._runnable.get(job.queue_arn, [])
        if key in keys:
            keys.remove(key)
        self._shares.remove_runnable(job.job_id)

    # ---- write-through to the job store (--state-dir) ----
    def _queue_intent(self, intent: _Intent) -> None:
        self._intents.append(intent)
        if self._job_store is not None:
            key = f"intent:{next(self._intent_numbers):012d}"
            self._intent_keys.append(key)
            self._dirty_notes[key] = asdict(intent)

    def _note(self, key: str, value: dict | None) -> None:
        if self._job_store is not None:
            self._dirty_notes[key] = value

    def _start(self, request: ExecutionRequest) -> None:
        """Every executor start goes through here and waits for `_commit` at the end of the pass,
        so a start the same pass takes back (`_withdraw_start`) never reaches the executor."""
        self._pending_starts.append(request)

    def _withdraw_start(self, attempt_id: str) -> bool:
        """Take back a start not yet handed to the executor; False when it already was."""
        for index, request in enumerate(self._pending_starts):
            if request.attempt_id == attempt_id:
                del self._pending_starts[index]
                return True
        return False

    def _commit(self) -> None:
        """Write the changed jobs and notes in one transaction, then start the attempts those
        records place. A crash between the two leaves a STARTING attempt with no container, which
        `restore` fails as lost; never a container the store does not know. A failed write leaves
        everything pending for the next pass."""
        if self._job_store is None:
            self._start_pending()
            return
        self._write_changes()
        self._start_pending()
        self._write_changes()  # the jobs failed by a start that raised

    def _write_changes(self) -> None:
        if self._dirty or self._dirty_notes:
            jobs = [self._jobs[job_id] for job_id in self._dirty if job_id in self._jobs]
            self._job_store.put_many(jobs, self._dirty_notes)
            self._dirty, self._dirty_notes = {}, {}

    def _start_pending(self) -> None:
        """Hand the pass's starts to the executor; a start that raises fails only its own job."""
        starts, self._pending_starts = self._pending_starts, []
        for request in starts:
            job_id = self._attempt_jobs.get(request.attempt_id)
            self._guarded(job_id, self.clock.now_ms(), self.executor.start, request)

    # ---- indexes ----
    def _add(self, job: Job) -> None:
        self._jobs[job.job_id] = job
        if self._job_store is not None:
            self._dirty[job.job_id] = None
        self._sequence[job.job_id] = self._next_sequence
        self._next_sequence += 1
        self._index(None, job)
        self._consumables.track(job)
        if self._notifier.status_listeners:
            self._notices.append((job, job.status, None))

    def _store(self, old: Job, new: Job) -> Job:
        self._jobs[new.job_id] = new
        if self._job_store is not None:
            self._dirty[new.job_id] = None
        if old.status is not new.status:
            self._index(old, new)
        return new

    def _index(self, old: Job | None, new: Job) -> None:
        job_id = new.job_id
        if old is not None:
            self._unindex(old)
        if new.is_node:  # driven by its parent: never listed by queue, never scheduled itself
            self._sequence.pop(job_id, None)
            if new.status.is_terminal:
                for waiter in self._waiters.pop(job_id, ()):
                    self._to_check[waiter] = None
            return
        key = (new.created_at_ms, job_id)
        if new.parent_job_id is None:
            _listing(self._by_queue, new.queue_arn, new.status).add(key)
        else:
            _listing(self._by_parent, new.parent_job_id, new.status).add(key)
            counts = self._child_counts.setdefault(new.parent_job_id, {})
            counts[new.status] = counts.get(new.status, 0) + 1
            self._parents_changed[new.parent_job_id] = None
        if new.status is JobStatus.SUBMITTED:
            self._submitted[job_id] = None
        elif new.status is JobStatus.RUNNABLE:
            key = (new.runnable_at_ms or 0, new.created_at_ms, self._sequence[job_id], job_id)
            bisect.insort(self._runnable.setdefault(new.queue_arn, []), key)
            self._runnable_key[job_id] = key
            if new.share_identifier is not None or self._is_fair_share(new.queue_arn):
                self._shares.add_runnable(new, key)
        elif new.status.is_terminal:
            self._sequence.pop(job_id, None)  # never RUNNABLE again: ~100 bytes a stored job
            for waiter in self._waiters.pop(job_id, ()):
                self._to_check[waiter] = None
            if new.parent_job_id is None:
                if self._parent_stops.pop(job_id, None) is not None:
                    self._note(f"parent-stop:{job_id}", None)

    def _unindex(self, old: Job) -> None:
        job_id = old.job_id
        if old.is_node:
            return
        key = (old.created_at_ms, job_id)
        if old.parent_job_id is None:
            self._by_queue[old.queue_arn][old.status].discard(key)
        else:
            self._by_parent[old.parent_job_id][old.status].discard(key)
            self._child_counts[old.parent_job_id][old.status] -= 1
        if old.status is JobStatus.SUBMITTED:
            self._submitted.pop(job_id, None)
        elif old.status is JobStatus.RUNNABLE:
            key = self._runnable_key.pop(job_id)
            keys = self._runnable[old.queue_arn]
            del keys[bisect.bisect_left(keys, key)]
            self._shares.remove_runnable(job_id)

    def _runnable_jobs(self, queue_arn: str) -> Iterator[Job]:
        """The queue's RUNNABLE jobs in dispatch order: FIFO, or fair share (§16.4)."""
        queue = self._queues.get(queue_arn)
        if queue is not None and queue.is_fair_share:
            shares = {
                share: (self._jobs[key[-1][3]] for key in keys)
                for share, keys in self._shares.runnable_keys(queue_arn).items()
            }
            now, window = self.clock.now_ms(), _decay_window(queue)
            yield from scheduling.fair_share_order(
                shares,
                self._shares.usage_vcpus(queue_arn, now, window),
                self._shares.active_shares(queue_arn, now, window),
                queue.fair_share,
                lambda job: self._runnable_key[job.job_id],
            )
            return
        for key in self._runnable.get(queue_arn, ()):
            yield self._jobs[key[3]]

    def _share_window(self, job: Job) -> float:
        return _decay_window(self._queues.get(job.queue_arn))

    def _is_fair_share(self, queue_arn: str) -> bool:
        queue = self._queues.get(queue_arn)
        return queue is not None and queue.is_fair_share

    def _fair_share_caps(self) -> dict[str, dict[str, float]]:
        """computeReservation limits of the fair-share queues, for plan_placements (§16.4)."""
        caps: dict[str, float] = {}
        usage: dict[str, float] = {}
        for queue in self._queues.values():
            if not queue.is_fair_share:
                continue
            active = self._shares.active_shares(queue.arn, self.clock.now_ms(), _decay_window(queue))
            cap = scheduling.fair_share_cap_vcpus(queue, self._environments, len(active))
            if cap is not None:
                caps[queue.arn] = cap
                usage[queue.arn] = self._shares.held_vcpus(queue.arn)
        return {"queue_caps_vcpus": caps, "queue_usage_vcpus": usage}

    def _children_of(self, parent: Job) -> Iterator[str]:
        """Child ids, once spawned (a parent cancelled in SUBMITTED never has any)."""
        if parent.job_id not in self._child_counts:
            return
        for index in range(parent.array_size or 0):
            yield child_job_id(parent.job_id, index)

    def _transition(self, job: Job, to: JobStatus, now: int, **changes) -> Job:
        new = self._store(job, states.apply_transition(job, to, now, **changes))
        if self._notifier.status_listeners:  # no listener, no history kept alive until the end of the pass
            self._notices.append((new, to, None))
        if log.isEnabledFor(logging.INFO):  # one readable line per state change, even for 10,000 children
            suffix = _transition_suffix(new, self._environments)
            log.info("job %s (%s) %s -> %s%s", job.job_id, job.name, job.status.value, to.value, suffix)
        return new

    # ---- SUBMITTED, PENDING, dependencies, array parents ----
    def _advance_submitted(self, job: Job, now: int) -> None:
        if job.is_array_parent:
            job = self._transition(job, JobStatus.PENDING, now)
            for child in dependencies.spawn_children(job, now):
                self._add(child)
                self._to_check[child.job_id] = None
            log.info("job %s spawned %d children", job.job_id, job.array_size)
            return
        if self._dependency_state(job) is DependencyState.SATISFIED:
            self._transition(job, JobStatus.RUNNABLE, now)
        else:
            self._transition(job, JobStatus.PENDING, now)
            self._to_check[job.job_id] = None

    def _dependency_state(self, job: Job) -> DependencyState:
        statuses = []
        for target in dependencies.targets(job):
            if target not in self._jobs:
                target = dependencies.fallback_target(target) or target
            dependency = self._jobs.get(target)
            statuses.append(dependency.status if dependency is not None else None)
            if dependency is None or not dependency.status.is_terminal:
                self._waiters.setdefault(target, set()).add(job.job_id)
        return dependencies.evaluate(statuses)

    def _settle(self, now: int) -> None:
        """Re-check waiting jobs and finished arrays until nothing more changes: a failure runs down
        a dependency chain (or a SEQUENTIAL array) within one pass."""
        while self._to_check or self._parents_changed:
            while self._to_check:
                job_id = next(iter(self._to_check))
                del self._to_check[job_id]
                job = self._jobs.get(job_id)
                if job is not None and job.status is JobStatus.PENDING and not job.is_array_parent:
                    self._guarded(job_id, now, self._check_dependencies, job, now)
            for parent_id in list(self._parents_changed):
                self._guarded(parent_id, now, self._finish_parent_if_done, parent_id, now)
            if not self._to_check:
                break

    def _check_dependencies(self, job: Job, now: int) -> None:
        state = self._dependency_state(job)
        if state is DependencyState.FAILED:
            self._transition(job, JobStatus.FAILED, now, status_reason=dependencies.DEPENDENT_JOB_FAILED)
        elif state is DependencyState.SATISFIED:
            self._transition(job, JobStatus.RUNNABLE, now)

    def _finish_parent_if_done(self, parent_id: str, now: int) -> None:
        parent = self._jobs.get(parent_id)
        counts = self._child_counts.get(parent_id, {})
        if parent is None or parent.status is not JobStatus.PENDING:
            return
        succeeded = counts.get(JobStatus.SUCCEEDED, 0)
        failed = counts.get(JobStatus.FAILED, 0)
        if succeeded + failed < (parent.array_size or 0):
            return
        summary = {"status_summary": _summary(counts), "status_summary_updated_at_ms": now}
        stop = self._parent_stops.get(parent_id)
        if stop is not None:
            self._fail_at_once(parent, stop, now, **summary)
        elif failed:
            self._transition(parent, JobStatus.FAILED, now, status_reason=ARRAY_CHILD_FAILED, **summary)
        else:
            self._transition(parent, JobStatus.SUCCEEDED, now, **summary)
        log.info("array job %s ended: %d succeeded, %d failed", parent_id, succeeded, failed)

    def _publish_summaries(self, now: int) -> None:
        """Copy the live child counts onto each array parent touched in this pass, once."""
        changed, self._parents_changed = self._parents_changed, {}
        for parent_id in changed:
            parent = self._jobs.get(parent_id)
            if parent is None:
                continue
            summary = _summary(self._child_counts.get(parent_id, {}))
            if summary != parent.status_summary:
                self._store(parent, replace(parent, status_summary=summary, status_summary_updated_at_ms=now))

    # ---- intents ----
    def _apply_intent(self, intent: _Intent, now: int) -> None:
        job = self._jobs.get(intent.job_id)
        if job is None or job.status.is_terminal:
            return
        if job.is_array_parent:
            self._stop_array(job, intent, now)
            return
        if job.status in (JobStatus.SUBMITTED, JobStatus.PENDING, JobStatus.RUNNABLE):
            if intent.kind in ("cancel", "terminate"):
                self._fail_at_once(job, intent, now)
            return
        stop = self._stop_for(intent, job)
        if stop is not None and job.current_attempt is not None:
            self._stop_attempt(job, stop)

    def _fail_at_once(self, job: Job, intent: _Intent, now: int, **changes) -> None:
        """CancelJob or TerminateJob ending a job that has no attempt of its own (one still
        waiting, an array parent): FAILED with the caller's reason."""
        self._transition(
            job,
            JobStatus.FAILED,
            now,
            status_reason=intent.reason,
            is_cancelled=intent.kind == "cancel",
            is_terminated=intent.kind == "terminate",
            **changes,
        )

    def _stop_for(self, intent: _Intent, job: Job) -> _Stop | None:
        if intent.kind == "terminate":
            return _Stop(intent.reason, is_retryable=False, is_terminated=True)
        if intent.kind == "host":
            task_id = job.current_attempt.task_id if job.current_attempt else ""
            reason = HOST_TERMINATED.format(instance_id=instance_id_for(task_id))
            return _Stop(reason, is_retryable=True, overrides_exit=True)
        if intent.kind == "fail":
            return _Stop(
                ESSENTIAL_CONTAINER_EXITED,
                is_retryable=True,
                overrides_exit=True,
                exit_code=intent.exit_code,
                container_reason=intent.reason or None,
            )
        return None  # CancelJob has no effect on STARTING/RUNNING jobs (§7)

    def _stop_array(self, parent: Job, intent: _Intent, now: int) -> None:
        if intent.kind not in ("cancel", "terminate"):
            return
        if parent.status is JobStatus.SUBMITTED:
            self._fail_at_once(parent, intent, now)
            return
        self._parent_stops.setdefault(parent.job_id, intent)
        self._note(f"parent-stop:{parent.job_id}", asdict(self._parent_stops[parent.job_id]))
        for child_id in self._children_of(parent):
            self._apply_intent(replace(intent, job_id=child_id), now)
        self._parents_changed[parent.job_id] = None

    def _stop_attempt(self, job: Job, stop: _Stop) -> None:
        if job.is_multinode_parent:  # stopping the main node ends the job (§11)
            main = self._jobs.get(multinode.main_node_id(job))
            if main is not None and main.current_attempt is not None:
                self._stop_attempt(main, stop)
            # The engine stops the job itself: the other nodes get no grace (stopped in this pass).
            heapq.heappush(self._node_stops, (0, job.job_id, job.current_attempt.number))
            return
        attempt_id = _attempt_id(job.job_id, job.current_attempt.number)
        if attempt_id in self._stops:
            return  # already being stopped; the first reason stands
        self._stops[attempt_id] = stop
        self._note(f"stop:{attempt_id}", asdict(stop))
        log.info("job %s: stopping attempt %s: %s", job.job_id, attempt_id, stop.status_reason)
        self.executor.stop(attempt_id, stop.status_reason)

    def _stop_timed_out(self, now: int) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, attempt_id = heapq.heappop(self._deadlines)
            job_id = self._attempt_jobs.get(attempt_id)
            if job_id is not None:
                stop = _Stop(ATTEMPT_TIMED_OUT, is_retryable=False)
                self._guarded(job_id, now, self._stop_attempt, self._jobs[job_id], stop)

    # ---- executor updates ----
    def _record_update(self, update: ExecutionUpdate, now: int) -> None:
        job_id = self._attempt_jobs.get(update.attempt_id)
        if job_id is None:
            log.debug("ignoring %s for unknown attempt %s", update.kind, update.attempt_id)
            return
        job = self._jobs[job_id]
        if (
            update.kind is UpdateKind.EXITED
            and update.exit_code is None
            and not update.containers  # a task's exit codes are per container
            and job.status is JobStatus.STARTING
        ):
            # Stopped before its container started (Docker reports an exit without a code): it never
            # ran, so it gets no RUNNING status, no startedAt and no log stream.
            update = replace(update, kind=UpdateKind.FAILED_TO_START)
        if update.kind is not UpdateKind.FAILED_TO_START and job.status is JobStatus.STARTING:
            job = self._mark_running(job, update.attempt_id, now, update.private_ipv4, update.node_name)
            if job.is_node and job.multinode.is_main_node:
                self._main_node_running(job, now, start_others=update.kind is UpdateKind.RUNNING)
        if update.kind is UpdateKind.RUNNING:
            return
        status_reason = (
            ESSENTIAL_CONTAINER_EXITED if update.kind is UpdateKind.EXITED else TASK_FAILED_TO_START
        )
        if job.is_node:
            self._end_node(job, update, now, status_reason)
        else:
            self._end_attempt(job, update, now, status_reason)

    def _mark_running(
        self,
        job: Job,
        attempt_id: str,
        now: int,
        private_ipv4: str | None = None,
        node_name: str | None = None,
    ) -> Job:
        current = job.current_attempt
        attempt = replace(
            current,
            started_at_ms=now,
            log_stream_name=None if job.task is not None else _log_stream(job, current.task_id),
            containers=_task_log_streams(job, current.task_id),
            private_ipv4=private_ipv4,
            node_name=node_name,
        )
        job = self._transition(job, JobStatus.RUNNING, now, started_at_ms=now, current_attempt=attempt)
        if job.timeout_seconds:
            heapq.heappush(self._deadlines, (now + job.timeout_seconds * 1000, attempt_id))
        return job

    def _end_attempt(self, job: Job, update: ExecutionUpdate, now: int, status_reason: str) -> None:
        attempt_id = update.attempt_id
        del self._attempt_jobs[attempt_id]
        stop = self._stops.pop(attempt_id, None)
        self._note(f"stop:{attempt_id}", None)
        attempt, succeeded = _ended_attempt(job, update, stop, now, status_reason)
        self._release(job)
        self._conclude(job, attempt, stop, succeeded, now)

    def _release(self, job: Job) -> None:
        """Give back what the placed attempt held: vCPUs, its share's usage, GPUs."""
        current = job.current_attempt
        self._usage_vcpus[current.compute_environment_arn] -= job.container.vcpus
        self._shares.release(job, self.clock.now_ms(), self._share_window(job))
        if current.gpu_ids:
            self._gpus_free = sorted((*self._gpus_free, *current.gpu_ids))

    def _conclude(self, job: Job, attempt: Attempt, stop: _Stop | None, succeeded: bool, now: int) -> None:
        """The attempt ended: succeed, fail or retry the job (§12), then settle its consumables."""
        status_reason = attempt.status_reason
        ended = {"attempts": (*job.attempts, attempt), "current_attempt": None}
        if succeeded:
            self._transition(job, JobStatus.SUCCEEDED, now, status_reason=status_reason, **ended)
        elif stop is not None and not stop.is_retryable:
            self._transition(
                job,
                JobStatus.FAILED,
                now,
                status_reason=status_reason,
                is_terminated=stop.is_terminated,
                **ended,
            )
        elif scheduling.after_failed_attempt(job.retry, attempt) == scheduling.RETRY:
            log.info("job %s: attempt %d failed (%s), retrying", job.job_id, attempt.number, status_reason)
            self._transition(job, JobStatus.RUNNABLE, now, status_reason=None, **ended)
        else:
            self._transition(job, JobStatus.FAILED, now, status_reason=status_reason, **ended)
        self._consumables.give_back(job, is_final=self._jobs[job.job_id].status.is_terminal)

    # ---- multi-node parallel jobs (§11) ----
    def _place_multinode(self, parent: Job, compute_environment_arn: str, now: int) -> None:
        node_jobs = [self._jobs.get(node_id) for node_id in multinode.node_ids(parent)]
        if any(node is not None and node.current_attempt is not None for node in node_jobs):
            return  # the last attempt's nodes are still being stopped; place it in a later pass
        attempt = Attempt(
            number=len(parent.attempts) + 1,
            task_id=self._new_task_id(),
            compute_environment_arn=compute_environment_arn,
            created_at_ms=now,
            gpu_ids=self._take_gpus(parent.container.gpus),
        )
        parent = self._transition(
            parent, JobStatus.STARTING, now, status_reason=None, current_attempt=attempt
        )
        self._hold(parent)
        if all(node is None for node in node_jobs):
            for node in multinode.spawn_nodes(parent, now):
                self._add(node)
        else:
            for node in node_jobs:
                if node is not None and node.status is not JobStatus.RUNNABLE:
                    self._transition(node, JobStatus.RUNNABLE, now, status_reason=None)
        log.info("job %s: starting main node of %d", parent.job_id, parent.multinode.num_nodes)
        self._start_node(self._jobs[multinode.main_node_id(parent)], parent, None, now)

    def _start_node(self, node: Job, parent: Job, main_address: str | None, now: int) -> None:
        parent_attempt = parent.current_attempt
        wanted = [spec.container.gpus for spec in parent.multinode.nodes]
        gpu_ids = multinode.split_gpus(parent_attempt.gpu_ids, wanted)[node.multinode.node_index]
        attempt = Attempt(
            number=parent_attempt.number,
            task_id=self._new_task_id(),
            compute_environment_arn=parent_attempt.compute_environment_arn,
            created_at_ms=now,
            gpu_ids=gpu_ids,
        )
        node = self._transition(node, JobStatus.STARTING, now, status_reason=None, current_attempt=attempt)
        attempt_id = _attempt_id(node.job_id, attempt.number)
        self._attempt_jobs[attempt_id] = node.job_id
        account = self._account_for(node, attempt_id, now)
        if account is None:
            return
        environment = self._environments.get(attempt.compute_environment_arn)
        request = build_execution_request(
            node,
            attempt,
            environment.name if environment else "",
            self.endpoint_url,
            extra_environment=multinode.node_environment(node, main_address),
            network_group=f"{parent.job_id}/{attempt.number}",
            account=account,
        )
        self._start(request)

    def _main_node_running(self, main: Job, now: int, *, start_others: bool) -> None:
        """The parent follows its main node into RUNNING; the other nodes start now (§11)."""
        parent = self._jobs[main.job_id.rpartition("#")[0]]
        if parent.status is JobStatus.STARTING:
            attempt = replace(
                parent.current_attempt,
                started_at_ms=now,
                log_stream_name=main.current_attempt.log_stream_name,
                private_ipv4=main.current_attempt.private_ipv4,
                containers=main.current_attempt.containers,
            )
            parent = self._transition(
                parent, JobStatus.RUNNING, now, started_at_ms=now, current_attempt=attempt
            )
        if not start_others:
            return
        for node_id in multinode.node_ids(parent):
            node = self._jobs[node_id]
            if node_id != main.job_id and node.status is JobStatus.RUNNABLE:
                self._start_node(node, parent, main.current_attempt.private_ipv4, now)

    def _end_node(self, node: Job, update: ExecutionUpdate, now: int, status_reason: str) -> None:
        """A node ends by its own exit code and is never retried on its own; the main node's end
        ends the parent's attempt and stops the other nodes (§11)."""
        attempt_id = update.attempt_id
        del self._attempt_jobs[attempt_id]
        stop = self._stops.pop(attempt_id, None)
        self._note(f"stop:{attempt_id}", None)
        attempt, succeeded = _ended_attempt(node, update, stop, now, status_reason)
        ended = {"attempts": (*node.attempts, attempt), "current_attempt": None}
        status = JobStatus.SUCCEEDED if succeeded else JobStatus.FAILED
        is_terminated = stop is not None and stop.is_terminated
        self._transition(
            node, status, now, status_reason=attempt.status_reason, is_terminated=is_terminated, **ended
        )
        if not node.multinode.is_main_node:
            return
        parent = self._jobs[node.job_id.rpartition("#")[0]]
        if parent.current_attempt is None:
            return
        parent_attempt = replace(
            parent.current_attempt,
            stopped_at_ms=now,
            exit_code=attempt.exit_code,
            reason=attempt.reason,
            status_reason=attempt.status_reason,
            containers=attempt.containers,
        )
        self._release(parent)
        self._conclude(parent, parent_attempt, stop, succeeded, now)
        for node_id in multinode.node_ids(parent):
            other = self._jobs[node_id]
            if other.status is JobStatus.RUNNABLE:  # never started: the main node never ran
                self._transition(other, JobStatus.FAILED, now, status_reason=multinode.MAIN_NODE_EXITED)
        # The others may end by themselves, keeping their own exit, until AWS would notice (§11).
        heapq.heappush(self._node_stops, (now + self.mnp_stop_grace_ms, parent.job_id, attempt.number))

    def _stop_nodes_due(self, now: int) -> None:
        """Stop, as ECS stops a task, the nodes still running of each attempt whose main node
        exited a grace ago: each ends by its own exit code after SIGTERM (or SIGKILL after the stop
        timeout). A node whose start this same pass ordered is never started (grace 0)."""
        while self._node_stops and self._node_stops[0][0] <= now:
            _, parent_id, number = heapq.heappop(self._node_stops)
            parent = self._jobs.get(parent_id)
            if parent is None:
                continue  # gone meanwhile (reset)
            for node in multinode.other_nodes_running(parent, number, self._jobs.get):
                attempt_id = _attempt_id(node.job_id, number)
                if self._withdraw_start(attempt_id):
                    del self._attempt_jobs[attempt_id]
                    self._transition(
                        node,
                        JobStatus.FAILED,
                        now,
                        status_reason=multinode.MAIN_NODE_EXITED,
                        current_attempt=None,
                    )
                    continue
                self._stop_attempt(node, MAIN_NODE_EXIT_STOP)

    # ---- placement ----
    def _apply_decision(self, decision: scheduling.Decision, now: int) -> None:
        job = self._jobs[decision.job_id]
        if isinstance(decision, scheduling.Place):
            self._place(job, decision.compute_environment_arn, now)
        elif isinstance(decision, scheduling.Fail):
            self._transition(
                job,
                JobStatus.FAILED,
                now,
                status_reason=decision.reason,
                is_cancelled=decision.is_cancelled,
                is_terminated=decision.is_terminated,
            )
        else:  # SetStatusReason: scheduling sets a head's blocked reason only when it changes
            job = self._store(job, replace(job, status_reason=decision.reason))
            if decision.reason is not None:
                log.info("job %s: blocked: %s", job.job_id, decision.reason)
                if self._notifier.blocked_listeners:
                    self._notices.append((job, job.status, now))

    def _place(self, job: Job, compute_environment_arn: str, now: int) -> None:
        if job.is_multinode_parent:
            self._place_multinode(job, compute_environment_arn, now)
            return
        number = len(job.attempts) + 1
        attempt = Attempt(
            number=number,
            task_id=self._new_task_id(),
            compute_environment_arn=compute_environment_arn,
            created_at_ms=now,
            gpu_ids=self._take_gpus(job.container.gpus),
        )
        job = self._transition(job, JobStatus.STARTING, now, status_reason=None, current_attempt=attempt)
        self._hold(job)
        attempt_id = _attempt_id(job.job_id, number)
        self._attempt_jobs[attempt_id] = job.job_id  # from here on `_let_go` releases what it holds
        account = self._account_for(job, attempt_id, now)
        if account is None:
            return
        environment = self._environments[compute_environment_arn]
        request = build_execution_request(job, attempt, environment.name, self.endpoint_url, account=account)
        log.debug("job %s: starting attempt %d on %s", job.job_id, number, environment.name)
        self._start(request)

    def _account_for(self, job: Job, attempt_id: str, now: int) -> JobAccess | None:
        """What the attempt's containers get from the job's account: credentials and the values of
        its secrets, read now, as the ECS agent reads them when a task starts. A secret that
        cannot be read fails the attempt before anything runs, as a failed image pull does
        (`Task failed to start`, the container reason saying why); None then."""
        try:
            secrets = read_secrets(job, self._resolve_secrets)
        except SecretUnavailableError as error:
            log.info("job %s: attempt %s cannot read its secrets", job.job_id, attempt_id)
            self._record_update(
                ExecutionUpdate(attempt_id, UpdateKind.FAILED_TO_START, reason=error.reason), now
            )
            return None
        return JobAccess(self._job_credentials(job.account_id), secrets)

    def _hold(self, job: Job) -> None:
        arn = job.current_attempt.compute_environment_arn
        self._usage_vcpus[arn] = self._usage_vcpus.get(arn, 0.0) + job.container.vcpus
        self._shares.hold(job, self.clock.now_ms(), self._share_window(job))
        self._consumables.lock(job)

    def _take_gpus(self, count: int) -> tuple[int, ...]:
        """The lowest free GPU indexes; scheduling placed the job only if enough were free."""
        taken, self._gpus_free = tuple(self._gpus_free[:count]), self._gpus_free[count:]
        return taken


# ---- module functions --------------------------------------------------------------------------


def _ended_attempt(
    job: Job, update: ExecutionUpdate, stop: _Stop | None, now: int, status_reason: str
) -> tuple[Attempt, bool]:
    """The finished attempt record and whether it succeeded: exit 0 (a task: `tasks.judge`), and
    not stopped by the engine (unless the stop keeps the exit verdict)."""
    current = job.current_attempt
    is_exit = update.kind is UpdateKind.EXITED
    exit_code = update.exit_code if is_exit else None
    reason = update.reason
    containers = _merge_results(current.containers, update.containers)
    succeeded = is_exit and exit_code == 0
    if job.task is not None and containers:
        outcome = tasks.judge(job.task, containers)
        succeeded = is_exit and outcome.succeeded
        if is_exit:
            exit_code, reason = outcome.exit_code, outcome.reason
    if stop is not None:
        status_reason = stop.status_reason
        if stop.overrides_exit:
            exit_code, reason = stop.exit_code, stop.container_reason
        elif not is_exit and stop.status_reason_if_never_ran:
            status_reason, reason = stop.status_reason_if_never_ran, None
        succeeded = succeeded and stop.keeps_exit_verdict
    attempt = replace(
        current,
        stopped_at_ms=now,
        exit_code=exit_code,
        reason=reason,
        status_reason=status_reason,
        containers=containers,
    )
    return attempt, succeeded


def _merge_results(
    known: tuple[ContainerResult, ...], reported: tuple[ContainerResult, ...]
) -> tuple[ContainerResult, ...]:
    """The executor's per-container results, keeping the log stream names set at RUNNING."""
    streams = {result.name: result.log_stream_name for result in known}
    if not reported:
        return known
    return tuple(replace(result, log_stream_name=streams.get(result.name)) for result in reported)


def _task_log_streams(job: Job, task_id: str) -> tuple[ContainerResult, ...]:
    if job.task is None:
        return ()
    return tuple(
        ContainerResult(
            c.name, log_stream_name=_container_log_stream(c.spec, c.name, task_id), is_init=c.is_init
        )
        for c in job.task.containers
    )


def _container_log_stream(spec: ContainerSpec, name: str, task_id: str) -> str:
    """ECS convention for multi-container tasks: the container name in the middle (§15, unverified)."""
    return f"{spec.log_stream_prefix}/{name}/{task_id}"


def _transition_suffix(job: Job, environments: dict[str, ComputeEnvironment]) -> str:
    """' on <compute environment>' when an attempt starts, ': <reason>' when the job has one."""
    if job.status is JobStatus.STARTING and job.current_attempt is not None:
        arn = job.current_attempt.compute_environment_arn
        return f" on {environments[arn].name if arn in environments else arn}"
    return f": {job.status_reason}" if job.status_reason else ""


def _from_note(cls: type, value: dict):
    """An _Intent or _Stop from its note, ignoring keys the class no longer has."""
    names = {item.name for item in fields(cls)}
    return cls(**{key: item for key, item in value.items() if key in names})


def _default_job_id() -> str:
    return new_job_id()


def _default_task_id() -> str:
    return new_task_id()


def _attempt_id(job_id: str, number: int) -> str:
    return f"{job_id}/{number}"


def _log_stream(job: Job, task_id: str) -> str:
    """Interned: the attempt record and the log store hold the same name, built twice."""
    return sys.intern(f"{job.container.log_stream_prefix}/default/{task_id}")


def _listing(index: dict[str, dict[JobStatus, JobListing]], owner: str, status: JobStatus) -> JobListing:
    by_status = index.get(owner)
    if by_status is None:
        by_status = index[owner] = {}
    listing = by_status.get(status)
    if listing is None:
        listing = by_status[status] = JobListing()
    return listing


def _summary(counts: dict[JobStatus, int]) -> dict[str, int]:
    return {status.value: counts.get(status, 0) for status in JobStatus}


def execution_environment(
    job: Job,
    attempt_number: int,
    compute_environment_name: str,
    endpoint_url: str,
    container: ContainerSpec | None = None,
    account: JobAccess = JobAccess(),
) -> dict:
    """The container's environment (§14.3): the user's variables and its secrets, AWS SDK defaults
    that point jobs at the emulator and at their own account (kept when the user set them), then
    the reserved AWS_BATCH_* variables."""
    spec = container or job.container
    environment = {**dict(spec.environment), **secret_environment(spec, account.secrets)}
    if endpoint_url:
        environment.setdefault("AWS_ENDPOINT_URL", endpoint_url)
    access_key_id, secret_access_key = account.credentials
    environment.setdefault("AWS_ACCESS_KEY_ID", access_key_id)
    environment.setdefault("AWS_SECRET_ACCESS_KEY", secret_access_key)
    environment.setdefault("AWS_REGION", job.region)
    environment.setdefault("AWS_DEFAULT_REGION", job.region)
    environment["AWS_BATCH_JOB_ID"] = job.job_id
    environment["AWS_BATCH_JOB_ATTEMPT"] = str(attempt_number)
    environment["AWS_BATCH_JQ_NAME"] = job.queue_name
    environment["AWS_BATCH_CE_NAME"] = compute_environment_name
    if job.array_index is not None:
        environment["AWS_BATCH_JOB_ARRAY_INDEX"] = str(job.array_index)
        environment["AWS_BATCH_JOB_ARRAY_SIZE"] = str(job.array_size)
    if job.task is not None and job.task.kind == "eks":
        environment["AWS_BATCH_JOB_KUBERNETES_NODE_UID"] = kubernetes_node_uid(compute_environment_name)
    return environment


def build_execution_request(
    job: Job,
    attempt: Attempt,
    compute_environment_name: str,
    endpoint_url: str,
    *,
    extra_environment: dict[str, str] | None = None,
    network_group: str | None = None,
    account: JobAccess = JobAccess(),
) -> ExecutionRequest:
    """Everything the executor needs for this attempt: one container, or (ECS/EKS properties) one
    request per task container, each with its own environment, limits, GPUs and log stream."""
    attempt_id = _attempt_id(job.job_id, attempt.number)
    extra = extra_environment or {}
    labels = _labels(job, attempt)
    if job.task is None:
        environment = execution_environment(
            job, attempt.number, compute_environment_name, endpoint_url, account=account
        )
        return _container_request(
            job,
            job.container,
            attempt_id,
            {**environment, **extra},
            LogTarget(job.account_id, job.region, job.container.log_group, _log_stream(job, attempt.task_id)),
            labels,
            attempt.gpu_ids,
            network_group,
        )
    gpu_shares = multinode.split_gpus(attempt.gpu_ids, [c.spec.gpus for c in job.task.containers])
    members = []
    for container, gpu_ids in zip(job.task.containers, gpu_shares, strict=True):
        spec = container.spec
        environment = execution_environment(
            job, attempt.number, compute_environment_name, endpoint_url, container=spec, account=account
        )
        stream = _container_log_stream(spec, container.name, attempt.task_id)
        request = _container_request(
            job,
            spec,
            attempt_id,
            {**environment, **extra},
            LogTarget(job.account_id, job.region, spec.log_group, stream),
            {**labels, "batch-emulator.container-name": container.name},
            gpu_ids,
            network_group,
        )
        members.append(
            TaskMember(container.name, request, container.essential, container.depends_on, container.is_init)
        )
    first = members[0].request
    return replace(first, containers=tuple(members), gpu_ids=attempt.gpu_ids, labels=labels)


def kubernetes_node_uid(seed: str) -> str:
    """A stable UUID-shaped Kubernetes node UID for the emulated node (one per compute environment)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed or "batch-emulator"))


def _labels(job: Job, attempt: Attempt) -> dict[str, str]:
    return {
        "batch-emulator.job-id": job.job_id,
        "batch-emulator.attempt": str(attempt.number),
        "batch-emulator.job-name": job.name,
        "batch-emulator.job-definition": job.definition_arn,
    }


def _container_request(
    job: Job,
    container: ContainerSpec,
    attempt_id: str,
    environment: dict[str, str],
    log_target: LogTarget,
    labels: dict[str, str],
    gpu_ids: tuple[int, ...],
    network_group: str | None,
) -> ExecutionRequest:
    return ExecutionRequest(
        attempt_id=attempt_id,
        job_id=job.job_id,
        image=container.image,
        command=container.command,
        environment=environment,
        vcpus=container.vcpus,
        memory_mib=container.memory_mib,
        log=log_target,
        gpus=container.gpus,
        user=container.user,
        privileged=container.privileged,
        readonly_root_filesystem=container.readonly_root_filesystem,
        volumes=container.volumes,
        mounts=container.mounts,
        ulimits=container.ulimits,
        devices=container.devices,
        init_process=container.init_process,
        shared_memory_mib=container.shared_memory_mib,
        tmpfs=container.tmpfs,
        labels=labels,
        entrypoint=container.entrypoint,
        gpu_ids=gpu_ids,
        network_group=network_group,
    )


def _decay_window(queue: JobQueue | None) -> float:
    """The fair-share decay window of a queue's policy, in seconds (§16.4)."""
    policy = queue.fair_share if queue is not None else None
    return decay_window_seconds(policy.share_decay_seconds if policy is not None else 0)
