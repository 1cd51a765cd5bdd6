"""Time for the engine: the only source of "now" under `engine/`.

`SystemClock` is wall time; `ManualClock` only moves when a test (or the clock test control)
advances it, which makes every engine test deterministic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now_ms = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now_ms

    def advance(self, milliseconds: int) -> int:
        with self._lock:
            self._now_ms += milliseconds
            return self._now_ms


class ControllableClock:
    """Wall time plus an offset that only grows: what a server running the simulated executor uses.

    Jobs see real time passing, and a test (through the emulator's clock control) can jump ahead
    with `advance()` to finish a long simulated job at once, or `pause()` time so that nothing
    comes due until it advances or resumes. Time never goes backwards. Listeners (the engine's
    `wake`) are called after each jump, so deadlines that just came due are acted on at once.
    """

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset_ms = 0
        self._paused_at_ms: int | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now_ms(self) -> int:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        if self._paused_at_ms is not None:
            return self._paused_at_ms
        return self._base.now_ms() + self._offset_ms

    @property
    def is_paused(self) -> bool:
        with self._lock:
            return self._paused_at_ms is not None

    def pause(self) -> int:
        with self._lock:
            self._paused_at_ms = self._now_locked()
            return self._paused_at_ms

    def resume(self) -> int:
        with self._lock:
            if self._paused_at_ms is not None:
                self._offset_ms = self._paused_at_ms - self._base.now_ms()
                self._paused_at_ms = None
            now = self._now_locked()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return now

    def advance(self, milliseconds: int) -> int:
        with self._lock:
            if self._paused_at_ms is not None:
                self._paused_at_ms += max(0, milliseconds)
            else:
                self._offset_ms += max(0, milliseconds)
            now = self._now_locked()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return now

    def reset(self) -> None:
        """Back to wall time, unpaused. Only for an emulator holding no jobs (Runtime.reset): with
        nothing recorded, time going back cannot reorder anything."""
        with self._lock:
            self._offset_ms = 0
            self._paused_at_ms = None

    def add_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)
