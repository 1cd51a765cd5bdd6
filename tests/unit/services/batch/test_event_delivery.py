"""Batch events on the account's event bus (services/batch/event_delivery.py): off the engine's
thread, in order, rendered once delivered, and neither queued nor rendered where no rule listens.
A stand-in bus; no moto, no server."""

from __future__ import annotations

import threading

from emulator.services.batch.event_delivery import EventBusDelivery
from emulator.services.batch.events import JOB_STATE_CHANGE, PendingEvent

ACCOUNT, REGION = "123456789012", "eu-west-1"
JOB_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job/job-1"


class StandInBus:
    def __init__(self, *, rules_in: set[tuple[str, str]], fail_first: bool = False) -> None:
        self.rules_in = rules_in
        self.fail_first = fail_first
        self.received: list[dict] = []
        self.arrived = threading.Condition()

    def has_rules(self, account_id: str, region: str) -> bool:
        return (account_id, region) in self.rules_in

    def put(self, event) -> None:
        with self.arrived:
            if self.fail_first:
                self.fail_first = False
                raise RuntimeError("target unreachable")
            self.received.append(dict(event))
            self.arrived.notify_all()

    def wait_for(self, count: int) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=5)
            return list(self.received)


class CountedDetail:
    def __init__(self, status: str) -> None:
        self.status = status
        self.renders = 0

    def __call__(self) -> dict:
        self.renders += 1
        return {"jobId": "job-1", "status": self.status}


def pending(status: str, arn: str = JOB_ARN) -> tuple[PendingEvent, CountedDetail]:
    detail = CountedDetail(status)
    return PendingEvent(JOB_STATE_CHANGE, "job-1", f"ev-{status}", 1_641_944_200_000, (arn,), detail), detail


def test_events_reach_the_bus_of_their_account_and_region_in_order():
    bus = StandInBus(rules_in={(ACCOUNT, REGION)})
    delivery = EventBusDelivery(bus)
    delivery.start()
    for status in ("RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"):
        delivery.send(pending(status)[0])

    received = bus.wait_for(4)
    delivery.close()
    assert [event["detail"]["status"] for event in received] == [
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert {(event["account"], event["region"], event["time"]) for event in received} == {
        (ACCOUNT, REGION, "2022-01-11T23:36:40Z")
    }


def test_an_account_without_rules_gets_nothing_and_costs_no_rendering():
    bus = StandInBus(rules_in={(ACCOUNT, "us-east-1")})
    delivery = EventBusDelivery(bus, queue_size=1)  # not started: a queued event would stay queued
    event, detail = pending("SUCCEEDED")
    for _ in range(3):
        delivery.send(event)  # a full queue would log and drop; an unwanted event is never queued

    delivery.start()
    delivery.close()
    assert bus.received == []
    assert detail.renders == 0


def test_a_failing_put_does_not_stop_later_events(caplog):
    bus = StandInBus(rules_in={(ACCOUNT, REGION)}, fail_first=True)
    delivery = EventBusDelivery(bus)
    delivery.start()
    delivery.send(pending("RUNNABLE")[0])
    delivery.send(pending("SUCCEEDED")[0])

    received = bus.wait_for(1)
    delivery.close()
    assert [event["detail"]["status"] for event in received] == ["SUCCEEDED"]
    assert "event bus failed for event ev-RUNNABLE" in caplog.text
