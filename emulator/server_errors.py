"""ServerErrors: the unexpected exceptions raised while serving, kept only where a test asked.

The one place that turns an unexpected exception into a 500 (app.py) hands it here. A test harness
(emulator.testing.Emulator, which the pytest plugin uses) turns recording on and re-raises what a
test caused in that test. A server started by `python -m emulator` records nothing: nobody would
ever read or clear what it kept, and each exception holds its traceback, whose frames hold the
request that caused it (a hundred 500s carrying a 1.3 MB token once kept 398 MB alive).

Even while recording, the store is bounded and keeps no traceback: a test needs the exception, its
message and where it was raised (kept as text), not the request every frame of the stack held.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Iterator

DEFAULT_CAPACITY = 50


class ServerErrors:
    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, recording: bool = False) -> None:
        self.capacity = capacity
        # Off unless a test harness turns it on; see the module docstring.
        self.recording = recording
        self._errors: deque[BaseException] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, error: BaseException) -> None:
        """Keep `error` (the oldest kept one makes room when full), or nothing when not recording."""
        if not self.recording:
            return
        _detach(error)
        with self._lock:
            self._errors.append(error)

    def drain(self) -> list[BaseException]:
        """What was recorded, oldest first, and forget it: each error fails one test, once."""
        with self._lock:
            errors = list(self._errors)
            self._errors.clear()
        return errors

    def clear(self) -> None:
        with self._lock:
            self._errors.clear()

    def __iter__(self) -> Iterator[BaseException]:
        with self._lock:
            return iter(list(self._errors))

    def __len__(self) -> int:
        return len(self._errors)

    def __repr__(self) -> str:
        return f"ServerErrors({list(self)!r})"


def _detach(error: BaseException) -> None:
    """Replace the traceback of `error`, and the exceptions it was raised from or while handling,
    by a note with their printed form: where it was raised and why, as text. A traceback holds its
    frames, and each frame the one that called it, up to the server's request loop: clearing their
    local variables is not enough, since the frames still running when the error is recorded keep
    theirs, and with them the request, for as long as the traceback is kept."""
    printed = "".join(traceback.format_exception(error)).rstrip()
    error.__traceback__ = None
    error.__cause__ = error.__context__ = None
    error.add_note(f"Raised while serving, in the emulator's server thread:\n{printed}")
