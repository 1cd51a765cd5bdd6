"""The one interface every executor implements, and the values that cross it.

The engine calls `start` and `stop` and pulls `poll` at the start of each reconcile pass;
executors never change job state themselves. `start` and `stop` must return at once: Docker and
process executors do their slow work on their own threads. Output lines go straight to the
`LogStore` the executor was built with, under `request.log`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from emulator.engine.records import ContainerResult, Device, Mount, Tmpfs, Ulimit, Volume


@dataclass(frozen=True, slots=True)
class LogTarget:
    account_id: str
    region: str
    group: str
    stream: str


@dataclass(frozen=True, slots=True)
class ExecutionRequest:
    attempt_id: str  # unique per attempt: "<job id>/<attempt number>"
    job_id: str
    image: str
    command: tuple[str, ...]
    environment: Mapping[str, str]  # complete: user variables plus every AWS_BATCH_* variable
    vcpus: float
    memory_mib: int
    log: LogTarget
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
    labels: Mapping[str, str] = field(default_factory=dict)
    entrypoint: tuple[str, ...] | None = None  # replaces the image's entrypoint when set
    # Host GPU indexes the engine assigned to this attempt (never shared by two running attempts).
    gpu_ids: tuple[int, ...] = ()
    # Attempts with the same network group share one private network (the nodes of one MNP job
    # attempt); the executor creates it with the first and removes it after the last.
    network_group: str | None = None
    # A multi-container task (ECS/EKS properties): when set, each member is run as its own
    # container and the fields above that describe one container are ignored.
    containers: tuple[TaskMember, ...] = ()
    # Docker only, for service jobs run as SageMaker runs a training image: the container's host
    # name; text files (absolute path, content) and empty directories put into the container
    # before it starts; files read back after it exits (into the EXITED update's `files`); and
    # whether an image the daemon lacks may be pulled (False: the attempt fails to start).
    hostname: str | None = None
    files: tuple[tuple[str, str], ...] = ()
    directories: tuple[str, ...] = ()
    collect_files: tuple[str, ...] = ()
    pull_image: bool = True


@dataclass(frozen=True, slots=True)
class TaskMember:
    """One container of a task: its own complete request (image, command, environment, limits,
    log stream) plus how it relates to the others (reference §18)."""

    name: str
    request: ExecutionRequest
    essential: bool = True
    depends_on: tuple[tuple[str, str], ...] = ()  # (container name, START|COMPLETE|SUCCESS|HEALTHY)
    is_init: bool = False


class UpdateKind(StrEnum):
    RUNNING = "RUNNING"  # the container/process started
    EXITED = "EXITED"  # it ended; exit_code set, reason maybe (OOM)
    FAILED_TO_START = "FAILED_TO_START"  # never ran; reason says why (CannotPullContainerError: ...)


@dataclass(frozen=True, slots=True)
class ExecutionUpdate:
    attempt_id: str
    kind: UpdateKind
    exit_code: int | None = None
    reason: str | None = (
        None  # AWS's container `reason`, e.g. "OutOfMemoryError: Container killed due to memory usage"
    )
    # RUNNING: the attempt's address on its network (127.0.0.1 for local processes).
    private_ipv4: str | None = None
    # RUNNING: the Kubernetes node the attempt's pod was scheduled on (EKS `nodeName`); None elsewhere.
    node_name: str | None = None
    # EXITED / FAILED_TO_START of a task: how each container ended, in task order; the engine
    # judges the task from these (exit_code is then None).
    containers: tuple[ContainerResult, ...] = ()
    # EXITED: the request's `collect_files` that existed, as (path, text), in request order.
    files: tuple[tuple[str, str], ...] = ()


class Executor(Protocol):
    def start(self, request: ExecutionRequest) -> None: ...

    def stop(self, attempt_id: str, reason: str) -> None:
        """SIGTERM, then SIGKILL after the stop timeout; an EXITED update follows."""
        ...

    def poll(self) -> list[ExecutionUpdate]: ...

    def live_attempts(self) -> list[str]:
        """Attempt ids whose container or process still exists (or, simulated, has not ended)."""
        ...

    def close(self) -> None:
        """Stop everything still running and release resources (server shutdown)."""
        ...
