"""The job list's model: filters read from the query string, one page of rows, newest first.

Filters: `queue` (name or ARN, repeatable; every queue when absent), `status` (repeatable; every
status when absent), `name` (a prefix, case-insensitive), `array` (an array job's children instead
of queues), `maxResults` and `nextToken` under ListJobs' rules (1-1000, 1-100 with a name; the same
opaque tokens). The page comes from `BatchProvider.browse_jobs`, which reads the engine's
creation-ordered indexes, so it costs the same at 100,000 stored jobs as at 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from emulator.dashboard.errors import bad_request, not_found
from emulator.engine.records import Job, JobStatus
from emulator.protocol.dispatch import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.batch.provider import BatchProvider

MAX_NAME_LENGTH = 128
DEFAULT_PAGE_SIZE = 100  # ListJobs' default


@dataclass(frozen=True)
class JobFilters:
    queues: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    name_prefix: str = ""
    array_job_id: str | None = None
    max_results: int | None = None
    next_token: str | None = None

    def query(self, **changes: Any) -> dict[str, Any]:
        """These filters as query arguments for url_for, with `changes` applied."""
        values: dict[str, Any] = {
            "queue": list(self.queues),
            "status": list(self.statuses),
            "name": self.name_prefix or None,
            "array": self.array_job_id,
            "maxResults": self.max_results,
            "nextToken": self.next_token,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, [], "")}


@dataclass(frozen=True)
class JobRow:
    job_id: str
    name: str
    status: str
    status_reason: str
    queue_name: str
    definition_arn: str
    created_at_ms: int
    started_at_ms: int | None
    stopped_at_ms: int | None
    exit_code: int | None
    array_size: int | None
    num_nodes: int | None


@dataclass(frozen=True)
class JobPage:
    filters: JobFilters
    rows: list[JobRow]
    next_token: str | None
    queue_names: list[str] = field(default_factory=list)

    @property
    def is_short(self) -> bool:
        """A name filter stopped looking before it filled the page: older jobs remain unseen."""
        return self.next_token is not None and len(self.rows) < (
            self.filters.max_results or DEFAULT_PAGE_SIZE
        )

    def fingerprint(self, now_ms: int) -> str:
        """Changes whenever the rendered rows would: what the live list compares to skip a render.
        A running job's duration grows, so a page holding one changes every second. (A hash, not a
        digest: tags need only be stable for the life of this server process.)"""
        seconds = (
            now_ms // 1000 if any(row.started_at_ms and row.stopped_at_ms is None for row in self.rows) else 0
        )
        return f"{hash((tuple(self.rows), self.next_token, seconds)) & 0xFFFFFFFFFFFFFFFF:016x}"


def parse_filters(args: MultiDict) -> JobFilters:
    statuses = tuple(value for value in args.getlist("status") if value)
    known = {status.value for status in JobStatus}
    for status in statuses:
        if status not in known:
            raise bad_request(f"Unknown job status {status!r}; use one of {', '.join(sorted(known))}.")
    name = args.get("name", "").strip()
    if len(name) > MAX_NAME_LENGTH:
        raise bad_request(f"A name prefix is at most {MAX_NAME_LENGTH} characters.")
    return JobFilters(
        queues=tuple(value for value in args.getlist("queue") if value),
        statuses=statuses,
        name_prefix=name,
        array_job_id=args.get("array") or None,
        max_results=_max_results(args.get("maxResults")),
        next_token=args.get("nextToken") or None,
    )


def _max_results(given: str | None) -> int | None:
    if given in (None, ""):
        return None
    try:
        return int(given)
    except ValueError:
        raise bad_request(f"maxResults must be a whole number, got {given!r}.") from None


def build_job_page(
    batch: BatchProvider, ctx: RequestContext, filters: JobFilters, *, with_queue_names: bool = True
) -> JobPage:
    try:
        jobs, token = batch.browse_jobs(
            ctx,
            job_queues=filters.queues or None,
            array_job_id=filters.array_job_id,
            statuses=filters.statuses or None,
            name_prefix=filters.name_prefix or None,
            max_results=filters.max_results,
            next_token=filters.next_token,
        )
    except ServiceError as error:  # the ListJobs rules: unknown queue, maxResults, token
        raise (not_found if error.message.endswith("not found.") else bad_request)(error.message) from None
    queue_names = (
        [queue["jobQueueName"] for queue in batch.describe_job_queues(ctx)["jobQueues"]]
        if with_queue_names
        else []
    )
    return JobPage(filters, [job_row(job) for job in jobs], token, queue_names)


def job_row(job: Job) -> JobRow:
    attempt = job.current_attempt or (job.attempts[-1] if job.attempts else None)
    return JobRow(
        job_id=job.job_id,
        name=job.name,
        status=job.status.value,
        status_reason=job.status_reason or "",
        queue_name=job.queue_name,
        definition_arn=job.definition_arn,
        created_at_ms=job.created_at_ms,
        started_at_ms=job.started_at_ms,
        stopped_at_ms=job.stopped_at_ms,
        exit_code=attempt.exit_code if attempt is not None and job.status.is_terminal else None,
        array_size=job.array_size if job.is_array_parent else None,
        num_nodes=job.multinode.num_nodes if job.is_multinode_parent else None,
    )


def status_links(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """(status, count) in lifecycle order, for the per-status links of a queue or an array."""
    return [(status.value, counts.get(status.value, 0)) for status in JobStatus]
