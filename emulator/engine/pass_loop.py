"""PassLoop: the one background thread that runs an engine's reconcile passes.

Both engines (`engine.Engine`, `service_jobs.ServiceJobEngine`) run their passes the same way: one
daemon thread, a pass right after every `wake()` (commands, clock jumps, executor updates), and
otherwise whenever the engine's own `wait_seconds()` says the next one is due. What a pass does and
when one is next due is left to the engine; this module only keeps the thread, the wake-ups and the
shutdown, and words the reason both engines give a job a pass raised on (`broken_job_reason`).
Tests do not start it: they call `run_pass()` themselves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# How long the loop waits when the engine could not say how long to wait.
FALLBACK_WAIT_SECONDS = 1.0
# The statusReason of a job a pass could not handle (the engines' `_fail_broken`); AWS has no such
# case, so the wording is the emulator's own. The error is cut short: the traceback is in the log.
BROKEN_JOB_REASON = "Internal emulator error: {error}"
MAX_ERROR_CHARACTERS = 200


def broken_job_reason(error: BaseException) -> str:
    """Why a job failed when a step of a pass raised on it: both engines fail that job and go on
    with the others, so one job nothing else can handle never stops a whole engine."""
    text = f"{type(error).__name__}: {error}"
    if len(text) > MAX_ERROR_CHARACTERS:
        text = text[:MAX_ERROR_CHARACTERS] + "..."
    return BROKEN_JOB_REASON.format(error=text)


class PassLoop:
    def __init__(
        self,
        *,
        thread_name: str,
        run_pass: Callable[[], None],
        wait_seconds: Callable[[], float | None],
        failure_message: str,
    ) -> None:
        """`wait_seconds()` is asked before each wait: how long the loop may sleep before the next
        pass (0: run one at once; None: only when woken). `failure_message` is logged, with the
        traceback, when a pass raises."""
        self._thread_name = thread_name
        self._run_pass = run_pass
        self._wait_seconds = wait_seconds
        self._failure_message = failure_message
        self._wakeup = threading.Condition()
        self._wanted = False  # a pass is due: set by wake(), cleared by the loop as a pass starts
        self._waiting = False  # the loop is inside wait(): only then does wake() notify
        self._closed = False
        self._thread: threading.Thread | None = None

    def wake_on_changes(self, clock: object, executor: object | None) -> None:
        """Wake for every clock jump (a clock with `add_listener`, such as ControllableClock) and
        for every update an executor says is ready (one with `add_update_listener`: the process and
        Docker executors), instead of waiting for its next poll."""
        add_listener = getattr(clock, "add_listener", None)
        if callable(add_listener):
            add_listener(self.wake)
        add_update_listener = getattr(executor, "add_update_listener", None)
        if callable(add_update_listener):
            add_update_listener(self.wake)

    def wake(self) -> None:
        """Ask for a pass now.

        Coalesced: while a pass is already due nothing more is done, and the loop is notified only
        when it is waiting, so a burst of commands costs one pass, not one notify (and one GIL
        hand-over to the loop) each. A wake-up during a pass sets `_wanted` again, and the loop
        runs one more pass before it waits, so nothing recorded after a pass started is missed."""
        if self._wanted:  # read without the lock: the loop clears it only before it starts a pass
            return
        with self._wakeup:
            self._wanted = True
            if self._waiting:
                self._wakeup.notify()

    def start(self) -> None:
        """Start the thread (idempotent)."""
        with self._wakeup:
            if self._thread is not None:
                return
            self._closed = False
            self._thread = threading.Thread(target=self._loop, name=self._thread_name, daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread and wait for it (at most ten seconds); a pass under way finishes first."""
        with self._wakeup:
            self._closed = True
            self._wakeup.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            try:
                timeout = self._wait_seconds()
            except Exception:  # as for a bad pass: log it, and look again soon rather than die
                log.exception(self._failure_message)
                timeout = FALLBACK_WAIT_SECONDS
            with self._wakeup:
                if not self._wanted and not self._closed and (timeout is None or timeout > 0):
                    self._waiting = True
                    try:
                        self._wakeup.wait(timeout)
                    finally:
                        self._waiting = False
                if self._closed:
                    return
                self._wanted = False
            try:
                self._run_pass()
            except Exception:  # the loop must survive a bad pass; the next one repairs state
                log.exception(self._failure_message)
