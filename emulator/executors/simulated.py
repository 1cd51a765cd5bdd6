"""The simulated executor: runs nothing, reports a scripted outcome measured on the engine's clock.

Each attempt's outcome comes from, in this order:
1. a script registered with `script(key, *outcomes)`, where `key` is the job id, the array parent's
   id (applies to every child), the job name or the job definition ARN; the n-th outcome is used for
   attempt n and the last one repeats, so `script("job", Outcome(exit_code=1), Outcome())` fails the
   first attempt and lets the retry succeed;
2. the request's environment variables:
   - `BATCH_EMULATOR_EXIT_CODE`     exit code, 0 to 255 (default 0)
   - `BATCH_EMULATOR_DURATION_MS`   time between RUNNING and EXITED on the clock, 0 to ten years
                                    (default 0)
   - `BATCH_EMULATOR_OUTPUT`        log lines, separated by `\\n`, written to the log stream
   - `BATCH_EMULATOR_FAIL_TO_START` a container reason: the attempt fails to start with it
   - `BATCH_EMULATOR_REASON`        a container reason reported with the exit (e.g. an OOM kill)
   RegisterJobDefinition and SubmitJob refuse an environment that sets one of the numbers to
   anything else (`read_outcome_environment`), so DescribeJobs never shows an exit code no SDK
   can read; one that arrives all the same makes the attempt fail to start, saying why;
3. success at once.

Timing: RUNNING (or FAILED_TO_START) is reported by the first `poll()` after `start()`, and the
duration counts from that poll; EXITED comes from the first poll at or after the end. `stop()`
makes the next poll report EXITED with 143 (SIGTERM handled), or FAILED_TO_START if the attempt had
not been reported RUNNING yet. No threads: a test advances the clock and runs a pass.
`next_event_ms()` tells the engine's loop when the next report is due, so it need not busy-wait.

Multi-container tasks: each container's outcome comes from its own environment (a script keyed by
the job applies to every container); the task runs as long as its longest container and the
EXITED update lists every container's exit code. No start ordering is simulated. Every attempt
in a network group (MNP nodes) reports a made-up private address in 10.0.0.0/16, derived from
its attempt id.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from emulator.engine import numeric_text
from emulator.engine.clock import Clock
from emulator.engine.records import ContainerResult
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, UpdateKind
from emulator.stores.base import LogStore

log = logging.getLogger(__name__)

STOPPED_EXIT_CODE = 143
JOB_NAME_LABEL = "batch-emulator.job-name"
DEFINITION_LABEL = "batch-emulator.job-definition"
ATTEMPT_LABEL = "batch-emulator.attempt"
EXIT_CODE_VARIABLE = "BATCH_EMULATOR_EXIT_CODE"
DURATION_VARIABLE = "BATCH_EMULATOR_DURATION_MS"


@dataclass(frozen=True, slots=True)
class Outcome:
    exit_code: int = 0
    duration_ms: int = 0
    output: tuple[str, ...] = ()
    fail_to_start_reason: str | None = None
    reason: str | None = None  # the container reason reported with the exit


def outcome_from_environment(environment: Mapping[str, str]) -> Outcome:
    try:
        return read_outcome_environment(environment)
    except ValueError as error:
        return Outcome(fail_to_start_reason=f"CannotStartContainerError: {error}")


def read_outcome_environment(environment: Mapping[str, str]) -> Outcome:
    """The outcome a container's environment asks for; ValueError naming the variable whose
    value is not a number in its range (numeric_text.exit_code, numeric_text.duration_ms)."""
    exit_code = _read(environment, EXIT_CODE_VARIABLE, numeric_text.exit_code)
    duration_ms = _read(environment, DURATION_VARIABLE, numeric_text.duration_ms)
    output = environment.get("BATCH_EMULATOR_OUTPUT")
    return Outcome(
        exit_code=exit_code,
        duration_ms=duration_ms,
        output=tuple(output.split("\n")) if output else (),
        fail_to_start_reason=environment.get("BATCH_EMULATOR_FAIL_TO_START") or None,
        reason=environment.get("BATCH_EMULATOR_REASON") or None,
    )


def _read(environment: Mapping[str, str], name: str, reader: Callable[[str], int]) -> int:
    text = environment.get(name)
    if text is None:
        return 0
    try:
        return reader(text)
    except numeric_text.NumericTextError as error:
        raise ValueError(f"{name} {error}") from None


@dataclass(slots=True)
class _Run:
    request: ExecutionRequest
    outcome: Outcome
    member_outcomes: tuple[tuple[str, bool, Outcome], ...] = ()  # tasks: (name, is_init, outcome)
    is_running: bool = False
    is_stopping: bool = False


class SimulatedExecutor:
    def __init__(self, clock: Clock, log_store: LogStore | None = None) -> None:
        self._clock = clock
        self._log_store = log_store
        self._lock = threading.Lock()
        self._scripts: dict[str, tuple[Outcome, ...]] = {}
        self._runs: dict[str, _Run] = {}
        self._starting: list[str] = []  # started, not yet reported
        self._stopping: list[str] = []  # stop requested, not yet reported
        self._exits: list[tuple[int, int, str]] = []  # (due_ms, sequence, attempt_id), a heap
        self._sequence = itertools.count()

    # ---- scripting ----
    def script(self, key: str, *outcomes: Outcome) -> None:
        """Outcomes for the attempts of jobs matching `key` (see the module docstring)."""
        if not outcomes:
            raise ValueError("script() needs at least one Outcome")
        with self._lock:
            self._scripts[key] = tuple(outcomes)

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    def live_attempts(self) -> list[str]:
        """Attempts started and not yet reported EXITED (the Executor protocol's leak check)."""
        return self.running_attempt_ids()

    def running_attempt_ids(self) -> list[str]:
        """Attempts started and not yet reported as ended."""
        with self._lock:
            return list(self._runs)

    # ---- Executor ----
    def start(self, request: ExecutionRequest) -> None:
        with self._lock:
            run = _Run(request, self._outcome_for(request))
            if request.containers:
                members = tuple(
                    (member.name, member.is_init, self._outcome_for(member.request, request))
                    for member in request.containers
                )
                failures = [o.fail_to_start_reason for _, _, o in members if o.fail_to_start_reason]
                duration_ms = max(o.duration_ms for _, _, o in members)
                run = _Run(
                    request,
                    Outcome(duration_ms=duration_ms, fail_to_start_reason=failures[0] if failures else None),
                    members,
                )
            self._runs[request.attempt_id] = run
            self._starting.append(request.attempt_id)

    def stop(self, attempt_id: str, reason: str) -> None:
        with self._lock:
            run = self._runs.get(attempt_id)
            if run is not None and not run.is_stopping:
                run.is_stopping = True
                self._stopping.append(attempt_id)

    def poll(self) -> list[ExecutionUpdate]:
        with self._lock:
            now = self._clock.now_ms()
            updates: list[ExecutionUpdate] = []
            starting, self._starting = self._starting, []
            for attempt_id in starting:
                self._report_start(attempt_id, now, updates)
            stopping, self._stopping = self._stopping, []
            for attempt_id in stopping:
                run = self._runs.pop(attempt_id, None)
                if run is not None:
                    updates.append(
                        ExecutionUpdate(attempt_id, UpdateKind.EXITED, exit_code=STOPPED_EXIT_CODE)
                    )
            while self._exits and self._exits[0][0] <= now:
                _, _, attempt_id = heapq.heappop(self._exits)
                run = self._runs.pop(attempt_id, None)
                if run is not None:
                    updates.append(self._exit_update(attempt_id, run))
            return updates

    def close(self) -> None:
        with self._lock:
            self._runs.clear()
            self._starting.clear()
            self._stopping.clear()
            self._exits.clear()

    def next_event_ms(self) -> int | None:
        """When the next poll has something to report; None when nothing is in flight."""
        with self._lock:
            if self._starting or self._stopping:
                return self._clock.now_ms()
            while self._exits and self._exits[0][2] not in self._runs:
                heapq.heappop(self._exits)
            return self._exits[0][0] if self._exits else None

    # ---- internals ----
    def _outcome_for(self, request: ExecutionRequest, task: ExecutionRequest | None = None) -> Outcome:
        labels = (task or request).labels
        keys = (
            request.job_id,
            request.job_id.rpartition(":")[0] if ":" in request.job_id else None,
            request.job_id.rpartition("#")[0] if "#" in request.job_id else None,
            labels.get(JOB_NAME_LABEL),
            labels.get(DEFINITION_LABEL),
        )
        for key in keys:
            outcomes = self._scripts.get(key) if key else None
            if outcomes:
                attempt = _attempt_number(task or request)
                return outcomes[min(attempt, len(outcomes)) - 1]
        return outcome_from_environment(request.environment)

    def _report_start(self, attempt_id: str, now: int, updates: list[ExecutionUpdate]) -> None:
        run = self._runs.get(attempt_id)
        if run is None:
            return
        if run.is_stopping or run.outcome.fail_to_start_reason:
            del self._runs[attempt_id]
            reason = (
                run.outcome.fail_to_start_reason or "CannotStartContainerError: stopped before it started"
            )
            updates.append(ExecutionUpdate(attempt_id, UpdateKind.FAILED_TO_START, reason=reason))
            return
        run.is_running = True
        self._write_output(run.request, now)
        address = _address(attempt_id) if run.request.network_group is not None else None
        updates.append(ExecutionUpdate(attempt_id, UpdateKind.RUNNING, private_ipv4=address))
        heapq.heappush(self._exits, (now + run.outcome.duration_ms, next(self._sequence), attempt_id))

    @staticmethod
    def _exit_update(attempt_id: str, run: _Run) -> ExecutionUpdate:
        if run.member_outcomes:
            results = tuple(
                ContainerResult(name, exit_code=o.exit_code, reason=o.reason, is_init=is_init)
                for name, is_init, o in run.member_outcomes
            )
            return ExecutionUpdate(attempt_id, UpdateKind.EXITED, containers=results)
        outcome = run.outcome
        return ExecutionUpdate(
            attempt_id, UpdateKind.EXITED, exit_code=outcome.exit_code, reason=outcome.reason
        )

    def _write_output(self, request: ExecutionRequest, now: int) -> None:
        if self._log_store is None:
            return
        run = self._runs[request.attempt_id]
        if run.member_outcomes:
            for member, (_, _, outcome) in zip(request.containers, run.member_outcomes, strict=True):
                self._write_lines(member.request, outcome.output, now)
        else:
            self._write_lines(request, run.outcome.output, now)

    def _write_lines(self, request: ExecutionRequest, lines: tuple[str, ...], now: int) -> None:
        assert self._log_store is not None
        target = request.log
        self._log_store.ensure_stream(target.account_id, target.region, target.group, target.stream)
        if lines:
            events = [(now, line) for line in lines]
            self._log_store.put_events(target.account_id, target.region, target.group, target.stream, events)


def _address(attempt_id: str) -> str:
    digest = hashlib.sha1(attempt_id.encode()).digest()  # noqa: S324 - an address, not security
    return f"10.0.{digest[0]}.{max(1, digest[1])}"


def _attempt_number(request: ExecutionRequest) -> int:
    raw = request.labels.get(ATTEMPT_LABEL) or request.attempt_id.rpartition("/")[2]
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1
