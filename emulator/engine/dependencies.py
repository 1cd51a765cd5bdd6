"""`dependsOn` resolution and array children, as pure functions (reference §9, §10).

`targets()` turns a job's dependency list into the concrete job ids it waits for; `evaluate()`
says what the statuses of those ids mean for it; `spawn_children()` builds an array parent's
children. Keeping track of who waits for whom, and when to look again, is the engine's job.

Choices where the reference is silent:
- Children inherit the parent's `depends_on`; a plain dependency makes every child wait for the
  whole dependency, N_TO_N makes child i wait for child i of the dependency (or for the whole
  dependency when it has no child i: sizes differ or it is not an array), SEQUENTIAL makes child i
  wait for child i-1 of its own array, and also for the whole job it names, if it names one.
- A job that is not an array child reads N_TO_N and SEQUENTIAL entries with a job id as plain
  dependencies on that job, and a SEQUENTIAL entry without one as no dependency at all.
- An array parent never evaluates its own dependencies: its children do, and it ends when they end.
- A dependency on an id the engine does not hold stays outstanding (the service rejects such ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from emulator.engine.ids import child_job_id
from emulator.engine.records import Job, JobStatus, spawned_job

DEPENDENT_JOB_FAILED = "Dependent Job failed"
N_TO_N = "N_TO_N"
SEQUENTIAL = "SEQUENTIAL"


class DependencyState(StrEnum):
    SATISFIED = "SATISFIED"  # every target SUCCEEDED (or there are none)
    OUTSTANDING = "OUTSTANDING"  # some target has not ended yet
    FAILED = "FAILED"  # some target FAILED: the job fails with "Dependent Job failed"


def targets(job: Job) -> tuple[str, ...]:
    """The job ids `job` waits for, in the order its dependencies are listed.

    An entry that names a job id is a dependency on that job whatever its type (§9): the type
    only adds a per-index meaning for array children. `{"jobId": X, "type": "SEQUENTIAL"}` is
    submitted by public pipeline code, and dropping X would let the job run before X ends."""
    found: list[str] = []
    for dependency in job.depends_on:
        kind = (dependency.kind or "").upper()
        if dependency.job_id is not None:
            if kind == N_TO_N and job.array_index is not None:
                found.append(_n_to_n_target(dependency.job_id, job.array_index))
            else:
                found.append(dependency.job_id)
        if kind == SEQUENTIAL and job.parent_job_id is not None and job.array_index:
            found.append(child_job_id(job.parent_job_id, job.array_index - 1))
    return tuple(found)


def _n_to_n_target(dependency_job_id: str, index: int) -> str:
    # The child's id is predictable; whether it exists is checked by the caller's lookup, which
    # falls back through `fallback_target` when it does not.
    return child_job_id(dependency_job_id, index)


def fallback_target(target_job_id: str) -> str | None:
    """For an N_TO_N target `<dep>:<i>` that does not exist, the whole dependency `<dep>`."""
    parent, sep, index = target_job_id.rpartition(":")
    return parent if sep and index.isdigit() else None


def evaluate(statuses: Iterable[JobStatus | None]) -> DependencyState:
    """Only success satisfies a dependency; one failure fails the dependant at once (§9)."""
    state = DependencyState.SATISFIED
    for status in statuses:
        if status is JobStatus.FAILED:
            return DependencyState.FAILED
        if status is not JobStatus.SUCCEEDED:
            state = DependencyState.OUTSTANDING
    return state


def spawn_children(parent: Job, now_ms: int) -> list[Job]:
    """The parent's children, created now in PENDING (§10): same name, queue, definition,
    container, retry strategy, timeout, dependencies and consumable claims; own id, ARN and index; no tags."""
    size = parent.array_size or 0
    return [
        spawned_job(
            parent,
            child_job_id(parent.job_id, index),
            JobStatus.PENDING,
            now_ms,
            container=parent.container,
            depends_on=parent.depends_on,
            array_size=size,
            array_index=index,
            parent_job_id=parent.job_id,
            detail=parent.detail,
            consumables=parent.consumables,  # each child locks its own quantity (§20)
        )
        for index in range(size)
    ]
