"""KubernetesExecutor: each attempt as one Pod, created, followed and deleted through the API.

`start` and `stop` only record intent and hand the API calls to a small pool; a watch per cluster
and namespace (`watch.py`) reports what the cluster does with the pods, read by `status.py`:
RUNNING once the pod runs (with its IP, what the other nodes of a multi-node job get as the main
node's address, and its node), FAILED_TO_START when an image cannot be pulled, EXITED with the
containers' exit codes once the pod has ended. Each container's output is followed into the
LogStore (`logs.py`); the final update is handed to the engine only once those followers are
done and the pod is deleted (AWS Batch removes a job's pod soon after it ends), so a job's log is
complete by the time DescribeJobs shows it ended.

Stopping (TerminateJob, a timeout, a cancelled array child) deletes the pod with the stop timeout
as its grace period: SIGTERM, then SIGKILL, as ECS does. The attempt ends when the cluster reports
the containers ended or the pod gone.

Restarts (`--state-dir`): every pod carries the labels `batch-emulator.managed=true`,
`batch-emulator.attempt=<attempt>` and `batch-emulator.state=<state directory's hash>`. `adopt`
finds an attempt's pod by label and follows it to its end without creating anything;
`remove_leftovers` then deletes the pods of the same state directory that no restored attempt
adopted (attempts of jobs that ended, were deleted, or were lost while no server ran).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.kubernetes import adoption
from emulator.executors.kubernetes.clusters import Clusters, KubernetesUnavailableError
from emulator.executors.kubernetes.logs import LogFollower
from emulator.executors.kubernetes.placement import Placement, Placements
from emulator.executors.kubernetes.pods import (
    CONTAINER_NAME,
    label_value,
    pod_manifest,
    pod_name,
)
from emulator.executors.kubernetes.status import PodReading, ended, read_pod
from emulator.executors.kubernetes.watch import RELIST_SECONDS, PodWatch
from emulator.stores.base import LogStore

logger = logging.getLogger(__name__)

# How long an ended attempt waits for its containers' output before it is reported anyway.
LOG_DRAIN_SECONDS = 15.0
CLOSE_GRACE_SECONDS = 5
API_TIMEOUT_SECONDS = 30.0


@dataclass(eq=False, slots=True)
class _Attempt:
    request: ExecutionRequest
    placement: Placement
    pod_name: str
    created_at: float | None = None  # time.monotonic() once the pod exists (created or adopted)
    adopted: bool = False
    reported_running: bool = False
    stop_requested: bool = False
    ending: bool = False  # its final update is being prepared
    ended_at: float | None = None  # time.monotonic() when its pod was seen ended or gone
    last_pod: Mapping[str, Any] | None = None
    followers: dict[tuple[str, bool], LogFollower] = field(default_factory=dict)


class KubernetesExecutor:
    def __init__(
        self,
        log_store: LogStore,
        clusters: Clusters,
        placements: Placements,
        *,
        stop_timeout_seconds: float = 30.0,
        max_workers: int = 8,
        state_dir: str = "",
        relist_seconds: float = RELIST_SECONDS,
    ) -> None:
        self._log_store = log_store
        self._clusters = clusters
        self.placements = placements
        self._grace_seconds = max(0, round(stop_timeout_seconds))
        self._relist_seconds = relist_seconds
        self._instance_id = uuid.uuid4().hex[:16]
        self._state = adoption.state_key(state_dir) if state_dir else ""
        self._attempts: dict[str, _Attempt] = {}
        self._by_pod: dict[str, str] = {}  # pod name -> attempt id
        self._watches: dict[tuple[str, str], PodWatch] = {}
        self._updates: list[ExecutionUpdate] = []
        self._update_listeners: list[Callable[[], None]] = []
        self._lock = threading.RLock()
        self._closed = False
        self._pool = concurrent.futures.ThreadPoolExecutor(max(4, max_workers), "kubernetes-api")

    # -- the Executor interface; every method returns at once ---------------------------------

    def start(self, request: ExecutionRequest) -> None:
        placement = self.placements.of(request)
        attempt = _Attempt(request, placement, pod_name(placement.task_id))
        with self._lock:
            if self._closed:
                self._finish(attempt, _failed(request, "CannotStartContainerError: executor is shut down"))
                return
            self._attempts[request.attempt_id] = attempt
            self._by_pod[attempt.pod_name] = request.attempt_id
        self._submit(self._create, attempt)

    def stop(self, attempt_id: str, reason: str) -> None:
        with self._lock:
            attempt = self._attempts.get(attempt_id)
            if attempt is None or attempt.stop_requested:
                return
            attempt.stop_requested = True
            exists = attempt.created_at is not None and not attempt.ending
        logger.info("job %s: stopping attempt %s (%s)", attempt.request.job_id, attempt_id, reason)
        if exists:  # otherwise _create sees the flag once the pod exists
            self._submit(self._delete, attempt, self._grace_seconds)

    def poll(self) -> list[ExecutionUpdate]:
        with self._lock:
            updates, self._updates = self._updates, []
        return updates

    def add_update_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (the engine's `wake`) whenever an update is ready for `poll`."""
        self._update_listeners.append(listener)

    def live_attempts(self) -> list[str]:
        with self._lock:
            return list(self._attempts)

    def read_jobs_from(self, job_of: Callable[[str], Any]) -> None:
        self.placements.read_jobs_from(job_of)

    def close(self) -> None:
        """Delete the pods still running, with a short grace period, and stop watching."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            attempts = [a for a in self._attempts.values() if a.created_at is not None]
            watches = list(self._watches.values())
        deletions = [self._pool.submit(self._delete, a, CLOSE_GRACE_SECONDS) for a in attempts]
        concurrent.futures.wait(deletions, timeout=API_TIMEOUT_SECONDS)
        for watch in watches:
            watch.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._clusters.close()

    # -- a restart on a state directory ---------------------------------------------------------

    def adopt(self, request: ExecutionRequest) -> bool:
        """Follow the pod an earlier server created for this attempt, found by its labels, to its
        end; nothing is created. False when there is none (the attempt is lost)."""
        placement = self.placements.of(request)
        try:
            core = self._core(placement)
            pods = adoption.list_pods(
                core, placement.namespace, adoption.attempt_selector(request.attempt_id)
            )
        except Exception as exc:  # no cluster, no API: the attempt is lost like a host
            logger.warning("job %s: cannot look for attempt %s: %s", request.job_id, request.attempt_id, exc)
            return False
        found = [p for p in pods if adoption.attempt_of(p) == request.attempt_id]
        if len(found) != 1:
            return False
        name = found[0]["metadata"]["name"]
        attempt = _Attempt(request, placement, name, created_at=time.monotonic(), adopted=True)
        with self._lock:
            if self._closed:
                return False
            self._attempts[request.attempt_id] = attempt
            self._by_pod[name] = request.attempt_id
        self._watch_for(placement, core)
        logger.info("job %s: adopted attempt %s in pod %s", request.job_id, request.attempt_id, name)
        self._on_pod("ADDED", found[0])
        return True

    def remove_leftovers(self) -> None:
        """Delete the pods of this state directory that no adopted attempt owns, in every
        namespace a compute environment names."""
        if not self._state:
            return
        with self._lock:
            live = set(self._attempts)
        for context, namespace in self.placements.namespaces():
            try:
                pods = adoption.list_pods(
                    self._core_for(context), namespace, {adoption.STATE_LABEL: self._state}
                )
            except Exception as exc:
                logger.warning("could not list leftover pods in %s: %s", namespace, exc)
                continue
            for name in adoption.leftovers(pods, self._state, live):
                logger.info("removing leftover pod %s/%s", namespace, name)
                self._delete_pod(context, namespace, name, 0)

    # -- creating and deleting, on the pool -------------------------------------------------------

    def _create(self, attempt: _Attempt) -> None:
        request, placement = attempt.request, attempt.placement
        if attempt.stop_requested:
            self._finish(attempt, ExecutionUpdate(request.attempt_id, UpdateKind.EXITED))
            return
        manifest = pod_manifest(
            request,
            placement,
            name=attempt.pod_name,
            own_labels=self._own_labels(request),
            grace_seconds=self._grace_seconds,
        )
        try:
            core = self._core(placement)
            self._watch_for(placement, core)
            core.create_namespaced_pod(
                placement.namespace, manifest, _preload_content=False, _request_timeout=API_TIMEOUT_SECONDS
            )
        except KubernetesUnavailableError as exc:
            self._finish(attempt, _failed(request, f"CannotStartContainerError: {exc}"))
            return
        except Exception as exc:
            self._finish(attempt, _failed(request, f"CannotCreateContainerError: {_explain(exc)}"))
            return
        logger.info(
            "job %s: attempt %s created pod %s/%s",
            request.job_id,
            request.attempt_id,
            placement.namespace,
            attempt.pod_name,
        )
        with self._lock:
            attempt.created_at = time.monotonic()
            stop_now = attempt.stop_requested and not attempt.ending
        if stop_now:  # asked while the pod was being created
            self._delete(attempt, self._grace_seconds)

    def _delete(self, attempt: _Attempt, grace_seconds: int) -> None:
        placement = attempt.placement
        self._delete_pod(placement.context, placement.namespace, attempt.pod_name, grace_seconds)

    def _delete_pod(self, context: str, namespace: str, name: str, grace_seconds: int) -> None:
        try:
            core = self._core_for(context)
            core.delete_namespaced_pod(
                name,
                namespace,
                grace_period_seconds=grace_seconds,
                _preload_content=False,
                _request_timeout=API_TIMEOUT_SECONDS,
            )
        except Exception as exc:
            if getattr(exc, "status", None) != 404:  # already gone is what we wanted
                logger.warning("could not delete pod %s/%s: %s", namespace, name, _explain(exc))

    # -- what the cluster says, on the watch threads -----------------------------------------------

    def _on_pod(self, event: str, pod: Mapping[str, Any]) -> None:
        name = (pod.get("metadata") or {}).get("name", "")
        with self._lock:
            attempt = self._attempts.get(self._by_pod.get(name, ""))
            if attempt is None or attempt.ending:
                return
            if event == "DELETED":
                self._begin_ending(attempt, ended(attempt.last_pod, attempt.request))
                return
            attempt.last_pod = pod
            reading = read_pod(pod, attempt.request)
            self._follow_output(attempt, reading)
            if reading.final is not None:
                self._begin_ending(attempt, reading.final, delete_first=reading.needs_deletion)
            elif reading.is_running and not attempt.reported_running:
                self._report_running(attempt, reading)

    def _on_list(self, pods: list[Mapping[str, Any]], listed_at: float, namespace: str, context: str) -> None:
        """Every managed pod listed: handled as if changed; an attempt whose pod existed before the
        list began and is not in it is gone (its deletion was missed)."""
        for pod in pods:
            self._on_pod("MODIFIED", pod)
        present = {(pod.get("metadata") or {}).get("name") for pod in pods}
        with self._lock:
            missing = [
                a
                for a in self._attempts.values()
                if a.placement.namespace == namespace
                and a.placement.context == context
                and a.created_at is not None
                and a.created_at < listed_at
                and a.pod_name not in present
                and not a.ending
            ]
        for attempt in missing:
            self._on_pod("DELETED", {"metadata": {"name": attempt.pod_name}})

    def _report_running(self, attempt: _Attempt, reading: PodReading) -> None:
        request = attempt.request
        if request.network_group is not None and not reading.private_ipv4:
            return  # the other nodes need the main node's address: wait until the pod has one
        attempt.reported_running = True
        address = reading.private_ipv4 if request.network_group is not None else None
        logger.info(
            "job %s: attempt %s running in pod %s on %s",
            request.job_id,
            request.attempt_id,
            attempt.pod_name,
            reading.node_name,
        )
        self._updates.append(
            ExecutionUpdate(
                request.attempt_id, UpdateKind.RUNNING, private_ipv4=address, node_name=reading.node_name
            )
        )
        self._updates_ready()

    def _follow_output(self, attempt: _Attempt, reading: PodReading) -> None:
        placement = attempt.placement
        for name, is_init in reading.started:
            if (name, is_init) in attempt.followers:
                continue
            target = _log_target(attempt.request, name, is_init)
            if target is None:
                continue
            follower = LogFollower(
                _core_api(self._clusters.client(placement.context)),
                placement.namespace,
                attempt.pod_name,
                name,
                self._log_store,
                target,
                resume=attempt.adopted,
            )
            attempt.followers[(name, is_init)] = follower
            follower.start()

    def _begin_ending(
        self, attempt: _Attempt, update: ExecutionUpdate, *, delete_first: bool = False
    ) -> None:
        attempt.ending, attempt.ended_at = True, time.monotonic()
        if update.kind is UpdateKind.EXITED and not attempt.reported_running and _has_run(update):
            # It ran and ended between two looks: the engine still sees RUNNING first.
            self._report_running(attempt, read_pod(attempt.last_pod or {}, attempt.request))
        self._submit(self._end, attempt, update, delete_first)

    def _end(self, attempt: _Attempt, update: ExecutionUpdate, delete_first: bool) -> None:
        """Wait for the output, delete the pod, then hand the final update to the engine."""
        if delete_first:
            self._delete(attempt, 0)
        self._drain_output(attempt)
        if not delete_first:
            self._delete(attempt, 0)
        self._finish(attempt, update)

    def _drain_output(self, attempt: _Attempt) -> None:
        """Wait for each container's follower; read again the logs whose stream ended before the
        pod did (a follow cut short), skipping the lines already stored."""
        deadline = time.monotonic() + LOG_DRAIN_SECONDS
        for follower in list(attempt.followers.values()):
            follower.wait(max(0.0, deadline - time.monotonic()))
            ended_early = follower.finished_at is not None and follower.finished_at < (attempt.ended_at or 0)
            if ended_early:
                catch_up = follower.catch_up()
                catch_up.start()
                catch_up.wait(max(0.0, deadline - time.monotonic()))

    def _finish(self, attempt: _Attempt, update: ExecutionUpdate) -> None:
        request = attempt.request
        if update.kind is UpdateKind.FAILED_TO_START:
            logger.info(
                "job %s: attempt %s failed to start: %s", request.job_id, request.attempt_id, update.reason
            )
        with self._lock:
            self._attempts.pop(request.attempt_id, None)
            self._by_pod.pop(attempt.pod_name, None)
            self._updates.append(update)
        self._updates_ready()

    # -- plumbing -------------------------------------------------------------------------------------

    def _core(self, placement: Placement) -> Any:
        return self._core_for(placement.context)

    def _core_for(self, context: str) -> Any:
        return _core_api(self._clusters.client(context))

    def _watch_for(self, placement: Placement, core: Any) -> PodWatch:
        key = (placement.context, placement.namespace)
        with self._lock:
            watch = self._watches.get(key)
            if watch is None:
                watch = self._watches[key] = PodWatch(
                    core,
                    placement.namespace,
                    {adoption.MANAGED_LABEL: "true"},
                    self._on_pod,
                    lambda pods, listed_at: self._on_list(
                        pods, listed_at, placement.namespace, placement.context
                    ),
                    relist_seconds=self._relist_seconds,
                )
                watch.start()
        return watch

    def _own_labels(self, request: ExecutionRequest) -> dict[str, str]:
        labels = {
            adoption.MANAGED_LABEL: "true",
            adoption.ATTEMPT_LABEL: label_value(request.attempt_id),
            adoption.INSTANCE_LABEL: self._instance_id,
        }
        if self._state:
            labels[adoption.STATE_LABEL] = self._state
        return labels

    def _submit(self, work: Callable[..., None], *args: Any) -> None:
        try:
            self._pool.submit(self._guarded, work, *args)
        except RuntimeError:  # the pool is shut down: the server is stopping
            pass

    def _guarded(self, work: Callable[..., None], *args: Any) -> None:
        try:
            work(*args)
        except Exception:
            logger.exception("Kubernetes executor: %s failed", getattr(work, "__name__", work))

    def _updates_ready(self) -> None:
        for listener in self._update_listeners:
            listener()


def _core_api(api_client: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api_client)


def _log_target(request: ExecutionRequest, name: str, is_init: bool):
    if not request.containers:
        return request.log if name == CONTAINER_NAME else None
    member = next((m for m in request.containers if m.name == name and m.is_init == is_init), None)
    return member.request.log if member is not None else None


def _has_run(update: ExecutionUpdate) -> bool:
    return update.exit_code is not None or any(r.exit_code is not None for r in update.containers)


def _failed(request: ExecutionRequest, reason: str) -> ExecutionUpdate:
    return ExecutionUpdate(request.attempt_id, UpdateKind.FAILED_TO_START, reason=reason)


def _explain(exc: Exception) -> str:
    """An ApiException's status and the API server's message, else the exception itself."""
    status, body = getattr(exc, "status", None), getattr(exc, "body", None)
    if status is None:
        return str(exc)
    try:
        import json

        message = json.loads(body).get("message") if body else None
    except (ValueError, AttributeError):
        message = None
    return f"{status} {getattr(exc, 'reason', '')}: {message or body or ''}".strip()
