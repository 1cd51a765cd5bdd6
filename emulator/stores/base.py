"""Store protocols. Memory and SQLite implement the same contract.

`LogStore` holds CloudWatch Logs data per account and region. Executors only call
`ensure_stream` and `put_events`; the Logs service uses the rest. The store knows nothing of the
wire: it keeps names, epoch milliseconds and messages, orders events, and answers range queries.
Tokens, filter patterns and AWS error wording belong to `services/logs/`.

Events are ordered by `(timestamp_ms, sequence)`, where `sequence` numbers the events of one stream
in the order they were stored. That key is unique within a stream, so a position between two
events (a "gap", written as the key of the first event after it) stays meaningful while events
are appended or inserted out of order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class LogGroupNotFoundError(LookupError):
    """The named log group does not exist in this account and region."""


class LogStreamNotFoundError(LookupError):
    """The named log stream does not exist in its log group."""


class LogGroupExistsError(ValueError):
    """A log group of that name already exists in this account and region."""


class LogStreamExistsError(ValueError):
    """A log stream of that name already exists in its log group."""


class StoredEvent(NamedTuple):
    """One event as stored: a plain tuple, compared as `(timestamp_ms, sequence, ...)`."""

    timestamp_ms: int
    sequence: int
    ingestion_ms: int
    message: str


class MatchedEvent(NamedTuple):
    """An event found by `filter_events`, ordered across streams by `(timestamp_ms, stream_id, sequence)`."""

    timestamp_ms: int
    stream_id: int
    sequence: int
    stream: str
    ingestion_ms: int
    message: str


# Position between events of one stream: events with (timestamp_ms, sequence) >= gap lie after it.
StreamGap = tuple[int, int]
# Position in a group-wide, cross-stream order: events with a key > this lie after it.
GroupKey = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class LogGroupInfo:
    name: str
    arn: str  # the ARN DescribeLogGroups calls `arn`: ends with `:*`
    created_at_ms: int
    stored_bytes: int
    retention_days: int | None
    kms_key_id: str | None
    log_group_class: str


@dataclass(frozen=True, slots=True)
class LogStreamInfo:
    name: str
    arn: str
    created_at_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    # Counts the batches stored; None until the first one (AWS omits the token on an empty stream).
    upload_count: int | None
    stream_id: int


@dataclass(frozen=True, slots=True)
class FilterResult:
    events: list[MatchedEvent]
    has_more: bool  # more matching events lie after the last one returned
    searched_streams: list[str]


class LogStore(Protocol):
    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        """Create the group and stream if they do not exist (what the awslogs driver does)."""
        ...

    def put_events(
        self, account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        """Append (timestamp_ms, message) events; creates the group and stream when missing."""
        ...

    # --- groups -------------------------------------------------------------------------------

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
        """Raises LogGroupExistsError."""
        ...

    def delete_group(self, account_id: str, region: str, group: str) -> None:
        """Drops the group with its streams and events. Raises LogGroupNotFoundError."""
        ...

    def get_group(self, account_id: str, region: str, group: str) -> LogGroupInfo:
        """Raises LogGroupNotFoundError."""
        ...

    def list_groups(self, account_id: str, region: str) -> list[LogGroupInfo]:
        """Every group of the account and region, sorted by name."""
        ...

    def set_retention(self, account_id: str, region: str, group: str, days: int | None) -> None:
        """Record (or, with None, remove) a retention period; events are not expired."""
        ...

    def get_tags(self, account_id: str, region: str, group: str) -> dict[str, str]: ...

    def tag_group(self, account_id: str, region: str, group: str, tags: Mapping[str, str]) -> None: ...

    def untag_group(self, account_id: str, region: str, group: str, keys: Iterable[str]) -> None: ...

    # --- streams ------------------------------------------------------------------------------

    def create_stream(
        self, account_id: str, region: str, group: str, stream: str, *, at_ms: int | None = None
    ) -> LogStreamInfo:
        """Raises LogGroupNotFoundError, LogStreamExistsError."""
        ...

    def delete_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        """Raises LogGroupNotFoundError, LogStreamNotFoundError."""
        ...

    def get_stream(self, account_id: str, region: str, group: str, stream: str) -> LogStreamInfo:
        """Raises LogGroupNotFoundError, LogStreamNotFoundError."""
        ...

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
        """Streams of the group whose name starts with `prefix`, sorted by name (reversed with
        `descending`), only those past the name `beyond` in that order, at most `limit` of them.
        Raises LogGroupNotFoundError."""
        ...

    # --- events -------------------------------------------------------------------------------

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
        """Store (timestamp_ms, message) events in an existing stream, ingested at `at_ms`.
        Raises LogGroupNotFoundError, LogStreamNotFoundError."""
        ...

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
        """Events with start_ms <= timestamp < end_ms, at or after the gap `after` and before the
        gap `before`, in ascending order: the first `limit` of them, or the last with `from_end`.
        Raises LogGroupNotFoundError, LogStreamNotFoundError."""
        ...

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
        """The first `limit` events of the chosen streams (all, the named ones, or those with the
        prefix) with start_ms <= timestamp < end_ms, ordered across streams, after the key `after`,
        whose message `matches`. Raises LogGroupNotFoundError."""
        ...

    def clear(self) -> None:
        """Drop every group, stream and event of every account and region."""
        ...
