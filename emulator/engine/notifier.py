"""Notifier: an engine's listeners, and telling them what the engine noted, in order.

Both engines note, under their own lock, each status a job enters and each blocked status reason a
RUNNABLE job gets, as `(record, status, None)` and `(record, status, at_ms)`; after a command or a
pass they hand the notes over here, outside their lock. What is worth noting, and when, stays with
the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class _Record(Protocol):
    @property
    def job_id(self) -> str: ...


RecordT = TypeVar("RecordT", bound=_Record)
StatusT = TypeVar("StatusT")


class Notifier(Generic[RecordT, StatusT]):
    def __init__(self, record_name: str) -> None:
        """`record_name` ("job", "service job") starts the log line of a listener that fails."""
        self._record_name = record_name
        # Read without the lock by the engines, to note nothing when no one listens.
        self.status_listeners: list[Callable[[RecordT, StatusT], None]] = []
        self.blocked_listeners: list[Callable[[RecordT, int], None]] = []
        # Keeps two threads (the loop, a test calling run_pass) from interleaving batches.
        self._lock = threading.RLock()

    def add_status_listener(self, listener: Callable[[RecordT, StatusT], None]) -> None:
        with self._lock:
            self.status_listeners.append(listener)

    def add_blocked_listener(self, listener: Callable[[RecordT, int], None]) -> None:
        with self._lock:
            self.blocked_listeners.append(listener)

    def tell(self, take_notices: Callable[[], list[tuple[RecordT, StatusT, int | None]]]) -> None:
        """Tell the listeners about the notices `take_notices()` hands over (it is called under
        this notifier's lock, so the batches of two threads are told one after the other)."""
        with self._lock:
            for record, status, blocked_at_ms in take_notices():
                if blocked_at_ms is None:
                    listeners, arguments = self.status_listeners, (record, status)
                else:
                    listeners, arguments = self.blocked_listeners, (record, blocked_at_ms)
                for listener in listeners:
                    try:
                        listener(*arguments)
                    except Exception:  # a listener's bug must not stop the engine
                        log.exception("%s %s: state-change listener failed", self._record_name, record.job_id)
