"""EventBridge-shaped Batch events (reference §22), kept for tests, put on the account's default
EventBridge bus and, when configured, POSTed to a webhook:

| detail-type                     | resources                | detail                                     |
|---------------------------------|--------------------------|--------------------------------------------|
| Batch Job State Change          | [jobArn]                 | JobDetail at the change                    |
| Batch Job Queue Blocked         | [jobArn, jobQueueArn]    | JobDetail of the blocked RUNNABLE head     |
| Batch Service Job State Change  | [serviceJobArn]          | DescribeServiceJob output at the change,   |
| Batch Service Job Queue Blocked | [serviceJobArn]          |   without tags and serviceRequestPayload   |

The engines tell their listeners every status a job enters (`Engine.add_listener`,
`ServiceJobEngine.add_listener`), in order, with the record as it was right after the change, and
when a RUNNABLE job gets a blocked status reason (`add_blocked_listener`, once per reason). The
publishers here turn that into events, append them to one bounded in-memory buffer (the
`/_emulator/events` test control reads it) and hand them to each delivery (event_delivery.py: the
event bus, the webhook). Rendering here keeps the engines free of wire shapes: they say what
happened, the Batch service renders it.

Rendering is deferred: a change is kept as a `PendingEvent` (detail-type, job id, event id, time,
resources, and a zero-argument renderer of the detail holding the immutable record and what the
detail reads besides it, captured at the change) and rendered when the buffer is read or on a
delivery's thread. An engine pass that moves 10,000 array children pays for neither a JobDetail
nor a copy of the compute environment per change, and the buffer holds records the engine keeps
anyway instead of rendered dicts.

Choices:
- No event for SUBMITTED, for jobs and service jobs alike: AWS sends none for the initial
  submission (§22). Every later status, array parents' and children's included, gives one event; a
  retried job passes through RUNNABLE again (§12.5) and so emits RUNNABLE, STARTING, RUNNING again.
- A queue-blocked event comes when the job's statusReason becomes a blocked reason (§16.5, §21) or
  changes to another one; a pass that finds the job still blocked for the same reason sends
  nothing. A job that is unblocked and later blocked again (a service job falling back from
  SCHEDULED for insufficient capacity twice, say) gets a new event each time. A service job that
  falls back from SCHEDULED gives its RUNNABLE state-change event, then the blocked event.
- `time` is the clock time of the change, ISO-8601 UTC to the second, as on AWS; `account` and
  `region` are those of the job's ARN.
- Each delivery runs on its own thread behind a bounded queue: a slow or failing endpoint never
  delays the engine. When the queue is full the newest event is dropped and logged; a failed
  delivery is logged and not retried (AWS's events are best effort too).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from emulator.engine.ids import new_request_id
from emulator.engine.records import Job, JobStatus
from emulator.engine.service_records import ServiceJob, ServiceJobStatus

log = logging.getLogger(__name__)

JOB_STATE_CHANGE = "Batch Job State Change"
JOB_QUEUE_BLOCKED = "Batch Job Queue Blocked"
SERVICE_JOB_STATE_CHANGE = "Batch Service Job State Change"
SERVICE_JOB_QUEUE_BLOCKED = "Batch Service Job Queue Blocked"
DETAIL_TYPES = (JOB_STATE_CHANGE, JOB_QUEUE_BLOCKED, SERVICE_JOB_STATE_CHANGE, SERVICE_JOB_QUEUE_BLOCKED)
SOURCE = "aws.batch"
SILENT_STATUSES = frozenset({JobStatus.SUBMITTED})
SILENT_SERVICE_STATUSES = frozenset({ServiceJobStatus.SUBMITTED})
BUFFER_SIZE = 10_000

Detail = Callable[[], Mapping[str, Any]]


def iso_time(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_changed_at_ms(job: Job | ServiceJob, status: JobStatus | ServiceJobStatus) -> int:
    """When `job` entered `status` (its latest entry into it)."""
    for entered, at_ms in reversed(job.transitions):
        if entered is status:
            return at_ms
    return job.created_at_ms


def envelope(
    detail_type: str, event_id: str, at_ms: int, resources: Sequence[str], detail: Mapping[str, Any]
) -> dict[str, Any]:
    """An EventBridge event from aws.batch; account and region are those of the first resource's
    ARN (`arn:<partition>:batch:<region>:<account>:...`)."""
    arn = resources[0].split(":", 5)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": SOURCE,
        "account": arn[4],
        "time": iso_time(at_ms),
        "region": arn[3],
        "resources": list(resources),
        "detail": dict(detail),
    }


def job_state_change_event(
    job: Job, status: JobStatus, detail: Mapping[str, Any], event_id: str
) -> dict[str, Any]:
    return envelope(JOB_STATE_CHANGE, event_id, status_changed_at_ms(job, status), (job.arn,), detail)


class PendingEvent:
    """One event, rendered when read (`render`). `detail` renders its detail as the job was at the
    change; the record is immutable, so every rendering is the same."""

    __slots__ = ("detail_type", "job_id", "event_id", "at_ms", "resources", "detail")

    def __init__(
        self,
        detail_type: str,
        job_id: str,
        event_id: str,
        at_ms: int,
        resources: tuple[str, ...],
        detail: Detail,
    ) -> None:
        self.detail_type = detail_type
        self.job_id = job_id
        self.event_id = event_id
        self.at_ms = at_ms
        self.resources = resources
        self.detail = detail

    def render(self) -> dict[str, Any]:
        return envelope(self.detail_type, self.event_id, self.at_ms, self.resources, self.detail())


Event = dict[str, Any] | PendingEvent


class EventBuffer:
    """The latest events, oldest first, for tests to read; thread-safe. Holds rendered events or
    `PendingEvent`s, which are rendered when read. `job_id` filters on the detail's `jobId` (a
    job's or a service job's)."""

    def __init__(self, size: int = BUFFER_SIZE) -> None:
        self._events: deque[Event] = deque(maxlen=size)
        self._lock = threading.Lock()

    def append(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def events(self, *, job_id: str | None = None, detail_type: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = list(self._events)
        rendered = []
        for event in found:
            if isinstance(event, PendingEvent):  # filtered before rendering
                if (job_id is None or event.job_id == job_id) and detail_type in (None, event.detail_type):
                    rendered.append(event.render())
            elif (job_id is None or event["detail"].get("jobId") == job_id) and (
                detail_type is None or event["detail-type"] == detail_type
            ):
                rendered.append(event)
        return rendered

    def newest(
        self,
        *,
        job_id: str | None = None,
        detail_type: str | None = None,
        arn_prefix: str = "",
        skip: int = 0,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first: the `limit` matching events after the first `skip`, and whether older
        ones match too. Filtered before rendering, and only the page is rendered, so a page of a
        full buffer costs a scan of its 10,000 entries and `limit` renderings. `arn_prefix`
        keeps the events whose first resource is one account's and region's."""
        with self._lock:
            found = list(self._events)
        page: list[Event] = []
        matched = 0
        for event in reversed(found):
            if not _matches(event, job_id, detail_type, arn_prefix):
                continue
            matched += 1
            if matched > skip + limit:
                break
            if matched > skip:
                page.append(event)
        rendered = [event.render() if isinstance(event, PendingEvent) else event for event in page]
        return rendered, matched > skip + limit

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


def _matches(event: Event, job_id: str | None, detail_type: str | None, arn_prefix: str) -> bool:
    if isinstance(event, PendingEvent):
        event_job_id, event_type, first_resource = event.job_id, event.detail_type, event.resources[0]
    else:
        event_job_id, event_type = event["detail"].get("jobId"), event["detail-type"]
        first_resource = event["resources"][0]
    return (
        (job_id is None or event_job_id == job_id)
        and (detail_type is None or event_type == detail_type)
        and first_resource.startswith(arn_prefix)
    )


class EventSink(Protocol):
    """Where published events go besides the buffer (event_delivery.py). `send` is called on the
    engine's thread and must not block it."""

    def send(self, event: Event) -> None: ...

    def close(self) -> None: ...


RecordT = TypeVar("RecordT", Job, ServiceJob)


class _Publisher(Generic[RecordT]):
    """Appends each event to the buffer and hands it to each delivery."""

    def __init__(
        self,
        *,
        render_detail: Callable[[RecordT], dict[str, Any]],
        buffer: EventBuffer,
        deliveries: Sequence[EventSink] = (),
        new_event_id: Callable[[], str] | None = None,
    ) -> None:
        self.buffer = buffer
        self.deliveries = tuple(deliveries)
        self._render_detail = render_detail
        self._new_event_id = new_event_id or new_request_id  # a UUID, like EventBridge's ids

    def _publish(
        self, detail_type: str, job_id: str, at_ms: int, resources: tuple[str, ...], detail: Detail
    ) -> None:
        event = PendingEvent(detail_type, job_id, self._new_event_id(), at_ms, resources, detail)
        self.buffer.append(event)
        for delivery in self.deliveries:
            delivery.send(event)

    def close(self) -> None:
        """Stop the deliveries' threads (publishers sharing them may each call this)."""
        for delivery in self.deliveries:
            delivery.close()


class JobEventPublisher(_Publisher[Job]):
    """Listens to the container-job engine: "Batch Job State Change" for each status a job enters
    (`on_status`), "Batch Job Queue Blocked" when a queue's head gets a blocked reason
    (`on_blocked`), both kept as `PendingEvent`s for the buffer and the deliveries.

    `render_detail(job)` renders a JobDetail. If it also offers `capture(job)`, returning a
    zero-argument renderer holding what the rendering reads besides the record (the Batch
    provider's renderer captures the job's tags and its attempts' cluster names), that is called
    at the change; otherwise `render_detail` must read nothing but the record, and is called when
    the event is read."""

    def on_status(self, job: Job, status: JobStatus) -> None:
        if status in SILENT_STATUSES:
            return
        at_ms = status_changed_at_ms(job, status)
        self._publish(JOB_STATE_CHANGE, job.job_id, at_ms, (job.arn,), self._detail(job))

    def on_blocked(self, job: Job, at_ms: int) -> None:
        self._publish(JOB_QUEUE_BLOCKED, job.job_id, at_ms, (job.arn, job.queue_arn), self._detail(job))

    def _detail(self, job: Job) -> Detail:
        capture: Callable[[Job], Detail] | None = getattr(self._render_detail, "capture", None)
        return capture(job) if capture is not None else partial(self._render_detail, job)


class ServiceJobEventPublisher(_Publisher[ServiceJob]):
    """Listens to the service-job engine: "Batch Service Job State Change" for each status a
    service job enters after SUBMITTED (`on_status`), "Batch Service Job Queue Blocked" when a
    RUNNABLE one gets a blocked reason (`on_blocked`). `render_detail(job)` must read nothing but
    the record (the event detail has no tags): it is called when the event is read."""

    def on_status(self, job: ServiceJob, status: ServiceJobStatus) -> None:
        if status in SILENT_SERVICE_STATUSES:
            return
        at_ms = status_changed_at_ms(job, status)
        arn = job.submission.job_arn
        self._publish(SERVICE_JOB_STATE_CHANGE, job.job_id, at_ms, (arn,), partial(self._render_detail, job))

    def on_blocked(self, job: ServiceJob, at_ms: int) -> None:
        arn = job.submission.job_arn
        self._publish(SERVICE_JOB_QUEUE_BLOCKED, job.job_id, at_ms, (arn,), partial(self._render_detail, job))
