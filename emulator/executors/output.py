"""Turning a job's output bytes into log events, shared by the process and Docker executors.

What the awslogs driver does with a container's output: one event per line, without the newline,
stamped with the wall-clock time it was read, lines longer than Docker's 16 KiB message limit split.
Where the events are stored is the `LogStore`'s business.
"""

from __future__ import annotations

import logging
import time

from emulator.executors.base import LogTarget
from emulator.stores.base import LogStore

logger = logging.getLogger(__name__)

# Docker's log drivers split lines longer than 16 KiB into several messages; so do we.
MAX_LINE_BYTES = 16 * 1024


class LineWriter:
    """Buffers one output stream's partial line and writes complete lines as events."""

    def __init__(self, log_store: LogStore, target: LogTarget) -> None:
        self._log_store = log_store
        self._target = target
        self._partial = bytearray()

    def open_stream(self) -> None:
        """Create the stream when the job starts, as the awslogs driver does, even if it never writes."""
        target = self._target
        try:
            self._log_store.ensure_stream(target.account_id, target.region, target.group, target.stream)
        except Exception:
            logger.exception("could not create log stream %s/%s", target.group, target.stream)

    def feed(self, chunk: bytes) -> None:
        self._partial += chunk
        self._write(take_lines(self._partial))

    def finish(self) -> None:
        """Write the last line even if it has no newline."""
        if self._partial:
            self._write([bytes(self._partial)])
            self._partial.clear()

    def _write(self, lines: list[bytes]) -> None:
        """A failing log store costs the job its output lines, never the executor its thread."""
        if not lines:
            return
        target = self._target
        now_ms = int(time.time() * 1000)
        events = [(now_ms, line.decode("utf-8", errors="replace")) for line in lines]
        try:
            self._log_store.put_events(target.account_id, target.region, target.group, target.stream, events)
        except Exception:
            logger.exception("could not write to log stream %s/%s", target.group, target.stream)


def take_lines(buffer: bytearray) -> list[bytes]:
    """Remove and return the complete lines (without their newline) at the front of `buffer`, and any
    stretch of MAX_LINE_BYTES with no newline in it."""
    lines = []
    start = 0
    while True:
        # Look no further than one message: a long line is split however its bytes arrived.
        newline = buffer.find(b"\n", start, start + MAX_LINE_BYTES + 1)
        if newline >= 0:
            lines.append(bytes(buffer[start:newline]))
            start = newline + 1
        elif len(buffer) - start > MAX_LINE_BYTES:
            lines.append(bytes(buffer[start : start + MAX_LINE_BYTES]))
            start += MAX_LINE_BYTES
        else:
            break
    del buffer[:start]
    return lines


class SkippingLogStore:
    """Passes events on to `store` once the first `count` have gone by: the output of an attempt
    adopted after a restart is read again from its start, and the lines an earlier server stored
    must not repeat."""

    def __init__(self, store: LogStore, count: int) -> None:
        self._store = store
        self._left = count

    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        self._store.ensure_stream(account_id, region, group, stream)

    def put_events(
        self, account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        dropped = min(self._left, len(events))
        self._left -= dropped
        if events[dropped:]:
            self._store.put_events(account_id, region, group, stream, events[dropped:])


def stored_line_count(log_store: LogStore, target: LogTarget) -> int:
    """How many events the stream `target` already holds (0 when it does not exist)."""
    try:
        stored = log_store.read_events(  # type: ignore[attr-defined]
            target.account_id, target.region, target.group, target.stream, limit=1 << 62
        )
    except LookupError:
        return 0
    return len(stored)
