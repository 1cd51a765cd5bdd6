"""EventBridge-shaped "Batch Job State Change" events (reference §22), kept for tests and, when
configured, POSTed to a webhook.

The engine tells its listeners every status a job enters (`Engine.add_listener`), in order, with
the record as it was right after the change. `JobEventPublisher.on_status` turns that into an
event whose `detail` is the JobDetail DescribeJobs would have shown at that moment, appends it to a
bounded in-memory buffer (the `/_emulator/events` test control reads it) and hands it to the
webhook, if any. Rendering here keeps the engine free of wire shapes.

Rendering is deferred: a status change is kept as a `PendingEvent` (the immutable job record, the
status, the event id, and what the JobDetail reads besides the record, captured at the change)
and rendered when the buffer is read or on the webhook's delivery thread. An engine pass that
moves 10,000 array children pays for neither a JobDetail nor a copy of the compute environment
per change, and the buffer holds records the engine keeps anyway instead of rendered dicts.

Choices:
- No event for SUBMITTED: AWS sends none for the initial submission (§22). Every later status,
  array parents' and children's included, gives one event; a retried job passes through RUNNABLE
  again (§12.5) and so emits RUNNABLE, STARTING, RUNNING again.
- `time` is the clock time of the status change, ISO-8601 UTC to the second, as on AWS.
- Webhook delivery runs on its own thread behind a bounded queue: a slow or failing endpoint never
  delays the engine. When the queue is full the newest event is dropped and logged; a failed POST
  is logged and not retried (AWS's events are best effort too).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from emulator.engine.records import Job, JobStatus

log = logging.getLogger(__name__)

JOB_STATE_CHANGE = "Batch Job State Change"
SOURCE = "aws.batch"
SILENT_STATUSES = frozenset({JobStatus.SUBMITTED})
BUFFER_SIZE = 10_000
WEBHOOK_QUEUE_SIZE = 1_000
WEBHOOK_TIMEOUT_SECONDS = 5.0


def iso_time(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_changed_at_ms(job: Job, status: JobStatus) -> int:
    """When `job` entered `status` (its latest entry into it)."""
    for entered, at_ms in reversed(job.transitions):
        if entered is status:
            return at_ms
    return job.created_at_ms


def job_state_change_event(
    job: Job, status: JobStatus, detail: Mapping[str, Any], event_id: str
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": JOB_STATE_CHANGE,
        "source": SOURCE,
        "account": job.account_id,
        "time": iso_time(status_changed_at_ms(job, status)),
        "region": job.region,
        "resources": [job.arn],
        "detail": dict(detail),
    }


class PendingEvent:
    """One status change, rendered to its event when read (`render`). `detail` renders the job's
    JobDetail as it was at the change; the record is immutable, so every rendering is the same."""

    __slots__ = ("job", "status", "event_id", "detail")

    def __init__(self, job: Job, status: JobStatus, event_id: str, detail: Callable[[], Mapping[str, Any]]):
        self.job = job
        self.status = status
        self.event_id = event_id
        self.detail = detail

    def render(self) -> dict[str, Any]:
        return job_state_change_event(self.job, self.status, self.detail(), self.event_id)


Event = dict[str, Any] | PendingEvent


class EventBuffer:
    """The latest events, oldest first, for tests to read; thread-safe. Holds rendered events or
    `PendingEvent`s, which are rendered when read."""

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
            if isinstance(event, PendingEvent):  # filtered before rendering: its detail is its job's
                if (job_id is None or event.job.job_id == job_id) and detail_type in (None, JOB_STATE_CHANGE):
                    rendered.append(event.render())
            elif (job_id is None or event["detail"].get("jobId") == job_id) and (
                detail_type is None or event["detail-type"] == detail_type
            ):
                rendered.append(event)
        return rendered

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class WebhookDelivery:
    """POSTs each event as JSON to `url` from one daemon thread, in order."""

    def __init__(self, url: str, *, queue_size: int = WEBHOOK_QUEUE_SIZE) -> None:
        self.url = url
        self._queue: queue.Queue[Event | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="batch-event-webhook", daemon=True)
            self._thread.start()

    def send(self, event: Event) -> None:
        """Queue the event; a `PendingEvent` is rendered on the delivery thread."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            event_id, arn = (
                (event.event_id, event.job.arn)
                if isinstance(event, PendingEvent)
                else (event["id"], event["resources"][0])
            )
            log.warning("event webhook queue full; dropping event %s for %s", event_id, arn)

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Deliver what is queued (within the timeout), then stop the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout_seconds)
        except queue.Full:
            log.warning("event webhook queue still full at shutdown; undelivered events are lost")
            return
        thread.join(timeout=timeout_seconds)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            if isinstance(event, PendingEvent):
                try:
                    event = event.render()
                except Exception:  # a rendering bug must not end delivery for every later event
                    log.exception("job %s: could not render event %s", event.job.job_id, event.event_id)
                    continue
            self._post(event)

    def _post(self, event: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(event).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            log.warning("event webhook %s refused event %s: %s", self.url, event["id"], error)


class JobEventPublisher:
    """An engine listener: keeps each status change as a `PendingEvent` for the buffer and the
    webhook, which render it later.

    `render_detail(job)` renders a JobDetail. If it also offers `capture(job)`, returning a
    zero-argument renderer holding what the rendering reads besides the record (the Batch
    provider's renderer captures the job's tags and its attempts' cluster names), that is called
    at the change; otherwise `render_detail` must read nothing but the record, and is called when
    the event is read."""

    def __init__(
        self,
        *,
        render_detail: Callable[[Job], dict[str, Any]],
        buffer: EventBuffer,
        webhook: WebhookDelivery | None = None,
        new_event_id: Callable[[], str] | None = None,
    ) -> None:
        self._render_detail = render_detail
        self._capture: Callable[[Job], Callable[[], Mapping[str, Any]]] | None = getattr(
            render_detail, "capture", None
        )
        self.buffer = buffer
        self.webhook = webhook
        self._new_event_id = new_event_id or (lambda: str(uuid.uuid4()))

    def on_status(self, job: Job, status: JobStatus) -> None:
        if status in SILENT_STATUSES:
            return
        detail = self._capture(job) if self._capture is not None else partial(self._render_detail, job)
        event = PendingEvent(job, status, self._new_event_id(), detail)
        self.buffer.append(event)
        if self.webhook is not None:
            self.webhook.send(event)

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()
