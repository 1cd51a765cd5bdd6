"""The JobStore contract, run against the memory and SQLite stores: jobs in creation order, the
in-flight subset, notes, clear; and, for SQLite, what survives closing and reopening the file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from emulator.engine.records import (
    Attempt,
    ContainerSpec,
    Dependency,
    ExitRule,
    Job,
    JobStatus,
    RetryPolicy,
)
from emulator.stores.jobs import MemoryJobStore
from emulator.stores.sqlite import SqliteJobStore, StateDatabase, StateDirectoryInUseError

T0 = 1_700_000_000_000


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MemoryJobStore]:
    if request.param == "memory":
        yield MemoryJobStore()
        return
    database = StateDatabase(tmp_path / "state")
    yield SqliteJobStore(database)
    database.close()


def job(job_id: str, status: JobStatus = JobStatus.SUBMITTED, **changes) -> Job:
    base = Job(
        job_id=job_id,
        arn=f"arn:aws:batch:us-east-1:123456789012:job/{job_id}",
        name=f"name-{job_id}",
        account_id="123456789012",
        region="us-east-1",
        queue_arn="arn:aws:batch:us-east-1:123456789012:job-queue/q",
        queue_name="q",
        definition_arn="arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        container=ContainerSpec(image="busybox", command=("echo", "hi"), environment=(("A", "1"),)),
        status=status,
        created_at_ms=T0,
        depends_on=(Dependency("other", "N_TO_N"),),
        retry=RetryPolicy(3, (ExitRule("RETRY", on_exit_code="1*"),)),
        tags={"team": "a"},
        detail={"parameters": {"p": "v"}, "list": [1, 2]},
        transitions=((JobStatus.SUBMITTED, T0),),
    )
    return replace(base, **changes)


def test_put_then_load_all_gives_equal_records_in_creation_order(store) -> None:
    jobs = [job("b"), job("a"), job("c")]
    store.put(jobs[0])
    store.put_many(jobs[1:])
    store.put(replace(jobs[0], status=JobStatus.RUNNABLE))  # an update keeps its place
    loaded = store.load_all()
    assert [j.job_id for j in loaded] == ["b", "a", "c"]
    assert loaded[0] == replace(jobs[0], status=JobStatus.RUNNABLE)
    assert loaded[1:] == jobs[1:]
    assert isinstance(loaded[0].status, JobStatus)
    assert isinstance(loaded[0].container.command, tuple)


def test_load_in_flight_gives_starting_and_running_jobs(store) -> None:
    attempt = Attempt(number=1, task_id="f" * 32, compute_environment_arn="ce", created_at_ms=T0)
    store.put_many(
        [
            job("a", JobStatus.RUNNABLE),
            job("b", JobStatus.STARTING, current_attempt=attempt),
            job("c", JobStatus.RUNNING, current_attempt=replace(attempt, started_at_ms=T0 + 1)),
            job("d", JobStatus.SUCCEEDED, attempts=(attempt,)),
        ]
    )
    assert [(j.job_id, j.current_attempt) for j in store.load_in_flight()] == [
        ("b", attempt),
        ("c", replace(attempt, started_at_ms=T0 + 1)),
    ]


def test_notes_are_set_replaced_and_deleted_with_the_jobs(store) -> None:
    store.put_many([job("a")], notes={"intent:1": {"kind": "cancel", "job_id": "a"}, "stop:x/1": {"r": 1}})
    store.put_many([], notes={"stop:x/1": None, "intent:2": {"kind": "terminate"}})
    store.put_many([], notes={"intent:1": {"kind": "cancel", "job_id": "a", "reason": "again"}})
    assert store.load_notes() == {
        "intent:1": {"kind": "cancel", "job_id": "a", "reason": "again"},
        "intent:2": {"kind": "terminate"},
    }
    store.put_many([], notes={"missing": None})  # deleting a note that is not there is no error


def test_clear_drops_jobs_and_notes(store) -> None:
    store.put_many([job("a"), job("b")], notes={"intent:1": {"kind": "cancel"}})
    store.clear()
    assert store.load_all() == []
    assert store.load_notes() == {}


def test_sqlite_jobs_and_notes_survive_reopening(tmp_path) -> None:
    database = StateDatabase(tmp_path / "state")
    SqliteJobStore(database).put_many([job("a"), job("b")], notes={"intent:1": {"kind": "cancel"}})
    database.close()
    reopened = StateDatabase(tmp_path / "state")
    store = SqliteJobStore(reopened)
    assert store.load_all() == [job("a"), job("b")]
    assert store.load_notes() == {"intent:1": {"kind": "cancel"}}
    assert reopened.integrity_check() == "ok"
    reopened.close()


def test_a_second_emulator_cannot_open_a_state_directory_in_use(tmp_path) -> None:
    database = StateDatabase(tmp_path / "state")
    with pytest.raises(StateDirectoryInUseError, match="in use by pid"):
        StateDatabase(tmp_path / "state")
    database.close()
    StateDatabase(tmp_path / "state").close()  # free again once the first one closed


def test_sqlite_synchronous_setting_is_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        StateDatabase(tmp_path / "state", synchronous="sometimes")
    database = StateDatabase(tmp_path / "state", synchronous="full")
    assert database.synchronous == "FULL"
    database.close()
