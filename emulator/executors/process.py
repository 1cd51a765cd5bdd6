"""Runs each attempt as a local subprocess instead of a container.

For hosts without Docker, and for jobs whose image only wraps a command the host already has. The
image is ignored (a warning is logged once per executor), and so are memory and CPU limits, user,
volumes, ulimits and the other container settings: nothing here limits memory, so a job that would
be OOM-killed in a container simply keeps running. `request.environment` is the complete
environment, plus PATH and HOME from the server's own when the request leaves them out, so that
`sh -c ...` resolves. The working directory is the server's.

Each attempt runs in its own session (so its own process group), which makes the group behave like
a container: `stop` signals the whole group, SIGTERM then SIGKILL after the stop timeout, and when
the main process exits whatever it left behind in its group is killed, as Docker does when PID 1 of
a container exits. Exit codes follow Docker: a death by signal N reads as 128+N (137 for SIGKILL,
143 for SIGTERM).

One thread, started on the first `start`, does all the work: it spawns processes, multiplexes every
pipe and every process-exit descriptor (pidfd) through one selector, and enforces stop deadlines
through the selector's timeout. So a 10,000-child array costs one thread however many children run
at once, and a trivial job goes from start to EXITED in a few milliseconds with no polling sleeps.
Where `os.pidfd_open` is missing (not Linux), one small waiter thread per running process replaces
the pidfd, still bounded by the number of attempts running at once.

Multi-container tasks (ECS/EKS properties) run each container as its own process, in the order a
`TaskPlan` allows; they share the host's network, so containers reach each other on 127.0.0.1
(awsvpc tasks share localhost too). An attempt in a network group reports 127.0.0.1 as its address,
which is what multi-node parallel nodes get as AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS. GPU indexes
assigned by the engine are exported as CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import logging
import os
import queue
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.executors.output import LineWriter
from emulator.executors.tasks import TaskPlan
from emulator.stores.base import LogStore

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536
# After the main process exits (and its group is killed), how long to keep reading pipes held open
# by something that escaped the group (setsid, a daemon) before giving up on them.
DRAIN_SECONDS = 1.0
# close() gives running processes at most this long after SIGTERM, so that shutting the server down
# does not take the full 30 s stop timeout.
CLOSE_GRACE_SECONDS = 5.0
INHERITED_VARIABLES = ("PATH", "HOME")
LOOPBACK = "127.0.0.1"


@dataclass(eq=False, slots=True)
class _Task:
    """A multi-container attempt: its plan and the processes of the containers started so far."""

    request: ExecutionRequest
    plan: TaskPlan
    runs: dict[str, _Run] = field(default_factory=dict)  # container name -> run
    reported_running: bool = False


@dataclass(eq=False, slots=True)
class _Run:
    request: ExecutionRequest
    process: subprocess.Popen[bytes]
    key: str = ""  # the attempt id, or "<attempt id>#<container name>" for a task's container
    task: _Task | None = None
    container_name: str | None = None
    open_pipes: dict[int, LineWriter] = field(default_factory=dict)  # pipe fd -> its output
    pidfd: int | None = None
    exit_code: int | None = None
    kill_at: float | None = None  # monotonic deadline for SIGKILL once SIGTERM was sent
    drain_until: float | None = None  # monotonic deadline for pipes after the main process exited

    @property
    def has_exited(self) -> bool:
        return self.exit_code is not None


class ProcessExecutor:
    def __init__(self, log_store: LogStore, stop_timeout_seconds: float = 30.0) -> None:
        self._log_store = log_store
        self._stop_timeout_seconds = stop_timeout_seconds
        self._commands: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        self._updates: list[ExecutionUpdate] = []
        self._live: set[str] = set()  # started and not yet reported ended; guarded by _updates_lock
        self._updates_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._warned_about_image = False
        self._closed = False
        self._update_listeners: list[Callable[[], None]] = []
        # Owned by the loop thread only.
        self._runs: dict[str, _Run] = {}
        self._tasks: dict[str, _Task] = {}
        self._selector: selectors.BaseSelector | None = None
        self._closing = False

    # -- the Executor interface; every method returns at once ---------------------------------

    def start(self, request: ExecutionRequest) -> None:
        with self._lifecycle_lock:
            if self._closed:
                logger.warning(
                    "job %s: executor closed, attempt %s not started", request.job_id, request.attempt_id
                )
                self._publish(
                    ExecutionUpdate(
                        request.attempt_id,
                        UpdateKind.FAILED_TO_START,
                        reason="CannotStartContainerError: executor is shut down",
                    )
                )
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="process-executor", daemon=True)
                self._thread.start()
            with self._updates_lock:
                self._live.add(request.attempt_id)
            self._enqueue("start", request)

    def stop(self, attempt_id: str, reason: str) -> None:
        self._send("stop", (attempt_id, reason))

    def poll(self) -> list[ExecutionUpdate]:
        with self._updates_lock:
            updates, self._updates = self._updates, []
        return updates

    def add_update_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (the engine's `wake`) whenever an update is ready for `poll`, so that a
        job that ends in milliseconds is seen in milliseconds rather than at the engine's next poll."""
        self._update_listeners.append(listener)

    def live_attempts(self) -> list[str]:
        """Attempts started and not yet reported ended (their processes may still exist)."""
        with self._updates_lock:
            return list(self._live)

    def adopt(self, request: ExecutionRequest) -> bool:
        """A restart on a state directory: a process an earlier server started for this attempt
        cannot be followed (its output pipes died with that server), so it is killed with its
        process group and the attempt is reported lost (False), to be retried per its strategy.
        Such processes are found by the AWS_BATCH_JOB_ID and AWS_BATCH_JOB_ATTEMPT their
        environment carries (Linux /proc; elsewhere they are left alone)."""
        for pid in _processes_of(request):
            logger.info(
                "job %s: killing process %d left by attempt %s", request.job_id, pid, request.attempt_id
            )
            try:
                _signal_group(os.getpgid(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        return False

    def close(self) -> None:
        with self._lifecycle_lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._send("close", None)
            thread.join(timeout=min(self._stop_timeout_seconds, CLOSE_GRACE_SECONDS) + DRAIN_SECONDS + 5)
            if thread.is_alive():
                logger.error("process executor thread did not finish; leaving it behind")
                return
        with self._lifecycle_lock:
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1

    # -- plumbing between caller threads and the loop thread ----------------------------------

    def _send(self, command: str, argument: object) -> None:
        with self._lifecycle_lock:
            if self._wake_write < 0:
                logger.warning("process executor is closed; %s ignored", command)
                return
            self._enqueue(command, argument)

    def _enqueue(self, command: str, argument: object) -> None:
        self._commands.put((command, argument))
        try:
            os.write(self._wake_write, b"x")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already; the loop drains the whole queue anyway

    def _publish(self, update: ExecutionUpdate) -> None:
        with self._updates_lock:
            self._updates.append(update)
            if update.kind != UpdateKind.RUNNING:
                self._live.discard(update.attempt_id)
        for listener in self._update_listeners:
            listener()

    # -- the loop thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        try:
            while not (self._closing and not self._runs and not self._tasks):
                for key, _ in self._selector.select(self._next_timeout()):
                    if key.data is None:
                        self._handle_commands()
                    else:
                        run, what = key.data
                        if what == "exit":
                            self._on_exit(run)
                        else:
                            self._on_readable(run, key.fd)
                self._enforce_deadlines()
        except Exception:
            logger.exception("process executor loop crashed; killing what it still runs")
            for run in self._runs.values():
                _signal_group(run.process.pid, signal.SIGKILL)
            raise
        finally:
            self._selector.close()

    def _next_timeout(self) -> float | None:
        deadlines = [d for run in self._runs.values() for d in (run.kill_at, run.drain_until) if d]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _handle_commands(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                command, argument = self._commands.get_nowait()
            except queue.Empty:
                return
            if command == "start":
                self._spawn(argument)  # type: ignore[arg-type]
            elif command == "stop":
                self._terminate(*argument, grace_seconds=self._stop_timeout_seconds)  # type: ignore[misc]
            elif command == "exited":
                run = self._runs.get(argument)  # type: ignore[arg-type]
                if run is not None and not run.has_exited:
                    self._on_exit(run)
            else:
                self._closing = True
                grace_seconds = min(self._stop_timeout_seconds, CLOSE_GRACE_SECONDS)
                for attempt_id in [*self._tasks, *self._runs]:
                    self._terminate(attempt_id, "executor closing", grace_seconds=grace_seconds)

    def _spawn(self, request: ExecutionRequest) -> None:
        if not self._warned_about_image:
            self._warned_about_image = True
            logger.warning(
                "process executor ignores container images (job %s asked for %s)",
                request.job_id,
                request.image,
            )
        if self._closing:
            self._fail_to_start(request, "executor is shut down")
            return
        if request.containers:
            task = _Task(request, TaskPlan(request.containers))
            self._tasks[request.attempt_id] = task
            self._advance_task(task)
            return
        process = self._popen(request)
        if isinstance(process, str):
            self._fail_to_start(request, process)
            return
        self._watch(_Run(request, process, key=request.attempt_id))
        logger.info("job %s: attempt %s running as pid %d", request.job_id, request.attempt_id, process.pid)
        address = LOOPBACK if request.network_group is not None else None
        self._publish(ExecutionUpdate(request.attempt_id, UpdateKind.RUNNING, private_ipv4=address))

    @staticmethod
    def _popen(request: ExecutionRequest) -> subprocess.Popen[bytes] | str:
        """The started process, or why it could not start."""
        command = [*(request.entrypoint or ()), *request.command]
        if not command:
            return "no command to run (the process executor has no image entrypoint)"
        try:
            return subprocess.Popen(
                command,
                env=_environment_for(request),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                bufsize=0,
            )
        except (OSError, ValueError) as exc:  # missing binary, not executable, NUL in an argument
            return str(exc)

    def _watch(self, run: _Run) -> None:
        request, process = run.request, run.process
        self._runs[run.key] = run
        assert self._selector is not None
        for pipe in (process.stdout, process.stderr):
            assert pipe is not None
            os.set_blocking(pipe.fileno(), False)
            run.open_pipes[pipe.fileno()] = LineWriter(self._log_store, request.log)
            self._selector.register(pipe.fileno(), selectors.EVENT_READ, (run, "output"))
        self._watch_exit(run)
        next(iter(run.open_pipes.values())).open_stream()

    # -- multi-container tasks ----------------------------------------------------------------

    def _advance_task(self, task: _Task) -> None:
        """Start what the plan allows, stop what it says, and report the task once it is over."""
        plan = task.plan
        while True:
            for name in plan.take_stops():
                run = task.runs.get(name)
                if run is not None:
                    self._terminate(
                        run.key, "essential container exited", grace_seconds=self._stop_timeout_seconds
                    )
            startable = plan.startable()
            if not startable:
                break
            for name in startable:
                self._start_container(task, name)
        if not plan.has_started and not plan.is_done:
            return
        # A multi-node node runs once its main container does, as under Docker (the other nodes
        # start then); a lone task once any container has started.
        is_node = task.request.network_group is not None
        running = plan.main_container() is not None if is_node else plan.has_started
        if running and not task.reported_running:
            task.reported_running = True
            self._publish(ExecutionUpdate(task.request.attempt_id, UpdateKind.RUNNING, private_ipv4=LOOPBACK))
        if plan.is_done:
            del self._tasks[task.request.attempt_id]
            results = plan.results()
            if task.reported_running:
                update = ExecutionUpdate(task.request.attempt_id, UpdateKind.EXITED, containers=results)
            else:
                reason = next(
                    (r.reason for r in results if r.reason), "CannotStartContainerError: no container started"
                )
                update = ExecutionUpdate(
                    task.request.attempt_id, UpdateKind.FAILED_TO_START, reason=reason, containers=results
                )
            logger.info("job %s: task %s ended", task.request.job_id, task.request.attempt_id)
            self._publish(update)

    def _start_container(self, task: _Task, name: str) -> None:
        request = task.plan.members[name].request
        process = self._popen(request)
        if isinstance(process, str):
            task.plan.on_failed_to_start(name, f"CannotStartContainerError: {process}")
            return
        run = _Run(request, process, key=f"{task.request.attempt_id}#{name}", task=task, container_name=name)
        task.runs[name] = run
        task.plan.on_started(name, container_id=str(process.pid))
        self._watch(run)
        logger.info(
            "job %s: container %s of %s running as pid %d",
            task.request.job_id,
            name,
            task.request.attempt_id,
            process.pid,
        )

    def _fail_to_start(self, request: ExecutionRequest, message: str) -> None:
        logger.info("job %s: attempt %s failed to start: %s", request.job_id, request.attempt_id, message)
        self._publish(
            ExecutionUpdate(
                request.attempt_id, UpdateKind.FAILED_TO_START, reason=f"CannotStartContainerError: {message}"
            )
        )

    def _watch_exit(self, run: _Run) -> None:
        """Make the process's exit an event on the selector, without reaping it: until it is reaped its
        pid cannot be reused, so signalling its group afterwards cannot hit a stranger."""
        assert self._selector is not None
        try:
            run.pidfd = os.pidfd_open(run.process.pid)
        except (AttributeError, OSError):
            threading.Thread(
                target=self._wait_in_thread, args=(run,), name="process-waiter", daemon=True
            ).start()
            return
        self._selector.register(run.pidfd, selectors.EVENT_READ, (run, "exit"))

    def _wait_in_thread(self, run: _Run) -> None:
        os.waitid(os.P_PID, run.process.pid, os.WEXITED | os.WNOWAIT)
        self._send("exited", run.request.attempt_id)

    def _on_exit(self, run: _Run) -> None:
        assert self._selector is not None
        if run.pidfd is not None:
            self._selector.unregister(run.pidfd)
            os.close(run.pidfd)
            run.pidfd = None
        _signal_group(run.process.pid, signal.SIGKILL)  # what is left of the "container"
        returncode = run.process.wait()
        run.exit_code = returncode if returncode >= 0 else 128 - returncode
        run.kill_at = None
        run.drain_until = time.monotonic() + DRAIN_SECONDS
        self._finish_if_done(run)

    def _on_readable(self, run: _Run, fd: int) -> None:
        try:
            chunk = os.read(fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        if chunk:
            run.open_pipes[fd].feed(chunk)
            return
        self._close_pipe(run, fd)
        self._finish_if_done(run)

    def _close_pipe(self, run: _Run, fd: int) -> None:
        assert self._selector is not None
        self._selector.unregister(fd)
        run.open_pipes.pop(fd).finish()
        for pipe in (run.process.stdout, run.process.stderr):
            if pipe is not None and not pipe.closed and pipe.fileno() == fd:
                pipe.close()

    def _finish_if_done(self, run: _Run) -> None:
        if not run.has_exited or run.open_pipes:
            return
        request = run.request
        del self._runs[run.key]
        if run.task is not None:
            assert run.container_name is not None
            run.task.plan.on_exited(run.container_name, run.exit_code)
            self._advance_task(run.task)
            return
        logger.info("job %s: attempt %s exited with %d", request.job_id, request.attempt_id, run.exit_code)
        self._publish(ExecutionUpdate(request.attempt_id, UpdateKind.EXITED, exit_code=run.exit_code))

    def _terminate(self, attempt_id: str, reason: str, *, grace_seconds: float) -> None:
        task = self._tasks.get(attempt_id)
        if task is not None:
            task.plan.stop_all()
            self._advance_task(task)
            return
        run = self._runs.get(attempt_id)
        if run is None or run.has_exited or run.kill_at is not None:
            return
        logger.info("job %s: stopping attempt %s (%s)", run.request.job_id, attempt_id, reason)
        _signal_group(run.process.pid, signal.SIGTERM)
        run.kill_at = time.monotonic() + grace_seconds

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for run in list(self._runs.values()):
            if run.kill_at is not None and run.kill_at <= now:
                logger.info(
                    "job %s: attempt %s ignored SIGTERM; sending SIGKILL",
                    run.request.job_id,
                    run.request.attempt_id,
                )
                _signal_group(run.process.pid, signal.SIGKILL)
                run.kill_at = None
            if run.drain_until is not None and run.drain_until <= now:
                for fd in list(run.open_pipes):
                    self._close_pipe(run, fd)
                self._finish_if_done(run)


def _environment_for(request: ExecutionRequest) -> dict[str, str]:
    environment = dict(request.environment)
    for name in INHERITED_VARIABLES:
        if name not in environment and name in os.environ:
            environment[name] = os.environ[name]
    if request.gpu_ids:
        visible = ",".join(str(index) for index in request.gpu_ids)
        environment["CUDA_VISIBLE_DEVICES"] = visible
        environment["NVIDIA_VISIBLE_DEVICES"] = visible
    return environment


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone (or only a zombie leader is left)


def _processes_of(request: ExecutionRequest) -> list[int]:
    """Pids whose initial environment names this attempt's job id and attempt number."""
    wanted = {
        f"{name}={request.environment[name]}".encode()
        for name in ("AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT")
        if name in request.environment
    }
    if len(wanted) < 2 or not os.path.isdir("/proc"):
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = set(environ.read().split(b"\0"))
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if wanted <= variables:
            found.append(int(entry))
    return found
