"""MemoryLogStore: CloudWatch Logs groups, streams and events held in memory.

Executors append from many threads while the API reads, so every method holds one lock, and
holds it only to touch the indexes: scans over copied slices (`filter_events`) run outside it.
Each stream keeps its events in one list of `StoredEvent` tuples sorted by
`(timestamp_ms, sequence)`; appends in time order cost O(1), a late event is inserted in place,
and a time range is found by bisection. A group keeps its stream names sorted, so a prefix is
a bisection too. Nothing expires: retention is recorded, never applied (reference §15: logs never
expire by default).
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping

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

# CloudWatch Logs counts each event as its UTF-8 message plus 26 bytes (PutLogEvents quotas).
EVENT_OVERHEAD_BYTES = 26


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class _Stream:
    __slots__ = (
        "name",
        "arn_prefix",
        "stream_id",
        "created_at_ms",
        "events",
        "next_sequence",
        "last_ingestion_ms",
        "upload_count",
        "stored_bytes",
    )

    def __init__(self, name: str, arn_prefix: str, stream_id: int, created_at_ms: int) -> None:
        self.name = name
        self.arn_prefix = arn_prefix  # the group's, shared: one stream per job attempt adds up
        self.stream_id = stream_id
        self.created_at_ms = created_at_ms
        self.events: list[StoredEvent] = []
        self.next_sequence = 0
        self.last_ingestion_ms: int | None = None
        self.upload_count: int | None = None
        self.stored_bytes = 0

    @property
    def arn(self) -> str:
        return self.arn_prefix + self.name

    def info(self) -> LogStreamInfo:
        events = self.events
        return LogStreamInfo(
            name=self.name,
            arn=self.arn,
            created_at_ms=self.created_at_ms,
            first_event_ms=events[0].timestamp_ms if events else None,
            last_event_ms=events[-1].timestamp_ms if events else None,
            last_ingestion_ms=self.last_ingestion_ms,
            upload_count=self.upload_count,
            stream_id=self.stream_id,
        )

    def window(self, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
        """Index range of the events with start_ms <= timestamp < end_ms."""
        events = self.events
        # (t,) sorts before every (t, sequence, ...) tuple, so bisect_left finds the first event at t.
        lo = 0 if start_ms is None else bisect_left(events, (start_ms,))
        hi = len(events) if end_ms is None else bisect_left(events, (end_ms,))
        return lo, hi


class _Group:
    __slots__ = (
        "name",
        "arn",
        "created_at_ms",
        "retention_days",
        "kms_key_id",
        "log_group_class",
        "tags",
        "stored_bytes",
        "streams",
        "stream_names",
        "stream_arn_prefix",
    )

    def __init__(self, name: str, arn: str, created_at_ms: int) -> None:
        self.name = name
        self.arn = arn
        self.stream_arn_prefix = arn.removesuffix("*") + "log-stream:"
        self.created_at_ms = created_at_ms
        self.retention_days: int | None = None
        self.kms_key_id: str | None = None
        self.log_group_class = "STANDARD"
        self.tags: dict[str, str] = {}
        self.stored_bytes = 0
        self.streams: dict[str, _Stream] = {}
        self.stream_names: list[str] = []  # sorted

    def info(self) -> LogGroupInfo:
        return LogGroupInfo(
            name=self.name,
            arn=self.arn,
            created_at_ms=self.created_at_ms,
            stored_bytes=self.stored_bytes,
            retention_days=self.retention_days,
            kms_key_id=self.kms_key_id,
            log_group_class=self.log_group_class,
        )

    def names_with_prefix(self, prefix: str | None) -> list[str]:
        lo, hi = self.prefix_range(prefix)
        return self.stream_names[lo:hi]

    def prefix_range(self, prefix: str | None) -> tuple[int, int]:
        """Index range of the sorted stream names that start with `prefix`."""
        names = self.stream_names
        if not prefix:
            return 0, len(names)
        lo = bisect_left(names, prefix)
        if ord(prefix[-1]) == sys.maxunicode:  # no successor to bisect for: scan
            hi = lo
            while hi < len(names) and names[hi].startswith(prefix):
                hi += 1
            return lo, hi
        # Every name with the prefix sorts before the prefix with its last character incremented.
        return lo, bisect_left(names, prefix[:-1] + chr(ord(prefix[-1]) + 1), lo)


def group_arn(account_id: str, region: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{group}:*"


def stream_arn(account_id: str, region: str, group: str, stream: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{group}:log-stream:{stream}"


class MemoryLogStore:
    """Implements `emulator.stores.base.LogStore`. `now_ms` stamps creation and ingestion times
    when a caller does not pass `at_ms`; it defaults to wall time."""

    def __init__(self, now_ms: Callable[[], int] | None = None) -> None:
        self._now_ms = now_ms or _wall_clock_ms
        self._lock = threading.RLock()
        self._partitions: dict[tuple[str, str], dict[str, _Group]] = {}
        self._stream_ids = itertools.count(1)

    # --- what executors call ---------------------------------------------------------------------

    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        with self._lock:
            self._ensure(account_id, region, group, stream, self._now_ms())

    def put_events(
        self, account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        with self._lock:
            now = self._now_ms()
            found_group, found_stream = self._ensure(account_id, region, group, stream, now)
            self._append(found_group, found_stream, events, now)

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
        with self._lock:
            groups = self._partition(account_id, region)
            if group in groups:
                raise LogGroupExistsError(group)
            created = self._new_group(account_id, region, group, self._at(at_ms))
            created.tags.update(tags or {})
            created.kms_key_id = kms_key_id
            created.log_group_class = log_group_class
            return created.info()

    def delete_group(self, account_id: str, region: str, group: str) -> None:
        with self._lock:
            self._group(account_id, region, group)
            del self._partitions[(account_id, region)][group]

    def get_group(self, account_id: str, region: str, group: str) -> LogGroupInfo:
        with self._lock:
            return self._group(account_id, region, group).info()

    def list_groups(self, account_id: str, region: str) -> list[LogGroupInfo]:
        with self._lock:
            groups = self._partitions.get((account_id, region), {})
            return [groups[name].info() for name in sorted(groups)]

    def set_retention(self, account_id: str, region: str, group: str, days: int | None) -> None:
        with self._lock:
            self._group(account_id, region, group).retention_days = days

    def get_tags(self, account_id: str, region: str, group: str) -> dict[str, str]:
        with self._lock:
            return dict(self._group(account_id, region, group).tags)

    def tag_group(self, account_id: str, region: str, group: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            self._group(account_id, region, group).tags.update(tags)

    def untag_group(self, account_id: str, region: str, group: str, keys: Iterable[str]) -> None:
        with self._lock:
            found = self._group(account_id, region, group)
            for key in keys:
                found.tags.pop(key, None)

    # --- streams ---------------------------------------------------------------------------------

    def create_stream(
        self, account_id: str, region: str, group: str, stream: str, *, at_ms: int | None = None
    ) -> LogStreamInfo:
        with self._lock:
            found = self._group(account_id, region, group)
            if stream in found.streams:
                raise LogStreamExistsError(stream)
            return self._new_stream(account_id, region, found, stream, self._at(at_ms)).info()

    def delete_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        with self._lock:
            found_group = self._group(account_id, region, group)
            found = self._stream(found_group, stream)
            del found_group.streams[stream]
            found_group.stream_names.pop(bisect_left(found_group.stream_names, stream))
            found_group.stored_bytes -= found.stored_bytes

    def get_stream(self, account_id: str, region: str, group: str, stream: str) -> LogStreamInfo:
        with self._lock:
            return self._stream(self._group(account_id, region, group), stream).info()

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
        with self._lock:
            found = self._group(account_id, region, group)
            names = found.stream_names
            lo, hi = found.prefix_range(prefix)
            if beyond is not None and descending:
                hi = min(hi, bisect_left(names, beyond))
            elif beyond is not None:
                lo = max(lo, bisect_right(names, beyond))
            count = max(hi - lo, 0) if limit is None else min(max(hi - lo, 0), limit)
            chosen = names[hi - count : hi][::-1] if descending else names[lo : lo + count]
            return [found.streams[name].info() for name in chosen]

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
        with self._lock:
            found_group = self._group(account_id, region, group)
            found = self._stream(found_group, stream)
            self._append(found_group, found, events, self._at(at_ms))
            return found.info()

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
        with self._lock:
            found = self._stream(self._group(account_id, region, group), stream)
            events = found.events
            lo, hi = found.window(start_ms, end_ms)
            if after is not None:
                lo = max(lo, bisect_left(events, after))
            if before is not None:
                hi = min(hi, bisect_left(events, before))
            if hi <= lo or limit <= 0:
                return []
            if from_end:
                return events[max(lo, hi - limit) : hi]
            return events[lo : min(hi, lo + limit)]

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
        with self._lock:
            found = self._group(account_id, region, group)
            if streams is not None:
                names = [name for name in dict.fromkeys(streams) if name in found.streams]
            else:
                names = found.names_with_prefix(stream_prefix)
            slices = []
            for name in names:
                stream = found.streams[name]
                lo, hi = stream.window(start_ms, end_ms)
                if after is not None:
                    lo = max(lo, _first_after(stream, after))
                if lo < hi:
                    slices.append((stream.stream_id, name, stream.events[lo:hi]))
        # The copied slices are immutable snapshots from here on; scan them without the lock.
        merged = heapq.merge(*(_matched(sid, name, events, matches) for sid, name, events in slices))
        chosen = list(itertools.islice(merged, limit + 1))
        return FilterResult(events=chosen[:limit], has_more=len(chosen) > limit, searched_streams=names)

    def clear(self) -> None:
        with self._lock:
            self._partitions.clear()

    reset = clear

    # --- internals (callers hold the lock) -------------------------------------------------------

    def _at(self, at_ms: int | None) -> int:
        return self._now_ms() if at_ms is None else at_ms

    def _partition(self, account_id: str, region: str) -> dict[str, _Group]:
        return self._partitions.setdefault((account_id, region), {})

    def _group(self, account_id: str, region: str, group: str) -> _Group:
        found = self._partitions.get((account_id, region), {}).get(group)
        if found is None:
            raise LogGroupNotFoundError(group)
        return found

    @staticmethod
    def _stream(group: _Group, stream: str) -> _Stream:
        found = group.streams.get(stream)
        if found is None:
            raise LogStreamNotFoundError(stream)
        return found

    def _new_group(self, account_id: str, region: str, group: str, now_ms: int) -> _Group:
        created = _Group(group, group_arn(account_id, region, group), now_ms)
        self._partition(account_id, region)[group] = created
        return created

    def _new_stream(self, account_id: str, region: str, group: _Group, stream: str, now_ms: int) -> _Stream:
        created = _Stream(stream, group.stream_arn_prefix, next(self._stream_ids), now_ms)
        group.streams[stream] = created
        insort(group.stream_names, stream)
        return created

    def _ensure(
        self, account_id: str, region: str, group: str, stream: str, now_ms: int
    ) -> tuple[_Group, _Stream]:
        found_group = self._partition(account_id, region).get(group)
        if found_group is None:
            found_group = self._new_group(account_id, region, group, now_ms)
        found = found_group.streams.get(stream)
        if found is None:
            found = self._new_stream(account_id, region, found_group, stream, now_ms)
        return found_group, found

    @staticmethod
    def _append(group: _Group, stream: _Stream, events: list[tuple[int, str]], ingestion_ms: int) -> None:
        if not events:
            return
        stored = stream.events
        sequence = stream.next_sequence
        added_bytes = 0
        for timestamp_ms, message in sorted(events, key=lambda event: event[0]):
            event = StoredEvent(timestamp_ms, sequence, ingestion_ms, message)
            if not stored or timestamp_ms >= stored[-1].timestamp_ms:
                stored.append(event)
            else:  # a late event: O(n) insertion keeps the list sorted for every reader
                insort(stored, event)
            sequence += 1
            added_bytes += len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
        stream.next_sequence = sequence
        stream.last_ingestion_ms = ingestion_ms
        stream.upload_count = (stream.upload_count or 0) + 1
        stream.stored_bytes += added_bytes
        group.stored_bytes += added_bytes


def _first_after(stream: _Stream, key: GroupKey) -> int:
    """First index of the stream whose (timestamp_ms, stream_id, sequence) is greater than `key`."""
    timestamp_ms, stream_id, sequence = key
    if stream.stream_id < stream_id:
        return bisect_left(stream.events, (timestamp_ms + 1,))
    if stream.stream_id == stream_id:
        return bisect_left(stream.events, (timestamp_ms, sequence + 1))
    return bisect_left(stream.events, (timestamp_ms,))


def _matched(
    stream_id: int, name: str, events: list[StoredEvent], matches: Callable[[str], bool] | None
) -> Iterator[MatchedEvent]:
    for event in events:
        if matches is None or matches(event.message):
            yield MatchedEvent(
                event.timestamp_ms, stream_id, event.sequence, name, event.ingestion_ms, event.message
            )
