"""SQLite stores: resources, jobs and CloudWatch Logs data in one file, for `--state-dir DIR`.

`StateDatabase` owns the file (`DIR/emulator.sqlite3`) and one connection shared by every store,
guarded by one lock that is a leaf: nothing is called out of a store while it is held, so it can
never take part in a lock cycle with the engine or a service. Every write is one transaction,
committed before the method returns, so a write the API acknowledged is on disk before the
response is sent. WAL journal with `synchronous=NORMAL`: a commit is in the WAL file (the OS page
cache) when it returns, which survives the server process being killed (kill -9) but not the host
losing power; `synchronous="FULL"` (EMULATOR_STATE_SYNC=FULL) adds an fsync per commit for that.

A lock file (`DIR/lock`, flock) keeps a second emulator from using the same directory while the
first is alive; the kernel drops it when the owner dies, however it dies.

Each store implements the same contract as its memory twin and passes the same tests:
`SqliteResourceStore` (emulator.stores.resources), `SqliteJobStore` (emulator.stores.jobs) and
`SqliteLogStore` (emulator.stores.base.LogStore). Rows are converted in one place per store;
times are epoch milliseconds; documents and records are JSON text.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from emulator.engine.records import Job
from emulator.stores import records_codec
from emulator.stores.base import (
    FilterResult,
    GroupKey,
    LogGroupExistsError,
    LogGroupInfo,
    LogGroupNotFoundError,
    LogStreamExistsError,
    LogStreamInfo,
    LogStreamNotFoundError,
    MatchedEvent,
    StoredEvent,
    StreamGap,
)
from emulator.stores.jobs import IN_FLIGHT
from emulator.stores.memory import EVENT_OVERHEAD_BYTES, group_arn, stream_arn

DATABASE_NAME = "emulator.sqlite3"
LOCK_NAME = "lock"
SCHEMA_VERSION = 1
SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
# filter_events reads matching candidates in pages of this many rows, testing them outside the lock.
FILTER_PAGE_ROWS = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    document TEXT NOT NULL,
    UNIQUE (kind, key)
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS engine_notes (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    retention_days INTEGER,
    kms_key_id TEXT,
    log_group_class TEXT NOT NULL,
    tags TEXT NOT NULL,
    stored_bytes INTEGER NOT NULL,
    UNIQUE (account_id, region, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    first_event_ms INTEGER,
    last_event_ms INTEGER,
    last_ingestion_ms INTEGER,
    upload_count INTEGER,
    next_sequence INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS log_events (
    stream_id INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    ingestion_ms INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (stream_id, timestamp_ms, sequence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_events_by_group_time
    ON log_events (group_id, timestamp_ms, stream_id, sequence);
"""


class StateDirectoryInUseError(RuntimeError):
    """Another live emulator holds the state directory's lock."""


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class StateDatabase:
    """The state directory's SQLite file and the one connection the stores share."""

    def __init__(self, directory: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        synchronous = synchronous.upper()
        if synchronous not in SYNC_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNC_MODES)}, not {synchronous!r}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DATABASE_NAME
        self._lock_file = _lock_directory(self.directory / LOCK_NAME)
        self._lock = threading.RLock()
        self._depth = 0  # transaction nesting on the holding thread
        self._connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(f"PRAGMA synchronous={synchronous}")
        self.synchronous = synchronous
        self._create_schema()

    def _create_schema(self) -> None:
        with self._lock:
            # executescript commits on its own; the statements are idempotent (IF NOT EXISTS).
            self._connection.executescript(SCHEMA)
            row = self._connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self._connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) != SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema version {row[0]}; this emulator reads version {SCHEMA_VERSION}"
                )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction (a nested block joins the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._connection
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._connection
            except BaseException:
                self._depth = 0
                self._connection.execute("ROLLBACK")
                raise
            self._depth = 0
            self._connection.execute("COMMIT")

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for reads (autocommit: each statement sees every committed write)."""
        with self._lock:
            yield self._connection

    def integrity_check(self) -> str:
        with self.reading() as connection:
            return connection.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
        with contextlib.suppress(OSError):
            self._lock_file.close()


def _lock_directory(path: Path) -> Any:
    handle = open(path, "a+")  # noqa: SIM115 - held open for the database's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise StateDirectoryInUseError(
            f"state directory {path.parent} is in use by {owner}; stop that emulator first"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def _prefix_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: none exists)."""
    if ord(prefix[-1]) == sys.maxunicode:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _prefix_clause(column: str, prefix: str | None) -> tuple[str, list[Any]]:
    if not prefix:
        return "", []
    bound = _prefix_bound(prefix)
    if bound is None:
        return f" AND {column} >= ? AND substr({column}, 1, ?) = ?", [prefix, len(prefix), prefix]
    return f" AND {column} >= ? AND {column} < ?", [prefix, bound]


# ---- resources ---------------------------------------------------------------------------------


class SqliteResourceStore:
    """Implements `emulator.stores.resources.ResourceStore`. Documents are JSON text, so a caller
    always gets its own copy; rows keep their first insertion's position (an update does not move
    them), which is the order Describe calls return, as in the memory store."""

    def __init__(self, database: StateDatabase) -> None:
        self._database = database
        # Held by services across read-check-write sequences; separate from the database lock,
        # which is held only inside a store call.
        self._lock = threading.RLock()

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock, self._database.reading() as connection:
            row = connection.execute(
                "SELECT document FROM resources WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row is not None else None

    def put(self, kind: str, key: str, document: dict[str, Any]) -> None:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        with self._lock, self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO resources (kind, key, document) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET document = excluded.document",
                (kind, key, text),
            )

    def delete(self, kind: str, key: str) -> None:
        with self._lock, self._database.transaction() as connection:
            connection.execute("DELETE FROM resources WHERE kind = ? AND key = ?", (kind, key))

    def list(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        clause, parameters = _prefix_clause("key", prefix)
        with self._lock, self._database.reading() as connection:
            rows = connection.execute(
                f"SELECT document FROM resources WHERE kind = ?{clause} ORDER BY id", (kind, *parameters)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def scan(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        """`list`: decoding from JSON makes a copy anyway."""
        return self.list(kind, prefix)

    def kinds(self) -> list[str]:
        with self._lock, self._database.reading() as connection:
            return [row[0] for row in connection.execute("SELECT DISTINCT kind FROM resources")]

    def clear(self) -> None:
        with self._lock, self._database.transaction() as connection:
            connection.execute("DELETE FROM resources")

    @property
    def lock(self) -> threading.RLock:
        """Held by a service across a read-check-write sequence (e.g. unique names)."""
        return self._lock


# ---- jobs --------------------------------------------------------------------------------------


class SqliteJobStore:
    """Implements `emulator.stores.jobs.JobStore`: one row per job (its record as JSON, its status
    in a column for `load_in_flight`), kept in first-insertion order; notes as JSON by key."""

    def __init__(self, database: StateDatabase) -> None:
        self._database = database

    def put(self, job: Job) -> None:
        self.put_many([job])

    def put_many(self, jobs: Iterable[Job], notes: Mapping[str, Any | None] | None = None) -> None:
        rows = [(job.job_id, job.status.value, records_codec.dumps(job)) for job in jobs]
        set_notes = [(key, json.dumps(value)) for key, value in (notes or {}).items() if value is not None]
        dropped = [(key,) for key, value in (notes or {}).items() if value is None]
        if not rows and not set_notes and not dropped:
            return
        with self._database.transaction() as connection:
            connection.executemany(
                "INSERT INTO jobs (job_id, status, record) VALUES (?, ?, ?) ON CONFLICT (job_id) "
                "DO UPDATE SET status = excluded.status, record = excluded.record",
                rows,
            )
            connection.executemany(
                "INSERT INTO engine_notes (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                set_notes,
            )
            connection.executemany("DELETE FROM engine_notes WHERE key = ?", dropped)

    def load_all(self) -> list[Job]:
        with self._database.reading() as connection:
            rows = connection.execute("SELECT record FROM jobs ORDER BY seq").fetchall()
        return [records_codec.loads(Job, row[0]) for row in rows]

    def load_in_flight(self) -> list[Job]:
        statuses = [status.value for status in IN_FLIGHT]
        with self._database.reading() as connection:
            rows = connection.execute(
                f"SELECT record FROM jobs WHERE status IN ({','.join('?' * len(statuses))}) ORDER BY seq",
                statuses,
            ).fetchall()
        return [records_codec.loads(Job, row[0]) for row in rows]

    def load_notes(self) -> dict[str, Any]:
        with self._database.reading() as connection:
            rows = connection.execute("SELECT key, value FROM engine_notes ORDER BY key").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def clear(self) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM jobs")
            connection.execute("DELETE FROM engine_notes")


# ---- logs --------------------------------------------------------------------------------------

_GROUP_COLUMNS = "id, name, created_at_ms, stored_bytes, retention_days, kms_key_id, log_group_class"
_STREAM_COLUMNS = (
    "id, name, created_at_ms, first_event_ms, last_event_ms, last_ingestion_ms, upload_count, "
    "next_sequence, stored_bytes"
)


class SqliteLogStore:
    """Implements `emulator.stores.base.LogStore` over three tables: groups, streams, and events
    keyed by (stream, timestamp, sequence) so that a stream's time range is one index range, with
    a second index by (group, timestamp, stream, sequence) for filtering a whole group in order.
    Stream ids come from an AUTOINCREMENT key, so like the memory store's counter they are never
    reused. `now_ms` stamps creation and ingestion times when a caller does not pass `at_ms`."""

    def __init__(self, database: StateDatabase, now_ms: Callable[[], int] | None = None) -> None:
        self._database = database
        self._now_ms = now_ms or _wall_clock_ms

    # --- what executors call ---------------------------------------------------------------------

    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        with self._database.transaction() as connection:
            self._ensure(connection, account_id, region, group, stream, self._now_ms())

    def put_events(
        self, account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        with self._database.transaction() as connection:
            now = self._now_ms()
            group_id, stream_row = self._ensure(connection, account_id, region, group, stream, now)
            self._append(connection, group_id, stream_row, events, now)

    # --- groups ----------------------------------------------------------------------------------

    def create_group(
        self,
        account_id: str,
        region: str,
        group: str,
        *,
        tags: Mapping[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str = "STANDARD",
        at_ms: int | None = None,
    ) -> LogGroupInfo:
        with self._database.transaction() as connection:
            if self._find_group(connection, account_id, region, group) is not None:
                raise LogGroupExistsError(group)
            self._new_group(
                connection,
                account_id,
                region,
                group,
                self._at(at_ms),
                tags or {},
                kms_key_id,
                log_group_class,
            )
            return self._group_info(connection, account_id, region, group)

    def delete_group(self, account_id: str, region: str, group: str) -> None:
        with self._database.transaction() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            connection.execute("DELETE FROM log_events WHERE group_id = ?", (group_id,))
            connection.execute("DELETE FROM log_streams WHERE group_id = ?", (group_id,))
            connection.execute("DELETE FROM log_groups WHERE id = ?", (group_id,))

    def get_group(self, account_id: str, region: str, group: str) -> LogGroupInfo:
        with self._database.reading() as connection:
            return self._group_info(connection, account_id, region, group)

    def list_groups(self, account_id: str, region: str) -> list[LogGroupInfo]:
        with self._database.reading() as connection:
            rows = connection.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE account_id = ? AND region = ? ORDER BY name",
                (account_id, region),
            ).fetchall()
        return [_group_from_row(account_id, region, row) for row in rows]

    def set_retention(self, account_id: str, region: str, group: str, days: int | None) -> None:
        with self._database.transaction() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            connection.execute("UPDATE log_groups SET retention_days = ? WHERE id = ?", (days, group_id))

    def get_tags(self, account_id: str, region: str, group: str) -> dict[str, str]:
        with self._database.reading() as connection:
            return self._tags(connection, account_id, region, group)[1]

    def tag_group(self, account_id: str, region: str, group: str, tags: Mapping[str, str]) -> None:
        with self._database.transaction() as connection:
            group_id, current = self._tags(connection, account_id, region, group)
            current.update(tags)
            self._set_tags(connection, group_id, current)

    def untag_group(self, account_id: str, region: str, group: str, keys: Iterable[str]) -> None:
        with self._database.transaction() as connection:
            group_id, current = self._tags(connection, account_id, region, group)
            for key in keys:
                current.pop(key, None)
            self._set_tags(connection, group_id, current)

    # --- streams ---------------------------------------------------------------------------------

    def create_stream(
        self, account_id: str, region: str, group: str, stream: str, *, at_ms: int | None = None
    ) -> LogStreamInfo:
        with self._database.transaction() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            if self._find_stream(connection, group_id, stream) is not None:
                raise LogStreamExistsError(stream)
            self._new_stream(connection, group_id, stream, self._at(at_ms))
            return _stream_info(account_id, region, group, self._find_stream(connection, group_id, stream))

    def delete_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        with self._database.transaction() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            row = self._stream_row(connection, group_id, stream)
            connection.execute("DELETE FROM log_events WHERE stream_id = ?", (row[0],))
            connection.execute("DELETE FROM log_streams WHERE id = ?", (row[0],))
            connection.execute(
                "UPDATE log_groups SET stored_bytes = stored_bytes - ? WHERE id = ?", (row[8], group_id)
            )

    def get_stream(self, account_id: str, region: str, group: str, stream: str) -> LogStreamInfo:
        with self._database.reading() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            return _stream_info(account_id, region, group, self._stream_row(connection, group_id, stream))

    def list_streams(
        self,
        account_id: str,
        region: str,
        group: str,
        *,
        prefix: str | None = None,
        beyond: str | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[LogStreamInfo]:
        if limit is not None and limit <= 0:
            with self._database.reading() as connection:
                self._group_id(connection, account_id, region, group)
            return []
        clause, parameters = _prefix_clause("name", prefix)
        if beyond is not None:
            clause += " AND name < ?" if descending else " AND name > ?"
            parameters.append(beyond)
        order = "DESC" if descending else "ASC"
        with self._database.reading() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            rows = connection.execute(
                f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ?{clause} "
                f"ORDER BY name {order} LIMIT ?",
                (group_id, *parameters, -1 if limit is None else limit),
            ).fetchall()
        return [_stream_info(account_id, region, group, row) for row in rows]

    # --- events ----------------------------------------------------------------------------------

    def append_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[tuple[int, str]],
        *,
        at_ms: int | None = None,
    ) -> LogStreamInfo:
        with self._database.transaction() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            row = self._stream_row(connection, group_id, stream)
            self._append(connection, group_id, row, events, self._at(at_ms))
            return _stream_info(account_id, region, group, self._stream_row(connection, group_id, stream))

    def read_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        after: StreamGap | None = None,
        before: StreamGap | None = None,
        limit: int,
        from_end: bool = False,
    ) -> list[StoredEvent]:
        with self._database.reading() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            stream_id = self._stream_row(connection, group_id, stream)[0]
            if limit <= 0:
                return []
            clause, parameters = _window_clause(start_ms, end_ms)
            if after is not None:
                clause += " AND (timestamp_ms, sequence) >= (?, ?)"
                parameters += [after[0], after[1]]
            if before is not None:
                clause += " AND (timestamp_ms, sequence) < (?, ?)"
                parameters += [before[0], before[1]]
            order = "DESC" if from_end else "ASC"
            rows = connection.execute(
                "SELECT timestamp_ms, sequence, ingestion_ms, message FROM log_events "
                f"WHERE stream_id = ?{clause} ORDER BY timestamp_ms {order}, sequence {order} LIMIT ?",
                (stream_id, *parameters, limit),
            ).fetchall()
        events = [StoredEvent(*row) for row in rows]
        if from_end:
            events.reverse()
        return events

    def filter_events(
        self,
        account_id: str,
        region: str,
        group: str,
        *,
        streams: Iterable[str] | None = None,
        stream_prefix: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        after: GroupKey | None = None,
        matches: Callable[[str], bool] | None = None,
        limit: int,
    ) -> FilterResult:
        with self._database.reading() as connection:
            group_id = self._group_id(connection, account_id, region, group)
            chosen = self._chosen_streams(connection, group_id, streams, stream_prefix)
        names = [name for name, _ in chosen]
        if not chosen:
            return FilterResult(events=[], has_more=False, searched_streams=names)
        whole_group = streams is None and not stream_prefix
        ids = {stream_id: name for name, stream_id in chosen}
        found: list[MatchedEvent] = []
        position = after
        while len(found) <= limit:
            rows = self._candidates(group_id, ids, whole_group, start_ms, end_ms, position)
            for timestamp_ms, stream_id, sequence, ingestion_ms, message in rows:
                if stream_id not in ids:  # a stream created since the names were taken
                    continue
                if matches is None or matches(message):
                    found.append(
                        MatchedEvent(timestamp_ms, stream_id, sequence, ids[stream_id], ingestion_ms, message)
                    )
                    if len(found) > limit:
                        break
            if len(rows) < FILTER_PAGE_ROWS:
                break
            position = (rows[-1][0], rows[-1][1], rows[-1][2])
        return FilterResult(events=found[:limit], has_more=len(found) > limit, searched_streams=names)

    def clear(self) -> None:
        with self._database.transaction() as connection:
            connection.execute("DELETE FROM log_events")
            connection.execute("DELETE FROM log_streams")
            connection.execute("DELETE FROM log_groups")

    reset = clear

    # --- internals (callers hold the database lock) ----------------------------------------------

    def _at(self, at_ms: int | None) -> int:
        return self._now_ms() if at_ms is None else at_ms

    @staticmethod
    def _find_group(connection: sqlite3.Connection, account_id: str, region: str, group: str) -> int | None:
        row = connection.execute(
            "SELECT id FROM log_groups WHERE account_id = ? AND region = ? AND name = ?",
            (account_id, region, group),
        ).fetchone()
        return None if row is None else row[0]

    def _group_id(self, connection: sqlite3.Connection, account_id: str, region: str, group: str) -> int:
        group_id = self._find_group(connection, account_id, region, group)
        if group_id is None:
            raise LogGroupNotFoundError(group)
        return group_id

    @staticmethod
    def _group_info(connection: sqlite3.Connection, account_id: str, region: str, group: str) -> LogGroupInfo:
        row = connection.execute(
            f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE account_id = ? AND region = ? AND name = ?",
            (account_id, region, group),
        ).fetchone()
        if row is None:
            raise LogGroupNotFoundError(group)
        return _group_from_row(account_id, region, row)

    def _tags(
        self, connection: sqlite3.Connection, account_id: str, region: str, group: str
    ) -> tuple[int, dict[str, str]]:
        row = connection.execute(
            "SELECT id, tags FROM log_groups WHERE account_id = ? AND region = ? AND name = ?",
            (account_id, region, group),
        ).fetchone()
        if row is None:
            raise LogGroupNotFoundError(group)
        return row[0], json.loads(row[1])

    @staticmethod
    def _set_tags(connection: sqlite3.Connection, group_id: int, tags: dict[str, str]) -> None:
        connection.execute("UPDATE log_groups SET tags = ? WHERE id = ?", (json.dumps(tags), group_id))

    @staticmethod
    def _find_stream(connection: sqlite3.Connection, group_id: int, stream: str) -> tuple | None:
        return connection.execute(
            f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ? AND name = ?", (group_id, stream)
        ).fetchone()

    def _stream_row(self, connection: sqlite3.Connection, group_id: int, stream: str) -> tuple:
        row = self._find_stream(connection, group_id, stream)
        if row is None:
            raise LogStreamNotFoundError(stream)
        return row

    @staticmethod
    def _new_group(
        connection: sqlite3.Connection,
        account_id: str,
        region: str,
        group: str,
        now_ms: int,
        tags: Mapping[str, str],
        kms_key_id: str | None,
        log_group_class: str,
    ) -> int:
        cursor = connection.execute(
            "INSERT INTO log_groups (account_id, region, name, created_at_ms, kms_key_id, "
            "log_group_class, tags, stored_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (account_id, region, group, now_ms, kms_key_id, log_group_class, json.dumps(dict(tags))),
        )
        return cursor.lastrowid

    @staticmethod
    def _new_stream(connection: sqlite3.Connection, group_id: int, stream: str, now_ms: int) -> None:
        connection.execute(
            "INSERT INTO log_streams (group_id, name, created_at_ms, next_sequence, stored_bytes) "
            "VALUES (?, ?, ?, 0, 0)",
            (group_id, stream, now_ms),
        )

    def _ensure(
        self,
        connection: sqlite3.Connection,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        now_ms: int,
    ) -> tuple[int, tuple]:
        group_id = self._find_group(connection, account_id, region, group)
        if group_id is None:
            group_id = self._new_group(connection, account_id, region, group, now_ms, {}, None, "STANDARD")
        row = self._find_stream(connection, group_id, stream)
        if row is None:
            self._new_stream(connection, group_id, stream, now_ms)
            row = self._find_stream(connection, group_id, stream)
        return group_id, row

    @staticmethod
    def _append(
        connection: sqlite3.Connection,
        group_id: int,
        stream_row: tuple,
        events: list[tuple[int, str]],
        ingestion_ms: int,
    ) -> None:
        if not events:
            return
        stream_id, first_ms, last_ms, sequence = stream_row[0], stream_row[3], stream_row[4], stream_row[7]
        rows = []
        added_bytes = 0
        for timestamp_ms, message in sorted(events, key=lambda event: event[0]):
            rows.append((stream_id, timestamp_ms, sequence, group_id, ingestion_ms, message))
            sequence += 1
            added_bytes += len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
        connection.executemany(
            "INSERT INTO log_events (stream_id, timestamp_ms, sequence, group_id, ingestion_ms, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        low, high = rows[0][1], rows[-1][1]
        connection.execute(
            "UPDATE log_streams SET next_sequence = ?, last_ingestion_ms = ?, "
            "upload_count = coalesce(upload_count, 0) + 1, stored_bytes = stored_bytes + ?, "
            "first_event_ms = ?, last_event_ms = ? WHERE id = ?",
            (
                sequence,
                ingestion_ms,
                added_bytes,
                low if first_ms is None else min(first_ms, low),
                high if last_ms is None else max(last_ms, high),
                stream_id,
            ),
        )
        connection.execute(
            "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?", (added_bytes, group_id)
        )

    @staticmethod
    def _chosen_streams(
        connection: sqlite3.Connection, group_id: int, streams: Iterable[str] | None, prefix: str | None
    ) -> list[tuple[str, int]]:
        """(name, id) of the streams to search: the named ones that exist, in the order given, or
        those with the prefix, by name."""
        if streams is not None:
            chosen = []
            for name in dict.fromkeys(streams):
                row = connection.execute(
                    "SELECT id FROM log_streams WHERE group_id = ? AND name = ?", (group_id, name)
                ).fetchone()
                if row is not None:
                    chosen.append((name, row[0]))
            return chosen
        clause, parameters = _prefix_clause("name", prefix)
        return connection.execute(
            f"SELECT name, id FROM log_streams WHERE group_id = ?{clause} ORDER BY name",
            (group_id, *parameters),
        ).fetchall()

    def _candidates(
        self,
        group_id: int,
        ids: dict[int, str],
        whole_group: bool,
        start_ms: int | None,
        end_ms: int | None,
        after: GroupKey | None,
    ) -> list[tuple]:
        """The next page of events of the chosen streams in (timestamp, stream, sequence) order."""
        clause, parameters = _window_clause(start_ms, end_ms)
        if after is not None:
            clause += " AND (timestamp_ms, stream_id, sequence) > (?, ?, ?)"
            parameters += list(after)
        if whole_group:
            source = "log_events INDEXED BY log_events_by_group_time WHERE group_id = ?"
            parameters.insert(0, group_id)
        else:
            source = "log_events WHERE stream_id IN (SELECT value FROM json_each(?))"
            parameters.insert(0, json.dumps(list(ids)))
        with self._database.reading() as connection:
            return connection.execute(
                f"SELECT timestamp_ms, stream_id, sequence, ingestion_ms, message FROM {source}{clause} "
                "ORDER BY timestamp_ms, stream_id, sequence LIMIT ?",
                (*parameters, FILTER_PAGE_ROWS),
            ).fetchall()


def _window_clause(start_ms: int | None, end_ms: int | None) -> tuple[str, list[Any]]:
    clause, parameters = "", []
    if start_ms is not None:
        clause += " AND timestamp_ms >= ?"
        parameters.append(start_ms)
    if end_ms is not None:
        clause += " AND timestamp_ms < ?"
        parameters.append(end_ms)
    return clause, parameters


def _group_from_row(account_id: str, region: str, row: tuple) -> LogGroupInfo:
    _, name, created_at_ms, stored_bytes, retention_days, kms_key_id, log_group_class = row
    return LogGroupInfo(
        name=name,
        arn=group_arn(account_id, region, name),
        created_at_ms=created_at_ms,
        stored_bytes=stored_bytes,
        retention_days=retention_days,
        kms_key_id=kms_key_id,
        log_group_class=log_group_class,
    )


def _stream_info(account_id: str, region: str, group: str, row: tuple) -> LogStreamInfo:
    stream_id, name, created_at_ms, first_ms, last_ms, last_ingestion_ms, upload_count, _, _ = row
    return LogStreamInfo(
        name=name,
        arn=stream_arn(account_id, region, group, name),
        created_at_ms=created_at_ms,
        first_event_ms=first_ms,
        last_event_ms=last_ms,
        last_ingestion_ms=last_ingestion_ms,
        upload_count=upload_count,
        stream_id=stream_id,
    )
