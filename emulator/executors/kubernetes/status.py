"""A Pod's status read as the executor's updates (pure).

- Pending: still STARTING (scheduling, pulling, creating containers), unless a container waits on
  an image it cannot pull (`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`,
  `ErrImageNeverPull`: AWS's `CannotPullContainerError`) or cannot be created
  (`CreateContainerConfigError`, `CreateContainerError`: `CannotCreateContainerError`). Kubernetes
  would retry such a pull forever; AWS fails the attempt, so the pod is deleted and the attempt
  FAILED_TO_START.
- Running: RUNNING, with the pod's IP (what the other nodes of a multi-node job get as the main
  node's address) and the node it runs on.
- Succeeded / Failed: the exit codes and reasons of `containerStatuses` (and of
  `initContainerStatuses` for an `eksProperties` pod); `OOMKilled` becomes AWS's
  `OutOfMemoryError: Container killed due to memory usage`. A pod that ended with no container
  having run (evicted, rejected by the node) failed to start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.engine.records import ContainerResult
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.kubernetes.pods import CONTAINER_NAME

OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
PULL_ERRORS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
CREATE_ERRORS = frozenset({"CreateContainerConfigError", "CreateContainerError"})
START_ERRORS = frozenset({"StartError", "ContainerCannotRun", "RunContainerError"})
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, slots=True)
class PodReading:
    """What one look at a pod says: whether it runs, where, which containers have output to follow,
    and, once it has ended or can never start, the attempt's final update."""

    is_running: bool = False
    private_ipv4: str | None = None
    node_name: str | None = None
    started: tuple[tuple[str, bool], ...] = ()  # (container name, is init) that have run or run now
    final: ExecutionUpdate | None = None
    # The final update came from a pod that can never start: it must be deleted by the executor.
    needs_deletion: bool = False


def read_pod(pod: Mapping[str, Any], request: ExecutionRequest) -> PodReading:
    status = pod.get("status") or {}
    phase = status.get("phase")
    statuses = _container_statuses(status)
    started = tuple(key for key, entry in statuses.items() if _has_run(entry))
    address, node = status.get("podIP"), (pod.get("spec") or {}).get("nodeName")
    if phase in TERMINAL_PHASES:
        return PodReading(False, address, node, started, final=ended(pod, request))
    problem = startup_problem(statuses)
    if problem is not None and phase != "Running":
        update = ExecutionUpdate(
            request.attempt_id,
            UpdateKind.FAILED_TO_START,
            reason=problem,
            containers=_results(statuses, request),
        )
        return PodReading(False, address, node, started, final=update, needs_deletion=True)
    return PodReading(phase == "Running", address, node, started)


def ended(pod: Mapping[str, Any] | None, request: ExecutionRequest) -> ExecutionUpdate:
    """The attempt's last update from the last state seen of its pod (None: never seen). A pod gone
    before any container ended (deleted while pending) ends with no exit code, as a container
    stopped before it started does under Docker."""
    status = (pod or {}).get("status") or {}
    statuses = _container_statuses(status)
    results = _results(statuses, request)
    if request.containers:
        if any(result.exit_code is not None for result in results):
            return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, containers=results)
        reason = next((r.reason for r in results if r.reason), None) or _pod_problem(status)
        kind = UpdateKind.FAILED_TO_START if reason else UpdateKind.EXITED
        return ExecutionUpdate(request.attempt_id, kind, reason=reason, containers=results)
    entry = statuses.get((CONTAINER_NAME, False)) or next(iter(statuses.values()), {})
    terminated = (entry.get("state") or {}).get("terminated")
    if terminated is None or terminated.get("reason") in START_ERRORS:
        reason = _container_reason(entry) or _pod_problem(status)
        kind = UpdateKind.FAILED_TO_START if reason else UpdateKind.EXITED
        return ExecutionUpdate(request.attempt_id, kind, reason=reason)
    return ExecutionUpdate(
        request.attempt_id,
        UpdateKind.EXITED,
        exit_code=terminated.get("exitCode"),
        reason=_container_reason(entry),
    )


def startup_problem(statuses: Mapping[tuple[str, bool], Mapping[str, Any]]) -> str | None:
    """AWS's reason for the first container that cannot start, or None."""
    for entry in statuses.values():
        waiting = (entry.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in PULL_ERRORS | CREATE_ERRORS:
            return _container_reason(entry)
    return None


def _container_statuses(status: Mapping[str, Any]) -> dict[tuple[str, bool], Mapping[str, Any]]:
    """(container name, is init) -> its status entry, init containers first."""
    found: dict[tuple[str, bool], Mapping[str, Any]] = {}
    for member, is_init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for entry in status.get(member) or []:
            found[(entry.get("name", ""), is_init)] = entry
    return found


def _has_run(entry: Mapping[str, Any]) -> bool:
    state = entry.get("state") or {}
    terminated = state.get("terminated")
    return "running" in state or (terminated is not None and terminated.get("reason") not in START_ERRORS)


def _results(
    statuses: Mapping[tuple[str, bool], Mapping[str, Any]], request: ExecutionRequest
) -> tuple[ContainerResult, ...]:
    """One result per container of an `eksProperties` pod, in task order (none for a container job)."""
    results = []
    for member in request.containers:
        entry = statuses.get((member.name, member.is_init), {})
        terminated = (entry.get("state") or {}).get("terminated") or {}
        has_exit = bool(terminated) and terminated.get("reason") not in START_ERRORS
        results.append(
            ContainerResult(
                member.name,
                exit_code=terminated.get("exitCode") if has_exit else None,
                reason=_container_reason(entry),
                container_id=entry.get("containerID") or None,
                is_init=member.is_init,
            )
        )
    return tuple(results)


def _container_reason(entry: Mapping[str, Any]) -> str | None:
    state = entry.get("state") or {}
    waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
    if waiting.get("reason") in PULL_ERRORS:
        return f"CannotPullContainerError: {waiting.get('message') or waiting['reason']}"
    if waiting.get("reason") in CREATE_ERRORS:
        return f"CannotCreateContainerError: {waiting.get('message') or waiting['reason']}"
    if terminated.get("reason") == "OOMKilled":
        return OOM_REASON
    if terminated.get("reason") in START_ERRORS:
        return f"CannotStartContainerError: {terminated.get('message') or terminated['reason']}"
    return None


def _pod_problem(status: Mapping[str, Any]) -> str | None:
    """Why a pod ended without its containers ending (Evicted, OutOfcpu, DeadlineExceeded...)."""
    reason, message = status.get("reason"), status.get("message")
    if not reason and not message:
        return None
    return f"CannotStartContainerError: {': '.join(part for part in (reason, message) if part)}"
