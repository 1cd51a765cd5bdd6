"""LogsProvider: the CloudWatch Logs operations job output is read through.

Enough of the Logs API for boto3 `logs` clients, `aws logs get-log-events` / `filter-log-events`
and log tailers to read what jobs wrote to `/aws/batch/job` (reference §15), plus the group,
stream, tag and retention calls infrastructure code makes around them. Methods follow the API
reference's (alphabetical) order. The store keeps names, times and messages; this module checks
what AWS checks beyond the model, mints tokens through `tokens.py` and shapes the wire dicts.

Known differences from AWS:
- PutLogEvents stores every event: no rejectedLogEventsInfo for events too old or too new.
- Retention is recorded but nothing expires; kmsKeyId and deletion protection are not enforced.
- FilterLogEvents understands term patterns only (see `patterns.py`); searchedLogStreams is always
  empty, as AWS has returned it since 2020.
- Responses are not capped at 1 MB; `limit` alone bounds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.engine.clock import Clock
from emulator.protocol.dispatch import RequestContext
from emulator.services.logs import errors, tokens
from emulator.services.logs.patterns import compile_filter_pattern
from emulator.stores.base import (
    LogGroupExistsError,
    LogGroupInfo,
    LogGroupNotFoundError,
    LogStore,
    LogStreamExistsError,
    LogStreamInfo,
    LogStreamNotFoundError,
    StoredEvent,
)

MAX_EVENTS = 10_000  # GetLogEvents / FilterLogEvents default and maximum `limit`
MAX_DESCRIBE = 50  # DescribeLogGroups / DescribeLogStreams default and maximum `limit`
MAX_TAGS = 50
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000
# PutRetentionPolicy's allowed values (API reference, `retentionInDays`).
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([^:]+)(?::\*)?")

_Group = tuple[str, str, str]  # (account_id, region, group name)


@contextmanager
def _translated_lookups() -> Iterator[None]:
    """The store's internal errors, as the Logs errors a client expects."""
    try:
        yield
    except LogGroupNotFoundError:
        raise errors.log_group_not_found() from None
    except LogStreamNotFoundError:
        raise errors.log_stream_not_found() from None
    except LogGroupExistsError:
        raise errors.log_group_exists() from None
    except LogStreamExistsError:
        raise errors.log_stream_exists() from None


class LogsProvider:
    def __init__(self, *, store: LogStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create_log_group(
        self,
        ctx: RequestContext,
        *,
        log_group_name: str,
        kms_key_id: str | None = None,
        tags: dict[str, str] | None = None,
        log_group_class: str | None = None,
        deletion_protection_enabled: bool | None = None,
    ) -> dict[str, Any]:
        with _translated_lookups():
            self.store.create_group(
                ctx.account_id,
                ctx.region,
                log_group_name,
                tags=tags,
                kms_key_id=kms_key_id,
                log_group_class=log_group_class or "STANDARD",
                at_ms=self.clock.now_ms(),
            )
        return {}

    def create_log_stream(
        self, ctx: RequestContext, *, log_group_name: str, log_stream_name: str
    ) -> dict[str, Any]:
        with _translated_lookups():
            self.store.create_stream(
                ctx.account_id, ctx.region, log_group_name, log_stream_name, at_ms=self.clock.now_ms()
            )
        return {}

    def delete_log_group(self, ctx: RequestContext, *, log_group_name: str) -> dict[str, Any]:
        with _translated_lookups():
            self.store.delete_group(ctx.account_id, ctx.region, log_group_name)
        return {}

    def delete_log_stream(
        self, ctx: RequestContext, *, log_group_name: str, log_stream_name: str
    ) -> dict[str, Any]:
        with _translated_lookups():
            self.store.delete_stream(ctx.account_id, ctx.region, log_group_name, log_stream_name)
        return {}

    def delete_retention_policy(self, ctx: RequestContext, *, log_group_name: str) -> dict[str, Any]:
        with _translated_lookups():
            self.store.set_retention(ctx.account_id, ctx.region, log_group_name, None)
        return {}

    def describe_log_groups(
        self,
        ctx: RequestContext,
        *,
        account_identifiers: list[str] | None = None,
        log_group_name_prefix: str | None = None,
        log_group_name_pattern: str | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        include_linked_accounts: bool | None = None,
        log_group_class: str | None = None,
        log_group_identifiers: list[str] | None = None,
    ) -> dict[str, Any]:
        """Groups sorted by name. `logGroupNamePattern` matches a case-insensitive substring, as
        AWS documents; linked accounts are not modelled, so only the caller's own groups appear."""
        if log_group_name_prefix is not None and log_group_name_pattern is not None:
            raise errors.invalid_parameter(
                "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters."
            )
        after = tokens.decode_page_token("groups", next_token, (str,))[0] if next_token else None
        wanted = {self._group(ctx, None, ident)[2] for ident in log_group_identifiers or ()}
        needle = (log_group_name_pattern or "").lower()
        chosen = [
            group
            for group in self.store.list_groups(ctx.account_id, ctx.region)
            if (after is None or group.name > after)
            and group.name.startswith(log_group_name_prefix or "")
            and needle in group.name.lower()
            and (not wanted or group.name in wanted)
            and (log_group_class is None or group.log_group_class == log_group_class)
        ]
        page = chosen[: limit or MAX_DESCRIBE]
        result: dict[str, Any] = {"logGroups": [_group_view(group) for group in page]}
        if len(chosen) > len(page):
            result["nextToken"] = tokens.encode_page_token("groups", (page[-1].name,))
        return result

    def describe_log_streams(
        self,
        ctx: RequestContext,
        *,
        log_group_name: str | None = None,
        log_group_identifier: str | None = None,
        log_stream_name_prefix: str | None = None,
        order_by: str | None = None,
        descending: bool | None = None,
        next_token: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Name order pages through the store's sorted index; LastEventTime order sorts the whole
        group, with streams that have no events first (they have no lastEventTimestamp)."""
        by_event_time = order_by == "LastEventTime"
        if by_event_time and log_stream_name_prefix is not None:
            raise errors.invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        account_id, region, group = self._group(ctx, log_group_name, log_group_identifier)
        page_size = limit or MAX_DESCRIBE
        with _translated_lookups():
            if by_event_time:
                after = (
                    tokens.decode_page_token("streams-by-time", next_token, (int, str))
                    if next_token
                    else None
                )
                chosen = self._streams_by_event_time(
                    account_id, region, group, after, bool(descending), page_size
                )
            else:
                beyond = (
                    tokens.decode_page_token("streams-by-name", next_token, (str,))[0] if next_token else None
                )
                chosen = self.store.list_streams(
                    account_id,
                    region,
                    group,
                    prefix=log_stream_name_prefix,
                    beyond=beyond,
                    limit=page_size + 1,
                    descending=bool(descending),
                )
        page = chosen[:page_size]
        result: dict[str, Any] = {"logStreams": [_stream_view(stream) for stream in page]}
        if len(chosen) > page_size:
            last = page[-1]
            if by_event_time:
                result["nextToken"] = tokens.encode_page_token("streams-by-time", _event_time_key(last))
            else:
                result["nextToken"] = tokens.encode_page_token("streams-by-name", (last.name,))
        return result

    def _streams_by_event_time(
        self,
        account_id: str,
        region: str,
        group: str,
        after: tuple[Any, ...] | None,
        descending: bool,
        count: int,
    ) -> list[LogStreamInfo]:
        """Up to count + 1 streams past the key `after`, so the caller knows whether more remain."""
        streams = sorted(
            self.store.list_streams(account_id, region, group), key=_event_time_key, reverse=descending
        )
        if after is not None:
            streams = [
                s
                for s in streams
                if (_event_time_key(s) < after if descending else _event_time_key(s) > after)
            ]
        return streams[: count + 1]

    def filter_log_events(
        self,
        ctx: RequestContext,
        *,
        log_group_name: str | None = None,
        log_group_identifier: str | None = None,
        log_stream_names: list[str] | None = None,
        log_stream_name_prefix: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        filter_pattern: str | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        interleaved: bool | None = None,
        unmask: bool | None = None,
        start_from_head: bool | None = None,
    ) -> dict[str, Any]:
        """Events of every chosen stream merged in time order (the only order AWS has used since
        `interleaved` was deprecated). Unlike GetLogEvents, `endTime` is inclusive here, and
        nextToken is returned only while more matching events remain, because the SDK
        paginators stop on an absent token and fail on a repeated one."""
        if log_stream_names is not None and log_stream_name_prefix is not None:
            raise errors.invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        if start_from_head is False and next_token is None:
            # Newer models let FilterLogEvents return the latest events first; not emulated yet.
            raise errors.invalid_parameter(
                "batch-emulator supports only startFromHead=true for FilterLogEvents."
            )
        account_id, region, group = self._group(ctx, log_group_name, log_group_identifier)
        after = tokens.decode_filter_token(next_token) if next_token else None
        with _translated_lookups():
            found = self.store.filter_events(
                account_id,
                region,
                group,
                streams=log_stream_names,
                stream_prefix=log_stream_name_prefix,
                start_ms=start_time,
                end_ms=None if end_time is None else end_time + 1,
                after=after,
                matches=compile_filter_pattern(filter_pattern),
                limit=limit or MAX_EVENTS,
            )
        result: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": event.stream,
                    "timestamp": event.timestamp_ms,
                    "message": event.message,
                    "ingestionTime": event.ingestion_ms,
                    "eventId": tokens.event_id(event.timestamp_ms, event.stream_id, event.sequence),
                }
                for event in found.events
            ],
            "searchedLogStreams": [],
        }
        if found.has_more:
            last = found.events[-1]
            result["nextToken"] = tokens.encode_filter_token(
                (last.timestamp_ms, last.stream_id, last.sequence)
            )
        return result

    def get_log_events(
        self,
        ctx: RequestContext,
        *,
        log_stream_name: str,
        log_group_name: str | None = None,
        log_group_identifier: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        start_from_head: bool | None = None,
        unmask: bool | None = None,
    ) -> dict[str, Any]:
        """Without a token: the first `limit` events of [startTime, endTime) with startFromHead,
        else the last `limit`. A forward token reads on after the page it came from, a backward
        token reads the `limit` events before it. A page that finds nothing hands back the token
        it was given, unchanged: that is how callers learn they have reached the end."""
        account_id, region, group = self._group(ctx, log_group_name, log_group_identifier)
        direction, gap = tokens.decode_event_token(next_token) if next_token else (None, None)
        query: dict[str, Any] = {"start_ms": start_time, "end_ms": end_time, "limit": limit or MAX_EVENTS}
        if direction == tokens.FORWARD:
            query["after"] = gap
        elif direction == tokens.BACKWARD:
            query.update(before=gap, from_end=True)
        else:
            query["from_end"] = not start_from_head
        with _translated_lookups():
            events = self.store.read_events(account_id, region, group, log_stream_name, **query)
        result: dict[str, Any] = {"events": [_event_view(event) for event in events]}
        if events:
            first, last = events[0], events[-1]
            result["nextForwardToken"] = tokens.encode_event_token(
                tokens.FORWARD, (last.timestamp_ms, last.sequence + 1)
            )
            result["nextBackwardToken"] = tokens.encode_event_token(
                tokens.BACKWARD, (first.timestamp_ms, first.sequence)
            )
            return result
        if gap is None:  # an empty window: any later event in it lies after its start
            gap = (start_time or 0, 0)
        result["nextForwardToken"] = tokens.encode_event_token(tokens.FORWARD, gap)
        result["nextBackwardToken"] = tokens.encode_event_token(tokens.BACKWARD, gap)
        return result

    def list_tags_for_resource(self, ctx: RequestContext, *, resource_arn: str) -> dict[str, Any]:
        account_id, region, group = self._group_of_arn(resource_arn)
        with _translated_lookups():
            return {"tags": self.store.get_tags(account_id, region, group)}

    def list_tags_log_group(self, ctx: RequestContext, *, log_group_name: str) -> dict[str, Any]:
        with _translated_lookups():
            return {"tags": self.store.get_tags(ctx.account_id, ctx.region, log_group_name)}

    def put_log_events(
        self,
        ctx: RequestContext,
        *,
        log_group_name: str,
        log_stream_name: str,
        log_events: list[dict[str, Any]],
        sequence_token: str | None = None,
        entity: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The sequence token is ignored, as AWS has ignored it since January 2023; the batch must be
        in chronological order and span at most 24 hours (API reference, PutLogEvents)."""
        events = [(event["timestamp"], event["message"]) for event in log_events]
        timestamps = [timestamp for timestamp, _ in events]
        if any(later < earlier for earlier, later in zip(timestamps, timestamps[1:], strict=False)):
            raise errors.invalid_parameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        if timestamps and timestamps[-1] - timestamps[0] > MAX_BATCH_SPAN_MS:
            raise errors.invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
            )
        with _translated_lookups():
            stream = self.store.append_events(
                ctx.account_id, ctx.region, log_group_name, log_stream_name, events, at_ms=self.clock.now_ms()
            )
        return {"nextSequenceToken": tokens.sequence_token(stream.stream_id, stream.upload_count or 0)}

    def put_retention_policy(
        self, ctx: RequestContext, *, log_group_name: str, retention_in_days: int
    ) -> dict[str, Any]:
        if retention_in_days not in RETENTION_DAYS:
            allowed = ", ".join(str(days) for days in RETENTION_DAYS)
            raise errors.invalid_parameter(
                f"1 validation error detected: Value '{retention_in_days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        with _translated_lookups():
            self.store.set_retention(ctx.account_id, ctx.region, log_group_name, retention_in_days)
        return {}

    def tag_log_group(
        self, ctx: RequestContext, *, log_group_name: str, tags: dict[str, str]
    ) -> dict[str, Any]:
        self._tag(ctx.account_id, ctx.region, log_group_name, tags, errors.invalid_parameter(_TOO_MANY_TAGS))
        return {}

    def tag_resource(self, ctx: RequestContext, *, resource_arn: str, tags: dict[str, str]) -> dict[str, Any]:
        account_id, region, group = self._group_of_arn(resource_arn)
        self._tag(account_id, region, group, tags, errors.too_many_tags())
        return {}

    def untag_log_group(self, ctx: RequestContext, *, log_group_name: str, tags: list[str]) -> dict[str, Any]:
        with _translated_lookups():
            self.store.untag_group(ctx.account_id, ctx.region, log_group_name, tags)
        return {}

    def untag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tag_keys: list[str]
    ) -> dict[str, Any]:
        account_id, region, group = self._group_of_arn(resource_arn)
        with _translated_lookups():
            self.store.untag_group(account_id, region, group, tag_keys)
        return {}

    # --- shared checks ---------------------------------------------------------------------------

    @staticmethod
    def _group(ctx: RequestContext, name: str | None, identifier: str | None) -> _Group:
        """(account, region, name) from logGroupName or logGroupIdentifier (a name or an ARN, with
        or without the trailing `:*`). AWS wants exactly one of the two."""
        if name is not None and identifier is not None:
            raise errors.invalid_parameter(
                "LogGroupName and LogGroupIdentifier are mutually exclusive parameters."
            )
        if name is not None:
            return ctx.account_id, ctx.region, name
        if identifier is None:
            raise errors.invalid_parameter("Either LogGroupName or LogGroupIdentifier must be specified.")
        if identifier.startswith("arn:"):
            return LogsProvider._group_of_arn(identifier)
        return ctx.account_id, ctx.region, identifier

    @staticmethod
    def _group_of_arn(arn: str) -> _Group:
        found = _GROUP_ARN.fullmatch(arn)
        if found is None:
            raise errors.invalid_parameter(f"Invalid log group ARN: {arn}")
        region, account_id, group = found.groups()
        return account_id, region, group

    def _tag(
        self, account_id: str, region: str, group: str, tags: dict[str, str], too_many: Exception
    ) -> None:
        with _translated_lookups():
            existing = self.store.get_tags(account_id, region, group)
            if len(existing.keys() | tags.keys()) > MAX_TAGS:
                raise too_many
            self.store.tag_group(account_id, region, group, tags)


_TOO_MANY_TAGS = "A log group can have no more than 50 tags."


def _event_time_key(stream: LogStreamInfo) -> tuple[int, str]:
    return (-1 if stream.last_event_ms is None else stream.last_event_ms, stream.name)


def _group_view(group: LogGroupInfo) -> dict[str, Any]:
    view: dict[str, Any] = {
        "logGroupName": group.name,
        "creationTime": group.created_at_ms,
        "metricFilterCount": 0,
        "arn": group.arn,
        "storedBytes": group.stored_bytes,
        "logGroupClass": group.log_group_class,
        "logGroupArn": group.arn.removesuffix(":*"),
    }
    if group.retention_days is not None:
        view["retentionInDays"] = group.retention_days
    if group.kms_key_id is not None:
        view["kmsKeyId"] = group.kms_key_id
    return view


def _stream_view(stream: LogStreamInfo) -> dict[str, Any]:
    view: dict[str, Any] = {"logStreamName": stream.name, "creationTime": stream.created_at_ms}
    if stream.first_event_ms is not None:
        view["firstEventTimestamp"] = stream.first_event_ms
        view["lastEventTimestamp"] = stream.last_event_ms
    if stream.last_ingestion_ms is not None:
        view["lastIngestionTime"] = stream.last_ingestion_ms
    if stream.upload_count is not None:
        view["uploadSequenceToken"] = tokens.sequence_token(stream.stream_id, stream.upload_count)
    view["arn"] = stream.arn
    view["storedBytes"] = 0  # deprecated for streams and always zero on AWS since June 2019
    return view


def _event_view(event: StoredEvent) -> dict[str, Any]:
    return {"timestamp": event.timestamp_ms, "message": event.message, "ingestionTime": event.ingestion_ms}
