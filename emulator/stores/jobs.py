"""JobStore: where the engine writes its job records so that a restart can load them again.

The engine is the only writer. It holds every job in memory and reads from there; the store is
written through (each changed record, once per reconcile pass, in one transaction) and read only
at start-up (`load_all`). Besides jobs it keeps a few small "notes": JSON documents under string
keys for engine state that is not a job record but must survive a crash, such as a TerminateJob
acknowledged but not yet applied, or the reason an attempt is being stopped. A note written as
None is deleted.

Without `--state-dir` the engine gets no store at all and tracks nothing; `MemoryJobStore` exists
for tests of the engine's restart path and for the contract tests shared with
`emulator.stores.sqlite.SqliteJobStore`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from emulator.engine.records import Job, JobStatus
from emulator.stores import records_codec

IN_FLIGHT = (JobStatus.STARTING, JobStatus.RUNNING)


class JobStore(Protocol):
    def put(self, job: Job) -> None:
        """Store one job (insert or replace); durable when this returns."""
        ...

    def put_many(self, jobs: Iterable[Job], notes: Mapping[str, Any | None] | None = None) -> None:
        """Store jobs and set (or, with None, delete) notes, all in one transaction."""
        ...

    def load_all(self) -> list[Job]:
        """Every job, in the order each was first stored (creation order)."""
        ...

    def load_in_flight(self) -> list[Job]:
        """The jobs that were STARTING or RUNNING: the attempts a restart must account for."""
        ...

    def load_notes(self) -> dict[str, Any]: ...

    def clear(self) -> None: ...


class MemoryJobStore:
    """Keeps encoded copies, so a test of the restart path sees exactly what SQLite would give."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._notes: dict[str, Any] = {}

    def put(self, job: Job) -> None:
        self.put_many([job])

    def put_many(self, jobs: Iterable[Job], notes: Mapping[str, Any | None] | None = None) -> None:
        encoded = [(job.job_id, records_codec.encode(job)) for job in jobs]
        with self._lock:
            for job_id, data in encoded:
                self._jobs[job_id] = data
            for key, value in (notes or {}).items():
                if value is None:
                    self._notes.pop(key, None)
                else:
                    self._notes[key] = copy.deepcopy(value)

    def load_all(self) -> list[Job]:
        with self._lock:
            rows = list(self._jobs.values())
        return [records_codec.decode(Job, data) for data in rows]

    def load_in_flight(self) -> list[Job]:
        return [job for job in self.load_all() if job.status in IN_FLIGHT]

    def load_notes(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._notes)

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._notes.clear()
