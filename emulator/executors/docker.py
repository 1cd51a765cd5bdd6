"""Runs each attempt in a Docker container through the Docker SDK, as the ECS agent would.

The container gets what the job definition asks for (reference §17.4): CPU (`nano_cpus`), memory
(a hard limit with no swap, so that going over it OOM-kills as on ECS), GPUs, user, privileged,
read-only root, ulimits, devices, `--init`, shared memory, tmpfs, bind mounts for volumes with a
host path and a Docker volume for the attempt otherwise. `host.docker.internal` points at the host
so a job can call the emulator back; an `AWS_ENDPOINT_URL*` naming 127.0.0.1 or localhost is
rewritten to it. An image named by an ECR URI runs the local image it stands for when the daemon
has one (ecr_images.py). Failures carry the container `reason` strings AWS shows (reference §6.6):
`CannotPullContainerError: Error response from daemon: ...` and the like.

Threads: `start` and `stop` only record intent and hand work to two bounded pools. An attempt
thread pulls, creates and starts the container, streams its output to the LogStore, waits for it
and removes it; it is busy for the attempt's whole life, so the attempt pool is sized to the
host's running limit (the engine never runs more at once) and attempts beyond it queue. `stop`
calls block in Docker for up to the stop timeout, so they run on a second pool of the same size.
At most 2 x `max_workers` threads are alive, whatever the size of an array.

Everything it creates carries the label `batch-emulator.managed=true` and an owner label naming the
server process (host name, pid, process start time). On construction, leftovers whose owner is gone
(an earlier run that crashed) are removed, while those of another live emulator sharing the daemon
are left alone. An owner on another host name counts as gone unless a running container on this
daemon has that name (a server that ran in a container): a live emulator on another machine sharing
the daemon would lose its containers, so pass `remove_leftovers=False` there.

Private networks: the attempts of one network group (the nodes of one multi-node parallel job
attempt) share one user-defined bridge network, created by the first and removed after the last;
each node reports its address on it, which the engine passes to the other nodes as
AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS. A multi-container task (ECS/EKS properties) gets a
network of its own on which each container is reachable by its container name (ECS's awsvpc tasks
and Kubernetes pods share localhost instead; here they share a network, not a namespace). A task
that is a node of a multi-node parallel job (a network group) also joins its group's network with
every container; the node's address is that of its first essential container (for an EKS pod, its
first application container, after the init containers), and the node is reported RUNNING only
once that container has started (§18: dependsOn keeps a job STARTING). Its
containers start in the order a `TaskPlan` allows, each with its own log stream, on the attempt's
thread plus one small thread per container that follows its output. GPUs: the indexes the engine
assigned become a device request for exactly those devices.

Service jobs run as SageMaker runs a training image use a few more request fields: files and
directories are copied into the created container before it starts, the files the request names
are read back after it exits (before it is removed), and `pull_image=False` makes an image the
daemon lacks fail to start rather than be pulled (`has_image` tells beforehand).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import math
import os
import queue
import re
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import docker
import docker.errors
import docker.types
import requests.exceptions

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.container_files import build_archive, read_archive_file
from emulator.executors.ecr_images import local_candidates
from emulator.executors.output import LineWriter, SkippingLogStore, stored_line_count
from emulator.executors.tasks import TaskPlan
from emulator.stores.base import LogStore

logger = logging.getLogger(__name__)

MANAGED_LABEL = "batch-emulator.managed"
ATTEMPT_LABEL = "batch-emulator.attempt-id"
INSTANCE_LABEL = "batch-emulator.instance"
OWNER_LABEL = "batch-emulator.owner"  # "<host name>/<pid>/<process start time>" of the server
HOST_ALIAS = "host.docker.internal"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MIN_MEMORY_MIB = 6  # Docker refuses smaller limits
# close() gives containers at most this long after SIGTERM, so that shutting the server down does
# not take the full 30 s stop timeout.
CLOSE_GRACE_SECONDS = 5
DAEMON_PREFIX = "Error response from daemon: "
TIMEOUT_REASON = "DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s"
# How long one Docker API call may take before the attempt is lost: the ECS agent's create
# timeout, the one TIMEOUT_REASON names. A daemon busy creating and removing many containers on
# slow storage can take over docker-py's default of 60 s without being broken.
DOCKER_API_TIMEOUT_SECONDS = 240
# For the calls an API request waits on (does the daemon have this image?).
QUICK_API_TIMEOUT_SECONDS = 5
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
DEVICE_PERMISSIONS = {"READ": "r", "WRITE": "w", "MKNOD": "m"}


class _StartFailure(Exception):
    """The attempt never ran; `reason` is the container reason AWS would show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(eq=False, slots=True)
class _Attempt:
    request: ExecutionRequest
    container: Any = None  # docker.models.containers.Container once created
    volume_names: list[str] = field(default_factory=list)
    running: bool = False
    stop_requested: bool = False
    future: concurrent.futures.Future[None] | None = None
    # Multi-container tasks: the containers by task container name, the task's network, and the
    # queue on which container threads (exits) and `stop` (("stop", ...)) wake the attempt thread.
    task_containers: dict[str, Any] = field(default_factory=dict)
    network: Any = None
    events: queue.SimpleQueue[tuple[str, str, int | None, str | None]] | None = None
    group_network: str | None = None  # the group network this attempt holds a reference on
    # Multi-container tasks: the image each container runs, by task container name: the
    # request's, or the local image an ECR URI stands for (ecr_images.py).
    images: dict[str, str] = field(default_factory=dict)


class DockerExecutor:
    def __init__(
        self,
        log_store: LogStore,
        client: docker.DockerClient | None = None,
        stop_timeout_seconds: float = 30.0,
        network: str | None = None,
        *,
        max_workers: int = 8,
        remove_leftovers: bool = True,
    ) -> None:
        """Talks to the daemon at once (leftover clean-up, CPU count), so raises DockerException when
        there is none."""
        self._log_store = log_store
        self._owns_client = client is None
        self._quick: docker.DockerClient | None = None  # for calls made on a request thread
        # One pooled connection per attempt's log stream and per stop call, plus a few spare.
        self._client = client or docker.from_env(
            timeout=DOCKER_API_TIMEOUT_SECONDS, max_pool_size=2 * max_workers + 4
        )
        self._stop_timeout_seconds = stop_timeout_seconds
        self._network = network
        self._instance_id = uuid.uuid4().hex
        self._host_cpus = int(self._client.info().get("NCPU") or 1)
        self._attempts: dict[str, _Attempt] = {}
        self._updates: list[ExecutionUpdate] = []
        self._lock = threading.Lock()
        self._update_listeners: list[Callable[[], None]] = []
        self._closed = False
        self._group_networks: dict[str, tuple[Any, int]] = {}  # group -> (network, attempts using it)
        self._network_lock = threading.Lock()
        self._attempt_pool = concurrent.futures.ThreadPoolExecutor(max_workers, "docker-attempt")
        self._stop_pool = concurrent.futures.ThreadPoolExecutor(max_workers, "docker-stop")
        self._owner = _this_process_as_owner()
        if remove_leftovers:
            self._remove_labelled(f"{MANAGED_LABEL}=true", self._is_orphaned)

    # -- the Executor interface; every method returns at once ---------------------------------

    def start(self, request: ExecutionRequest) -> None:
        attempt = _Attempt(request)
        with self._lock:
            if self._closed:
                self._updates.append(
                    ExecutionUpdate(
                        request.attempt_id,
                        UpdateKind.FAILED_TO_START,
                        reason="CannotStartContainerError: executor is shut down",
                    )
                )
                return
            self._attempts[request.attempt_id] = attempt
            attempt.future = self._attempt_pool.submit(self._run, attempt)

    def stop(self, attempt_id: str, reason: str) -> None:
        with self._lock:
            attempt = self._attempts.get(attempt_id)
            if attempt is None or attempt.stop_requested:
                return
            attempt.stop_requested = True
            if attempt.events is not None:  # a task: its thread stops the containers
                attempt.events.put(("stop", "", None, None))
                return
            if attempt.container is None:
                return  # its thread sees the flag before it starts the container
            self._submit_stop(attempt, self._stop_timeout_seconds)
        logger.info("job %s: stopping attempt %s (%s)", attempt.request.job_id, attempt_id, reason)

    def poll(self) -> list[ExecutionUpdate]:
        with self._lock:
            updates, self._updates = self._updates, []
        return updates

    def add_update_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (the engine's `wake`) whenever an update is ready for `poll`, so that an
        attempt that starts or ends is seen at once rather than at the engine's next 50 ms poll."""
        self._update_listeners.append(listener)

    def _updates_ready(self) -> None:
        for listener in self._update_listeners:
            listener()

    def live_attempts(self) -> list[str]:
        """Attempts started and not yet cleaned up: queued, pulling, running or being removed."""
        with self._lock:
            return list(self._attempts)

    def has_image(self, image: str) -> bool:
        """True when the daemon already has `image` (nothing is pulled). Asked on a request
        thread, so through a client with a short timeout; a daemon that cannot answer counts as
        not having it, and the log says so."""
        try:
            self._quick_client().images.get(image)
        except docker.errors.ImageNotFound:
            return False
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("could not ask the Docker daemon whether it has %s: %s", image, exc)
            return False
        return True

    def _quick_client(self) -> docker.DockerClient:
        if not self._owns_client:
            return self._client  # a client given to us (tests): its timeout is the caller's
        with self._lock:
            if self._quick is None:
                self._quick = docker.from_env(timeout=QUICK_API_TIMEOUT_SECONDS)
            return self._quick

    # -- a restart on a state directory: what an earlier server process started -----------------

    def adopt(self, request: ExecutionRequest) -> bool:
        """Follow an attempt that an earlier server process started, found by its attempt label: a
        container still running, or one that ended while no server watched it, is followed to its
        end as `start` would have, its output resuming after the lines already stored. Nothing is
        ever started here: False (the attempt is lost) when there is no container, when it was
        created but never started, or when it is a multi-container task."""
        selector = f"{ATTEMPT_LABEL}={request.attempt_id}"
        try:
            found = self._client.containers.list(all=True, filters={"label": selector})
            volumes = [volume.name for volume in self._client.volumes.list(filters={"label": selector})]
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("job %s: cannot look for attempt %s: %s", request.job_id, request.attempt_id, exc)
            return False
        if len(found) != 1 or found[0].status == "created" or getattr(request, "containers", ()):
            return False  # remove_leftovers() removes whatever is there
        attempt = _Attempt(request, container=found[0], running=True)
        attempt.volume_names.extend(volumes)
        skip_lines = self._stored_line_count(request)
        with self._lock:
            if self._closed:
                return False
            self._attempts[request.attempt_id] = attempt
            attempt.future = self._attempt_pool.submit(self._follow_adopted, attempt, skip_lines)
        logger.info(
            "job %s: adopted attempt %s in container %s (%s)",
            request.job_id,
            request.attempt_id,
            found[0].short_id,
            found[0].status,
        )
        return True

    def remove_leftovers(self) -> None:
        """Remove the containers and volumes of emulators that are gone, except the attempts this
        one adopted: what the constructor does unless built with `remove_leftovers=False`."""
        with self._lock:
            adopted = set(self._attempts)
        try:
            self._remove_labelled(
                f"{MANAGED_LABEL}=true",
                lambda labels: labels.get(ATTEMPT_LABEL) not in adopted and self._is_orphaned(labels),
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("could not remove what earlier emulators left: %s", exc)

    def _stored_line_count(self, request: ExecutionRequest) -> int:
        return stored_line_count(self._log_store, request.log)

    def _follow_adopted(self, attempt: _Attempt, skip_lines: int) -> None:
        self._run_to_end(
            attempt,
            lambda: self._follow_container(attempt, skip_lines),
            "job %s: adopted attempt %s failed in the executor",
        )

    def _follow_container(self, attempt: _Attempt, skip_lines: int) -> ExecutionUpdate:
        request = attempt.request
        container = attempt.container
        with self._lock:
            self._updates.append(ExecutionUpdate(request.attempt_id, UpdateKind.RUNNING))
            if attempt.stop_requested:
                self._submit_stop(attempt, self._stop_timeout_seconds)
        self._updates_ready()
        # The container's log holds every line since it started; those already stored are skipped.
        output = LineWriter(SkippingLogStore(self._log_store, skip_lines), request.log)
        exit_code, oom_killed = _follow_to_exit(container, output)
        if oom_killed:
            return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, exit_code=137, reason=OOM_REASON)
        return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, exit_code=exit_code)

    def close(self) -> None:
        grace_seconds = min(self._stop_timeout_seconds, CLOSE_GRACE_SECONDS)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            attempts = list(self._attempts.values())
            for attempt in attempts:
                attempt.stop_requested = True
                if attempt.events is not None:
                    attempt.events.put(("stop", "", None, None))
                elif attempt.container is not None:
                    self._submit_stop(attempt, grace_seconds)
        futures = [attempt.future for attempt in attempts if attempt.future is not None]
        concurrent.futures.wait(futures, timeout=grace_seconds + 30)
        self._attempt_pool.shutdown(wait=False, cancel_futures=True)
        self._stop_pool.shutdown(wait=False, cancel_futures=True)
        try:  # a safety net for attempts that outlived the wait above
            self._remove_labelled(f"{INSTANCE_LABEL}={self._instance_id}")
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning("could not remove this executor's containers on close: %s", exc)
        if self._owns_client:
            self._client.close()
            if self._quick is not None:
                self._quick.close()

    # -- one attempt, on an attempt thread ----------------------------------------------------

    def _run(self, attempt: _Attempt) -> None:
        self._run_to_end(
            attempt,
            lambda: self._run_task(attempt) if attempt.request.containers else self._run_container(attempt),
            "job %s: attempt %s crashed in the executor",
        )

    def _run_to_end(self, attempt: _Attempt, body: Callable[[], ExecutionUpdate], crash_message: str) -> None:
        """What every attempt thread does around its `body` (start and wait, or follow an adopted
        container): turn a failure into the attempt's update, remove what the attempt created,
        whatever happened, then hand the update to the engine. `crash_message` is logged, with the
        job and attempt ids and the traceback, for an unexpected exception."""
        request = attempt.request
        try:
            update = body()
        except _StartFailure as failure:
            logger.info(
                "job %s: attempt %s failed to start: %s", request.job_id, request.attempt_id, failure.reason
            )
            update = ExecutionUpdate(request.attempt_id, UpdateKind.FAILED_TO_START, reason=failure.reason)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            update = self._lost_contact(attempt, exc)
        except Exception:
            logger.exception(crash_message, request.job_id, request.attempt_id)
            update = self._lost_contact(attempt, None)
        finally:
            self._remove(attempt)
        with self._lock:
            self._attempts.pop(request.attempt_id, None)
            self._updates.append(update)
        self._updates_ready()

    def _run_container(self, attempt: _Attempt) -> ExecutionUpdate:
        request = attempt.request
        if attempt.stop_requested:
            return _stopped_before_start(request)
        image = self._ensure_image(request.image, pull=request.pull_image)
        attempt.volume_names.extend(self._create_volumes(request))
        options = self._container_options(request, iter(attempt.volume_names))
        options["image"] = image
        if request.network_group is not None and self._network != "host":
            options["network"] = attempt.group_network = self._acquire_group_network(request)
        try:
            container = self._client.containers.create(**options)
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotCreateContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        with self._lock:
            attempt.container = container
            if attempt.stop_requested:
                return _stopped_before_start(request)
        self._put_files(container, request)
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotStartContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        attempt.running = True
        output = LineWriter(self._log_store, request.log)
        output.open_stream()
        logger.info(
            "job %s: attempt %s running in container %s",
            request.job_id,
            request.attempt_id,
            container.short_id,
        )
        address = self._address(container, attempt.group_network) if request.network_group else None
        with self._lock:
            self._updates.append(
                ExecutionUpdate(request.attempt_id, UpdateKind.RUNNING, private_ipv4=address)
            )
            if attempt.stop_requested:  # asked while it was starting: that stop may have been a no-op
                self._submit_stop(attempt, self._stop_timeout_seconds)
        self._updates_ready()
        exit_code, oom_killed = _follow_to_exit(container, output)
        files = self._collect_files(container, request)
        if oom_killed:
            return ExecutionUpdate(
                request.attempt_id, UpdateKind.EXITED, exit_code=137, reason=OOM_REASON, files=files
            )
        return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, exit_code=exit_code, files=files)

    def _put_files(self, container: Any, request: ExecutionRequest) -> None:
        if not request.files and not request.directories:
            return
        try:
            container.put_archive("/", build_archive(request.files, request.directories))
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotCreateContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc

    def _collect_files(self, container: Any, request: ExecutionRequest) -> tuple[tuple[str, str], ...]:
        """The request's `collect_files` that the exited container holds; a missing one is skipped."""
        found = []
        for path in request.collect_files:
            try:
                chunks, _ = container.get_archive(path)
                text = read_archive_file(chunks)
            except docker.errors.NotFound:
                continue
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                # The job's exit code stands: an unreadable file is only a less detailed reason.
                logger.warning("job %s: could not read %s: %s", request.job_id, path, exc)
                continue
            if text is not None:
                found.append((path, text))
        return tuple(found)

    def _ensure_image(self, image: str, *, pull: bool = True) -> str:
        """The image to create the container from: the local image an ECR URI stands for when the
        daemon has it, else `image`, pulled when absent."""
        local = next((name for name in local_candidates(image) if self._has_local(name)), None)
        if local is not None:
            return local
        try:
            self._client.images.get(image)
            return image
        except docker.errors.ImageNotFound as exc:
            if not pull:
                raise _StartFailure(
                    f"CannotPullContainerError: {DAEMON_PREFIX}No such image: {image}"
                ) from exc
        except docker.errors.APIError as exc:  # e.g. an invalid reference
            raise _StartFailure(f"CannotPullContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        try:
            self._client.images.pull(image)
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotPullContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        return image

    def _has_local(self, image: str) -> bool:
        try:
            self._client.images.get(image)
        except docker.errors.APIError:  # ImageNotFound, or a name the daemon cannot parse
            return False
        return True

    def _create_volumes(self, request: ExecutionRequest) -> list[str]:
        """One Docker volume per scratch volume (no host path), shared by its mount points and
        removed with the attempt."""
        names = []
        for volume in request.volumes:
            if volume.host_path is None:
                name = f"batch-emulator-{uuid.uuid4().hex[:12]}-{_docker_name(volume.name)}"
                self._client.volumes.create(name=name, labels=self._labels(request))
                names.append(name)
        return names

    # -- multi-container tasks, on the attempt thread -----------------------------------------

    def _run_task(self, attempt: _Attempt) -> ExecutionUpdate:
        request = attempt.request
        plan = TaskPlan(request.containers)
        with self._lock:
            attempt.events = queue.SimpleQueue()
            if attempt.stop_requested:
                return _stopped_before_start(request)
        for member in request.containers:
            attempt.images[member.name] = self._ensure_image(member.request.image)
        attempt.network = self._client.networks.create(
            f"batch-emulator-task-{uuid.uuid4().hex[:16]}", driver="bridge", labels=self._labels(request)
        )
        is_node = request.network_group is not None and self._network != "host"
        if is_node:
            attempt.group_network = self._acquire_group_network(request)
        reported_running = False
        while True:
            self._apply_plan(attempt, plan)
            addressed = self._addressed_container(attempt, plan, is_node)
            if not reported_running and addressed is not None:
                reported_running = attempt.running = True
                address = self._address(addressed, attempt.group_network or attempt.network.name)
                with self._lock:
                    self._updates.append(
                        ExecutionUpdate(request.attempt_id, UpdateKind.RUNNING, private_ipv4=address)
                    )
                self._updates_ready()
            if plan.is_done:
                break
            kind, name, exit_code, reason = attempt.events.get()
            if kind == "stop":
                plan.stop_all()
            else:
                plan.on_exited(name, exit_code, reason)
        results = plan.results()
        if reported_running:
            return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, containers=results)
        reason = next(
            (r.reason for r in results if r.reason), "CannotStartContainerError: no container started"
        )
        return ExecutionUpdate(
            request.attempt_id, UpdateKind.FAILED_TO_START, reason=reason, containers=results
        )

    @staticmethod
    def _addressed_container(attempt: _Attempt, plan: TaskPlan, is_node: bool) -> Any:
        """The container whose address stands for the running task, None while the task does not
        count as running: a node's main container (`TaskPlan.main_container`), else the first
        container started."""
        if is_node:
            name = plan.main_container()
            return attempt.task_containers.get(name) if name is not None else None
        return next(iter(attempt.task_containers.values()), None) if plan.has_started else None

    def _apply_plan(self, attempt: _Attempt, plan: TaskPlan) -> None:
        """Stop and start containers until the plan has nothing more to say right now."""
        while True:
            for name in plan.take_stops():
                grace = min(self._stop_timeout_seconds, CLOSE_GRACE_SECONDS) if self._closed else None
                self._submit_stop_container(attempt, attempt.task_containers[name], grace)
            startable = plan.startable()
            if not startable:
                return
            for name in startable:
                try:
                    container = self._start_member(attempt, name)
                except _StartFailure as failure:
                    plan.on_failed_to_start(name, failure.reason)
                else:
                    plan.on_started(name, container_id=container.id)

    def _start_member(self, attempt: _Attempt, name: str) -> Any:
        member = next(m for m in attempt.request.containers if m.name == name)
        request = member.request
        volume_names = self._create_volumes(request)
        attempt.volume_names.extend(volume_names)
        options = self._container_options(request, iter(volume_names))
        options["image"] = attempt.images.get(name, request.image)
        options["labels"] = {**options["labels"], ATTEMPT_LABEL: attempt.request.attempt_id}
        options["network"] = attempt.network.name
        options["networking_config"] = {
            attempt.network.name: self._client.api.create_endpoint_config(aliases=[_docker_name(name)])
        }
        try:
            container = self._client.containers.create(**options)
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotCreateContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        attempt.task_containers[name] = container
        try:
            if attempt.group_network is not None:  # a node's task: the other nodes reach it here
                self._client.api.connect_container_to_network(container.id, attempt.group_network)
            container.start()
        except docker.errors.APIError as exc:
            raise _StartFailure(f"CannotStartContainerError: {DAEMON_PREFIX}{_explain(exc)}") from exc
        logger.info(
            "job %s: container %s of %s running as %s",
            request.job_id,
            name,
            attempt.request.attempt_id,
            container.short_id,
        )
        threading.Thread(
            target=self._follow_member, args=(attempt, name, container), name="docker-container", daemon=True
        ).start()
        return container

    def _follow_member(self, attempt: _Attempt, name: str, container: Any) -> None:
        """Stream one task container's output to its log stream and report its exit."""
        request = next(m for m in attempt.request.containers if m.name == name).request
        exit_code: int | None = None
        reason: str | None = None
        try:
            output = LineWriter(self._log_store, request.log)
            output.open_stream()
            exit_code, oom_killed = _follow_to_exit(container, output)
            if oom_killed:
                exit_code, reason = 137, OOM_REASON
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            reason = "CannotInspectContainerError: Could not transition to inspecting"
            logger.warning("job %s: lost container %s: %s", request.job_id, name, exc)
        assert attempt.events is not None
        attempt.events.put(("exited", name, exit_code, reason))

    def _submit_stop_container(self, attempt: _Attempt, container: Any, grace: float | None) -> None:
        member = _Attempt(attempt.request, container=container)
        self._submit_stop(member, self._stop_timeout_seconds if grace is None else grace)

    # -- networks -------------------------------------------------------------------------------

    def _acquire_group_network(self, request: ExecutionRequest) -> str:
        group = request.network_group or ""
        with self._network_lock:
            network, users = self._group_networks.get(group, (None, 0))
            if network is None:
                digest = hashlib.sha1(group.encode()).hexdigest()[:12]  # noqa: S324 - a name, not security
                name = f"batch-emulator-{digest}-{self._instance_id[:8]}"
                network = self._client.networks.create(name, driver="bridge", labels=self._labels(request))
            self._group_networks[group] = (network, users + 1)
            return network.name

    def _release_group_network(self, attempt: _Attempt) -> None:
        group = attempt.request.network_group or ""
        with self._network_lock:
            network, users = self._group_networks.get(group, (None, 0))
            if network is None:
                return
            if users > 1:
                self._group_networks[group] = (network, users - 1)
                return
            del self._group_networks[group]
        _remove_network(network)

    def _address(self, container: Any, network_name: str | None) -> str | None:
        """The container's IPv4 address on `network_name` (or on any network it joined)."""
        if self._network == "host":
            return "127.0.0.1"
        try:
            container.reload()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return None
        networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        chosen = networks.get(network_name) if network_name else None
        chosen = chosen or next(iter(networks.values()), None) or {}
        return chosen.get("IPAddress") or None

    def _container_options(self, request: ExecutionRequest, scratch_names: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "image": request.image,
            "command": list(request.command) or None,
            "environment": self._environment(request.environment),
            "labels": self._labels(request),
            "user": request.user or None,
            "privileged": request.privileged,
            "read_only": request.readonly_root_filesystem,
            "init": request.init_process or None,
            "volumes": _binds(request, scratch_names),
            "ulimits": [docker.types.Ulimit(name=u.name, soft=u.soft, hard=u.hard) for u in request.ulimits],
            "devices": [_device(d.host_path, d.container_path, d.permissions) for d in request.devices],
            "tmpfs": {t.container_path: _tmpfs_options(t.size_mib, t.mount_options) for t in request.tmpfs},
        }
        if request.hostname:
            options["hostname"] = request.hostname
        if request.vcpus > 0:
            # Docker refuses more CPUs than the host has, and fewer than 0.01.
            options["nano_cpus"] = int(min(max(request.vcpus, 0.01), self._host_cpus) * 1e9)
        if request.memory_mib > 0:
            memory = f"{max(request.memory_mib, MIN_MEMORY_MIB)}m"
            options["mem_limit"] = options["memswap_limit"] = memory  # no swap, as on ECS by default
        if request.entrypoint is not None:
            options["entrypoint"] = list(request.entrypoint)
        if request.gpu_ids:
            options["device_requests"] = [
                docker.types.DeviceRequest(
                    device_ids=[str(index) for index in request.gpu_ids], capabilities=[["gpu"]]
                )
            ]
        elif request.gpus > 0:
            options["device_requests"] = [
                docker.types.DeviceRequest(count=request.gpus, capabilities=[["gpu"]])
            ]
        if request.shared_memory_mib:
            options["shm_size"] = f"{request.shared_memory_mib}m"
        if self._network is not None:
            options["network"] = self._network
        if self._network != "host":
            options["extra_hosts"] = {HOST_ALIAS: "host-gateway"}
        return options

    def _labels(self, request: ExecutionRequest) -> dict[str, str]:
        return {
            **request.labels,
            MANAGED_LABEL: "true",
            ATTEMPT_LABEL: request.attempt_id,
            INSTANCE_LABEL: self._instance_id,
            OWNER_LABEL: self._owner,
        }

    def _environment(self, environment: Mapping[str, str]) -> dict[str, str]:
        if self._network == "host":
            return dict(environment)  # the host's loopback is the container's
        return {
            name: _via_host_alias(value) if name.startswith("AWS_ENDPOINT_URL") else value
            for name, value in environment.items()
        }

    def _lost_contact(self, attempt: _Attempt, exc: Exception | None) -> ExecutionUpdate:
        """The daemon failed us (unreachable, timed out, container vanished) rather than the job."""
        request = attempt.request
        logger.warning(
            "job %s: attempt %s lost to a Docker error: %s", request.job_id, request.attempt_id, exc
        )
        if attempt.running:
            reason = "CannotInspectContainerError: Could not transition to inspecting"
            return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, reason=reason)
        if isinstance(exc, requests.exceptions.Timeout):
            reason = TIMEOUT_REASON
        elif isinstance(exc, docker.errors.APIError):
            reason = f"CannotStartContainerError: {DAEMON_PREFIX}{_explain(exc)}"
        else:
            reason = f"CannotStartContainerError: {exc}"
        return ExecutionUpdate(request.attempt_id, UpdateKind.FAILED_TO_START, reason=reason)

    # -- stopping and cleaning up -------------------------------------------------------------

    def _submit_stop(self, attempt: _Attempt, timeout_seconds: float) -> None:
        try:
            self._stop_pool.submit(self._stop_container, attempt, timeout_seconds)
        except RuntimeError:  # close() gave up waiting and shut the pool; it removes the container
            pass

    def _stop_container(self, attempt: _Attempt, timeout_seconds: float) -> None:
        try:
            attempt.container.stop(timeout=max(1, math.ceil(timeout_seconds)))
        except docker.errors.NotFound:
            pass  # already gone
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.warning(
                "job %s: could not stop attempt %s: %s",
                attempt.request.job_id,
                attempt.request.attempt_id,
                exc,
            )

    def _remove(self, attempt: _Attempt) -> None:
        """Remove what the attempt made, each piece on its own: one that fails (a removal already
        in progress, a daemon hiccup) must not leave the others, or the group network's count."""
        pieces: list[tuple[str, Callable[[], None]]] = [
            (f"container {c.short_id}", partial(_remove_container, c))
            for c in (attempt.container, *attempt.task_containers.values())
            if c is not None
        ]
        pieces += [(f"volume {name}", partial(self._remove_volume, name)) for name in attempt.volume_names]
        if attempt.network is not None:
            pieces.append(("task network", partial(_remove_network, attempt.network)))
        if attempt.group_network is not None:
            pieces.append(("group network", partial(self._release_group_network, attempt)))
        for what, remove in pieces:
            try:
                remove()
            except docker.errors.NotFound:
                pass
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                logger.warning(
                    "job %s: could not remove the %s attempt %s left: %s",
                    attempt.request.job_id,
                    what,
                    attempt.request.attempt_id,
                    exc,
                )

    def _remove_volume(self, name: str) -> None:
        self._client.volumes.get(name).remove(force=True)

    def _remove_labelled(
        self, selector: str, should_remove: Callable[[Mapping[str, str]], bool] | None = None
    ) -> None:
        # sparse: no inspect per container, which would race with other clients removing theirs.
        for container in self._client.containers.list(all=True, sparse=True, filters={"label": selector}):
            labels = container.attrs.get("Labels") or {}
            if should_remove is None or should_remove(labels):
                logger.info("removing container %s (%s)", container.short_id, labels.get(ATTEMPT_LABEL))
                try:
                    container.remove(force=True, v=True)
                except docker.errors.NotFound:
                    pass
        for volume in self._client.volumes.list(filters={"label": selector}):
            if should_remove is None or should_remove(volume.attrs.get("Labels") or {}):
                try:
                    volume.remove(force=True)
                except docker.errors.NotFound:
                    pass
        for network in self._client.networks.list(filters={"label": selector}):
            if should_remove is None or should_remove(network.attrs.get("Labels") or {}):
                _remove_network(network)

    def _is_orphaned(self, labels: Mapping[str, str]) -> bool:
        """True when the emulator process that made this container or volume no longer runs."""
        host, _, rest = labels.get(OWNER_LABEL, "").partition("/")
        pid, _, start_time = rest.partition("/")
        if not host or not pid.isdigit():
            return True
        if host == socket.gethostname():
            return not _is_process_running(int(pid), start_time)
        try:  # a server in a container has the container's id as its host name
            return self._client.containers.get(host).status != "running"
        except docker.errors.NotFound:
            return True


def _follow_to_exit(container: Any, output: LineWriter) -> tuple[int, bool]:
    """Feed the container's output to `output` until it exits; its exit code, and whether it was
    killed for running out of memory (Docker's OOMKilled, read after the exit)."""
    for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True, timestamps=False):
        output.feed(chunk)
    output.finish()
    exit_code = container.wait()["StatusCode"]
    container.reload()
    return exit_code, bool(container.attrs["State"].get("OOMKilled"))


def _remove_container(container: Any) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass


def _remove_network(network: Any) -> None:
    try:
        network.remove()
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:  # still in use: a container outlived its attempt
        logger.warning("could not remove network %s: %s", network.name, _explain(exc))


def _stopped_before_start(request: ExecutionRequest) -> ExecutionUpdate:
    """Stopped while still pulling or creating: it ends without ever running, so no exit code."""
    logger.info("job %s: attempt %s stopped before its container started", request.job_id, request.attempt_id)
    return ExecutionUpdate(request.attempt_id, UpdateKind.EXITED)


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", errors="replace")
    return (explanation or str(exc)).strip()


def _via_host_alias(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        return url
    netloc = HOST_ALIAS if parts.port is None else f"{HOST_ALIAS}:{parts.port}"
    if parts.username or parts.password:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    return urlunsplit(parts._replace(netloc=netloc))


def _binds(request: ExecutionRequest, scratch_names: Any) -> list[str]:
    """`host:container:mode` strings: a host path is bound (Docker creates it when missing, as ECS
    does), a scratch volume uses the Docker volume made for this attempt."""
    sources: dict[str, str] = {}
    for volume in request.volumes:
        sources[volume.name] = volume.host_path if volume.host_path is not None else next(scratch_names)
    binds = []
    for mount in request.mounts:
        source = sources.get(mount.source_volume)
        if source is None:
            logger.warning(
                "job %s: mount point names unknown volume %r; skipped", request.job_id, mount.source_volume
            )
            continue
        binds.append(f"{source}:{mount.container_path}:{'ro' if mount.read_only else 'rw'}")
    return binds


def _device(host_path: str, container_path: str | None, permissions: tuple[str, ...]) -> str:
    modes = "".join(DEVICE_PERMISSIONS[p] for p in permissions if p in DEVICE_PERMISSIONS) or "rwm"
    return f"{host_path}:{container_path or host_path}:{modes}"


def _tmpfs_options(size_mib: int, mount_options: tuple[str, ...]) -> str:
    return ",".join((f"size={size_mib}m", *mount_options))


def _docker_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", name)[:64] or "volume"


def _this_process_as_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_process_start_time(pid)}"


def _process_start_time(pid: int) -> str:
    """Clock ticks after boot at which `pid` started (Linux), telling a reused pid from the original."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _is_process_running(pid: int, start_time: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return not start_time or _process_start_time(pid) in ("", start_time)
