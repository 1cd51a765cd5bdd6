"""The job lifecycle as one table, and the one function that moves a job along it.

Reference §6.2 (ordinary jobs and array children) and §10 (array parents, which never run and so
only ever see SUBMITTED, PENDING and a terminal status). `apply_transition` also keeps the
timestamps that belong to a status change (§6.3): `runnable_at_ms` on entering RUNNABLE,
`stopped_at_ms` on reaching a terminal status, and the job's `transitions` history. What a status
change means for attempts, capacity or dependants is the engine's business, not this module's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from emulator.engine.records import Job, JobStatus

SUBMITTED = JobStatus.SUBMITTED
PENDING = JobStatus.PENDING
RUNNABLE = JobStatus.RUNNABLE
STARTING = JobStatus.STARTING
RUNNING = JobStatus.RUNNING
SUCCEEDED = JobStatus.SUCCEEDED
FAILED = JobStatus.FAILED

NEXT: Mapping[JobStatus, frozenset[JobStatus]] = {
    SUBMITTED: frozenset({PENDING, RUNNABLE, FAILED}),
    PENDING: frozenset({RUNNABLE, FAILED}),
    RUNNABLE: frozenset({STARTING, FAILED}),
    STARTING: frozenset({RUNNING, RUNNABLE, FAILED}),  # RUNNABLE: failed to start, retries left
    RUNNING: frozenset({SUCCEEDED, RUNNABLE, FAILED}),  # RUNNABLE: attempt failed, retries left
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}

# Array parents wait in PENDING while their children run and end when every child has ended (§10).
ARRAY_PARENT_NEXT: Mapping[JobStatus, frozenset[JobStatus]] = {
    SUBMITTED: frozenset({PENDING, FAILED}),
    PENDING: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}

# Multi-node parallel node jobs are created RUNNABLE when their parent is placed; a new attempt of
# the parent moves them back to RUNNABLE from wherever they ended (§11). A node stopped before it
# started fails from RUNNABLE.
NODE_NEXT: Mapping[JobStatus, frozenset[JobStatus]] = {
    RUNNABLE: frozenset({STARTING, FAILED}),
    STARTING: frozenset({RUNNING, SUCCEEDED, FAILED}),
    RUNNING: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset({RUNNABLE}),
    FAILED: frozenset({RUNNABLE}),
}

# Statuses in which a job holds capacity on a compute environment.
PLACED = frozenset({STARTING, RUNNING})


class IllegalTransitionError(Exception):
    """A move the lifecycle table does not allow; always an engine bug, never a user error."""


def allowed_next(job: Job) -> frozenset[JobStatus]:
    table = ARRAY_PARENT_NEXT if job.is_array_parent else NODE_NEXT if job.is_node else NEXT
    return table.get(job.status, frozenset())


def apply_transition(job: Job, to: JobStatus, at_ms: int, **changes: Any) -> Job:
    """Return `job` moved to `to` at `at_ms`, with `changes` applied; refuse illegal moves."""
    if to not in allowed_next(job):
        raise IllegalTransitionError(f"job {job.job_id}: {job.status} -> {to} is not allowed")
    if to is RUNNABLE:
        changes.setdefault("runnable_at_ms", at_ms)
    if to.is_terminal:
        changes.setdefault("stopped_at_ms", at_ms)
    elif to is RUNNABLE and job.status.is_terminal:  # an MNP node reset for a new attempt
        changes.setdefault("stopped_at_ms", None)
        changes.setdefault("started_at_ms", None)
    return dataclasses.replace(job, status=to, transitions=(*job.transitions, _entry(to, at_ms)), **changes)


@functools.lru_cache(maxsize=256)
def _entry(status: JobStatus, at_ms: int) -> tuple[JobStatus, int]:
    """One `transitions` entry, shared by every job that moved to `status` at `at_ms`: a pass
    moves thousands of array children at the same instant, and each finished job keeps five
    entries for as long as it is stored."""
    return (status, at_ms)
