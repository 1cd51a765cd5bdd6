"""Read-only questions the Batch API has no operation for, asked by the emulator's dashboard.

The console-like views need a few things DescribeJobs and ListJobs do not give: how many jobs a
queue holds per status, what the placed attempts hold per compute environment, a job's status
history, the jobs that depend on it, an array's children's statuses in index order, and a job list
across statuses and queues at once. Each answer comes from the engine's own records and indexes,
scoped to the caller's account and region as the API is, so the dashboard never keeps a second
copy of the state. Nothing here changes a job; cancelling and terminating go through CancelJob and
TerminateJob like any client's call.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.engine.engine import PlacedUsage
from emulator.engine.records import Job, JobStatus
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch.queues import resolve_queue
from emulator.services.batch.submission import client_error
from emulator.services.batch.tokens import decode_token, encode_token

# ListJobs' page limits (reference §8): 1,000 without a filter, 100 with one (a name prefix here).
PAGE_LIMIT, FILTERED_PAGE_LIMIT, DEFAULT_PAGE_SIZE = 1000, 100, 100
SCAN_CHUNK = 500  # jobs looked up per hold of the engine's lock when a name filter tests them
SCAN_BUDGET = 20_000  # jobs a name filter looks at for one page, over every index it reads
TOKEN_OPERATION = "ListJobs"  # the same tokens as ListJobs: (-createdAt, jobId) of the last job shown


class ObservationQueries:
    """Mixed into BatchProvider, which supplies `store`, `engine` and `clock`."""

    def job_record(self, ctx: RequestContext, job_id: str) -> Job | None:
        """The caller's job `job_id` (an array child `<id>:<n>`, a node `<id>#<n>`), or None."""
        job = self.engine.get_job(job_id)
        return job if job is not None and _is_visible(job, ctx) else None

    def job_dependents(self, ctx: RequestContext, job_id: str) -> list[Job]:
        """The jobs that named `job_id` in their dependsOn: the other direction of the link."""
        return [job for job in self.engine.dependents_of(job_id) if _is_visible(job, ctx)]

    def multinode_nodes(self, ctx: RequestContext, job_id: str) -> list[Job]:
        """A multi-node parallel job's node jobs, by node index ([] before it is first placed)."""
        if self.job_record(ctx, job_id) is None:
            return []
        nodes = self.engine.list_jobs(multi_node_job_id=job_id)
        return sorted(nodes, key=lambda node: node.multinode.node_index)

    def array_child_statuses(self, ctx: RequestContext, job_id: str) -> list[JobStatus] | None:
        """Each child's status in index order; None for a job that is not the caller's array."""
        if self.job_record(ctx, job_id) is None:
            return None
        return self.engine.child_statuses(job_id)

    def queue_job_counts(self, queue_arn: str) -> dict[str, int]:
        """Top-level jobs of the queue per status, all seven statuses."""
        return {status.value: count for status, count in self.engine.count_jobs(queue_arn).items()}

    def placed_usage(self) -> dict[str, PlacedUsage]:
        """Compute environment ARN -> what its placed attempts hold now."""
        return self.engine.placed_usage()

    def share_usage(self, queue_arn: str) -> dict[str, float]:
        """Share identifier -> vCPUs of fair-share usage in the queue (held plus decayed history)."""
        return self.engine.share_usage(queue_arn)

    def host_gpus(self) -> int:
        """GPUs this host offers to jobs (--gpus), the most the compute environments can hold."""
        return self.engine.host_gpus

    def cluster_name(self, compute_environment_arn: str) -> str:
        """The ECS cluster name of a compute environment, as its jobs' task ARNs show it."""
        return self._cluster_name(compute_environment_arn)

    def browse_jobs(
        self,
        ctx: RequestContext,
        *,
        job_queues: Sequence[str] | None = None,
        array_job_id: str | None = None,
        statuses: Sequence[str] | None = None,
        name_prefix: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """One page of jobs, newest first then by id (ListJobs' order and tokens), over any set of
        statuses and of queues (every queue of the caller when none is named) or an array's
        children, optionally only those whose name starts with `name_prefix` (case-insensitive).

        Each (queue, status) index is read from the page's start, so a page costs O(log n + page)
        per index however many jobs are held, as a ListJobs page does. A name filter looks at no
        more than SCAN_BUDGET jobs for one page: when few match, the page may come back short, or
        empty, with a token that goes on from the last job looked at."""
        limit = _page_size(max_results, has_filter=bool(name_prefix))
        after = _token_key(next_token) if next_token else None
        where = _name_starts_with(name_prefix) if name_prefix else None
        sources = self._browse_sources(ctx, job_queues, array_job_id)
        chosen = _statuses(statuses)
        scans: list[_Scan] = []
        indexes = [(source, status) for source in sources for status in chosen]
        remaining = SCAN_BUDGET
        for position, (source, status) in enumerate(indexes):  # what an index leaves, the next ones get
            share = max(SCAN_CHUNK, remaining // (len(indexes) - position))
            scans.append(self._scan(status, source, after, where, limit + 1, share))
            remaining -= scans[-1].looked_at
        frontier = min((scan.frontier for scan in scans if scan.frontier is not None), default=None)
        merged = [
            job
            for job in heapq.merge(*(scan.found for scan in scans), key=_listing_key)
            if frontier is None or _listing_key(job) <= frontier
        ]
        if len(merged) > limit:
            last = merged[limit - 1]
            return merged[:limit], encode_token(TOKEN_OPERATION, [-last.created_at_ms, last.job_id])
        return merged, encode_token(TOKEN_OPERATION, list(frontier)) if frontier is not None else None

    def _scan(
        self,
        status: JobStatus,
        source: dict[str, str],
        after: tuple[int, str] | None,
        where: Callable[[Job], bool] | None,
        wanted: int,
        budget: int,
    ) -> _Scan:
        """One index's first `wanted` jobs after `after` that `where` accepts, looking at no more
        than `budget`, read in chunks so that the engine's lock is held only for each chunk's
        lookups and never while a filter tests them."""
        found: list[Job] = []
        looked_at = 0
        chunk = wanted if where is None else SCAN_CHUNK
        while True:
            page = self.engine.page_jobs(status, **source, after=after, limit=chunk)
            looked_at += len(page)
            found += page if where is None else [job for job in page if where(job)]
            if len(page) < chunk:
                return _Scan(found, None, looked_at)  # the index is exhausted: nothing older to look at
            after = (page[-1].created_at_ms, page[-1].job_id)
            if len(found) >= wanted or looked_at >= budget:
                return _Scan(found, _listing_key(page[-1]), looked_at)

    def _browse_sources(
        self, ctx: RequestContext, job_queues: Sequence[str] | None, array_job_id: str | None
    ) -> list[dict[str, str]]:
        if array_job_id is not None:
            parent = self.job_record(ctx, array_job_id)
            return [{"array_job_id": array_job_id}] if parent is not None and parent.is_array_parent else []
        if not job_queues:
            queues = self.describe_job_queues(ctx)["jobQueues"]
            return [
                {"queue_arn": queue["jobQueueArn"]} for queue in queues if "computeEnvironmentOrder" in queue
            ]
        sources = []
        for given in job_queues:
            queue = resolve_queue(self.store, ctx, given)
            if queue is None:
                raise client_error(f"JobQueue {given} not found.")
            sources.append({"queue_arn": queue["jobQueueArn"]})
        return sources

    describe_job_queues: Callable[..., dict[str, Any]]  # from JobQueueOperations
    _cluster_name: Callable[[str], str]  # from JobOperations


@dataclass(frozen=True, slots=True)
class _Scan:
    """What one index gave a page: the jobs found, in listing order, and the key of the last job
    looked at, after which it was not read (None when it was read to its end)."""

    found: list[Job]
    frontier: tuple[int, str] | None
    looked_at: int


def _is_visible(job: Job, ctx: RequestContext) -> bool:
    return job.account_id == ctx.account_id and job.region == ctx.region


def _listing_key(job: Job) -> tuple[int, str]:
    return -job.created_at_ms, job.job_id


def _page_size(max_results: int | None, *, has_filter: bool) -> int:
    limit = FILTERED_PAGE_LIMIT if has_filter else PAGE_LIMIT
    if max_results is None:
        return min(DEFAULT_PAGE_SIZE, limit)
    if not 1 <= max_results <= limit:
        raise client_error(f"maxResults must be between 1 and {limit}.")
    return max_results


def _statuses(given: Sequence[str] | None) -> list[JobStatus]:
    if not given:
        return list(JobStatus)
    known = {status.value: status for status in JobStatus}
    unknown = [value for value in given if value not in known]
    if unknown:
        raise client_error(f"Unknown job status {unknown[0]}; use one of {', '.join(known)}.")
    return [known[value] for value in dict.fromkeys(given)]


def _token_key(next_token: str) -> tuple[int, str]:
    """The ListJobs key after which the page starts, as page_jobs takes it: (createdAt, jobId)."""
    after = decode_token(TOKEN_OPERATION, next_token)
    if not (isinstance(after, list) and len(after) == 2 and type(after[0]) is int and type(after[1]) is str):
        raise client_error("Invalid nextToken", wrapped=True)
    return -after[0], after[1]


def _name_starts_with(prefix: str) -> Callable[[Job], bool]:
    wanted = prefix.removesuffix("*").lower()

    def matches(job: Job) -> bool:
        return job.name.lower().startswith(wanted)

    return matches
