"""Where Batch events go besides the buffer (events.py): the account's default EventBridge bus,
and a webhook when one is configured.

Each delivery owns one daemon thread behind a bounded queue, so the engine's thread only queues:
rendering a `PendingEvent` (a JobDetail) and handing it on happen on the delivery's thread, and a
slow or failing destination never delays a pass. When a queue is full the newest event is
dropped and logged; a failed delivery is logged and not retried (AWS's events are best effort).

The bus is an `EventBus` port (emulator/account/event_bus.py puts the events into moto's
EventBridge, whose rules deliver them to their targets). A bus with no rule in the event's
account and region would drop the event anyway, so such events are not even queued or rendered:
an engine pass that moves 10,000 array children costs nothing when nobody listens.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from emulator.services.batch.events import Event, PendingEvent

log = logging.getLogger(__name__)

WEBHOOK_QUEUE_SIZE = 1_000
WEBHOOK_TIMEOUT_SECONDS = 5.0
# The bus must keep up with what an engine pass can emit at once (an array job's children).
EVENT_BUS_QUEUE_SIZE = 10_000


class EventDelivery:
    """Hands each event, rendered, to `deliver` from one daemon thread, in order."""

    description = "event delivery"

    def __init__(self, *, queue_size: int) -> None:
        self._queue: queue.Queue[Event | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            name = "batch-events-" + self.description.replace(" ", "-")
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def wants(self, event: Event) -> bool:
        """Whether the event is worth queueing at all; asked on the engine's thread."""
        return True

    def send(self, event: Event) -> None:
        """Queue the event; a `PendingEvent` is rendered on the delivery thread."""
        if not self.wants(event):
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning(
                "%s queue full; dropping event %s for %s",
                self.description,
                _event_id(event),
                first_resource(event),
            )

    def close(self, timeout_seconds: float = 5.0) -> None:
        """Deliver what is queued (within the timeout), then stop the thread. Idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout_seconds)
        except queue.Full:
            log.warning("%s queue still full at shutdown; undelivered events are lost", self.description)
            return
        thread.join(timeout=timeout_seconds)

    def deliver(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            if isinstance(event, PendingEvent):
                try:
                    event = event.render()
                except Exception:  # a rendering bug must not end delivery for every later event
                    log.exception("job %s: could not render event %s", event.job_id, event.event_id)
                    continue
            try:
                self.deliver(event)
            except Exception:  # nor may a failing destination
                log.exception("%s failed for event %s", self.description, event["id"])


class WebhookDelivery(EventDelivery):
    """POSTs each event as JSON to `url`."""

    description = "event webhook"

    def __init__(self, url: str, *, queue_size: int = WEBHOOK_QUEUE_SIZE) -> None:
        super().__init__(queue_size=queue_size)
        self.url = url

    def deliver(self, event: dict[str, Any]) -> None:
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


class EventBus(Protocol):
    """The account's default EventBridge bus, per account and region."""

    def has_rules(self, account_id: str, region: str) -> bool:
        """Whether any rule could receive an event there; must be cheap and never block."""
        ...

    def put(self, event: Mapping[str, Any]) -> None:
        """Put one rendered event (the envelope of events.envelope) on the bus of its account and
        region; failures are the bus's to log."""
        ...


class EventBusDelivery(EventDelivery):
    """Puts each event on the default bus of the account and region of its first resource."""

    description = "event bus"

    def __init__(self, bus: EventBus, *, queue_size: int = EVENT_BUS_QUEUE_SIZE) -> None:
        super().__init__(queue_size=queue_size)
        self.bus = bus

    def wants(self, event: Event) -> bool:
        arn = first_resource(event).split(":", 5)  # arn:<partition>:batch:<region>:<account>:...
        return len(arn) == 6 and self.bus.has_rules(arn[4], arn[3])

    def deliver(self, event: dict[str, Any]) -> None:
        self.bus.put(event)


def first_resource(event: Event) -> str:
    return event.resources[0] if isinstance(event, PendingEvent) else event["resources"][0]


def _event_id(event: Event) -> str:
    return event.event_id if isinstance(event, PendingEvent) else event["id"]
