"""Batch Job State Change events (reference §22): one per status a job enters after SUBMITTED, in
order, with a JobDetail as DescribeJobs showed it at that moment; Batch Job Queue Blocked events,
once per blocked reason of a queue's head; webhook delivery off the engine's thread. A real Engine
on a ManualClock with the simulated executor; no server."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.ids import SequentialIds
from emulator.engine.records import (
    ComputeEnvironment,
    ContainerSpec,
    Dependency,
    JobQueue,
    JobStatus,
    JobSubmission,
    RetryPolicy,
)
from emulator.engine.scheduling import ACTION_REQUIRED_INVALID_CES, COMPUTE_ENVIRONMENT_MAX_RESOURCE
from emulator.executors.simulated import Outcome, SimulatedExecutor
from emulator.services.batch import events
from emulator.services.batch.event_delivery import WebhookDelivery
from emulator.services.batch.events import EventBuffer, JobEventPublisher

ACCOUNT, REGION = "123456789012", "us-east-1"
CE = f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/ce"
QUEUE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/q"
START_MS = 1_641_944_200_000  # 2022-01-11T23:36:40Z


def minimal_detail(job) -> dict:
    detail = {"jobId": job.job_id, "status": job.status.value, "attempts": len(job.attempts)}
    if job.status_reason is not None:
        detail["statusReason"] = job.status_reason
    return detail


class World:
    def __init__(self, webhook: WebhookDelivery | None = None) -> None:
        self.clock = ManualClock(START_MS)
        self.executor = SimulatedExecutor(self.clock)
        self.engine = Engine(
            clock=self.clock, executor=self.executor, max_running=10, new_job_id=SequentialIds("job-")
        )
        self.engine.put_compute_environment(ComputeEnvironment(CE, "ce", True, True, 16))
        self.engine.put_queue(JobQueue(QUEUE, "q", True, 1, (CE,)))
        self.buffer = EventBuffer()
        self.publisher = JobEventPublisher(
            render_detail=minimal_detail,
            buffer=self.buffer,
            deliveries=(webhook,) if webhook is not None else (),
            new_event_id=SequentialIds("ev-"),
        )
        self.engine.add_listener(self.publisher.on_status)
        self.engine.add_blocked_listener(self.publisher.on_blocked)

    def submit(self, name: str = "job", vcpus: float = 1.0, **changes):
        return self.engine.submit(
            JobSubmission(
                account_id=ACCOUNT,
                region=REGION,
                name=name,
                queue_arn=QUEUE,
                queue_name="q",
                definition_arn=f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/jd:1",
                container=ContainerSpec(image="busybox", vcpus=vcpus),
                **changes,
            )
        )

    def run(self, passes: int = 10, step_ms: int = 1000) -> None:
        for _ in range(passes):
            self.clock.advance(step_ms)
            self.engine.run_pass()

    def statuses(self, job_id: str) -> list[str]:
        return [event["detail"]["status"] for event in self.buffer.events(job_id=job_id)]


def test_retried_job_emits_every_state_in_order_without_submitted():
    world = World()
    world.executor.script("flaky", Outcome(exit_code=1, duration_ms=2000), Outcome(duration_ms=2000))
    job = world.submit("flaky", retry=RetryPolicy(attempts=2))
    world.run()
    assert world.engine.get_job(job.job_id).status is JobStatus.SUCCEEDED
    assert world.statuses(job.job_id) == [
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]


def test_event_detail_is_the_job_at_the_moment_of_the_change():
    world = World()
    world.executor.script("flaky", Outcome(exit_code=1), Outcome())
    job = world.submit("flaky", retry=RetryPolicy(attempts=2))
    world.run()
    attempts = [
        (e["detail"]["status"], e["detail"]["attempts"]) for e in world.buffer.events(job_id=job.job_id)
    ]
    assert attempts == [
        ("RUNNABLE", 0),
        ("STARTING", 0),
        ("RUNNING", 0),
        ("RUNNABLE", 1),
        ("STARTING", 1),
        ("RUNNING", 1),
        ("SUCCEEDED", 2),
    ]


def test_envelope_is_eventbridge_shaped():
    world = World()
    job = world.submit()
    world.run(passes=1)
    first = world.buffer.events(job_id=job.job_id)[0]
    assert first == {
        "version": "0",
        "id": "ev-1",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": ACCOUNT,
        "time": "2022-01-11T23:36:41Z",
        "region": REGION,
        "resources": [job.arn],
        "detail": {"jobId": job.job_id, "status": "RUNNABLE", "attempts": 0},
    }


def test_dependent_job_emits_pending_first_and_failed_dependency_fails_it():
    world = World()
    world.executor.script("parent", Outcome(exit_code=1))
    parent = world.submit("parent")
    child = world.submit("child", depends_on=(Dependency(parent.job_id),))
    world.run()
    assert world.statuses(child.job_id) == ["PENDING", "FAILED"]


def test_array_parent_and_children_emit_their_own_events():
    world = World()
    parent = world.submit("array", array_size=2)
    world.run()
    assert world.statuses(parent.job_id) == ["PENDING", "SUCCEEDED"]
    for index in range(2):
        assert world.statuses(f"{parent.job_id}:{index}") == [
            "PENDING",
            "RUNNABLE",
            "STARTING",
            "RUNNING",
            "SUCCEEDED",
        ]


def test_events_filter_by_detail_type_and_buffer_is_bounded():
    buffer = EventBuffer(size=2)
    for number in range(3):
        buffer.append({"detail-type": "Batch Job State Change", "detail": {"jobId": str(number)}})
    assert [e["detail"]["jobId"] for e in buffer.events()] == ["1", "2"]
    assert buffer.events(detail_type="Batch Job Queue Blocked") == []


def test_a_failing_listener_does_not_stop_the_engine(caplog):
    world = World()

    def broken(job, status):
        raise RuntimeError("boom")

    world.engine.add_listener(broken)
    job = world.submit()
    world.run()
    assert world.engine.get_job(job.job_id).status is JobStatus.SUCCEEDED
    assert world.statuses(job.job_id)[-1] == "SUCCEEDED"
    assert "state-change listener failed" in caplog.text


def test_blocked_head_emits_one_queue_blocked_event_per_reason():
    world = World()  # its one compute environment has 16 vCPUs
    job = world.submit("big", vcpus=32)
    world.run(passes=5)
    blocked = world.buffer.events(job_id=job.job_id, detail_type=events.JOB_QUEUE_BLOCKED)
    assert blocked == [
        {
            "version": "0",
            "id": "ev-2",
            "detail-type": "Batch Job Queue Blocked",
            "source": "aws.batch",
            "account": ACCOUNT,
            "time": "2022-01-11T23:36:41Z",  # the first pass, which found it blocked
            "region": REGION,
            "resources": [job.arn, QUEUE],
            "detail": {
                "jobId": job.job_id,
                "status": "RUNNABLE",
                "attempts": 0,
                "statusReason": COMPUTE_ENVIRONMENT_MAX_RESOURCE,
            },
        }
    ]
    world.engine.put_compute_environment(ComputeEnvironment(CE, "ce", True, False, 16))  # INVALID
    world.run(passes=5)
    world.engine.put_compute_environment(ComputeEnvironment(CE, "ce", True, True, 64))  # now it fits
    world.run(passes=5)
    assert world.engine.get_job(job.job_id).status is JobStatus.SUCCEEDED
    seen = [
        (event["detail-type"], event["detail"]["status"], event["detail"].get("statusReason"))
        for event in world.buffer.events(job_id=job.job_id)
    ]
    assert seen == [
        ("Batch Job State Change", "RUNNABLE", None),
        ("Batch Job Queue Blocked", "RUNNABLE", COMPUTE_ENVIRONMENT_MAX_RESOURCE),
        ("Batch Job Queue Blocked", "RUNNABLE", ACTION_REQUIRED_INVALID_CES),
        ("Batch Job State Change", "STARTING", None),
        ("Batch Job State Change", "RUNNING", None),
        ("Batch Job State Change", "SUCCEEDED", "Essential container in task exited"),
    ]


def test_only_the_head_of_the_queue_is_reported_blocked():
    world = World()
    first = world.submit("first", vcpus=32)
    second = world.submit("second", vcpus=32)
    world.run(passes=3)
    reported = [e["detail"]["jobId"] for e in world.buffer.events(detail_type=events.JOB_QUEUE_BLOCKED)]
    assert reported == [first.job_id]
    world.engine.request_cancel(first.job_id, "too big")
    world.run(passes=3)
    reported = [e["detail"]["jobId"] for e in world.buffer.events(detail_type=events.JOB_QUEUE_BLOCKED)]
    assert reported == [first.job_id, second.job_id]
    seen = [(e["detail-type"], e["detail"]["status"]) for e in world.buffer.events(job_id=first.job_id)]
    assert seen == [
        ("Batch Job State Change", "RUNNABLE"),
        ("Batch Job Queue Blocked", "RUNNABLE"),
        ("Batch Job State Change", "FAILED"),
    ]


def test_iso_time_has_second_precision_and_z():
    assert events.iso_time(1_641_944_200_058) == "2022-01-11T23:36:40Z"


# ---- webhook ---------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.arrived = threading.Condition()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, str]]:
    state = Sink()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.arrived:
                state.received.append(body)
                state.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/events"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def wait_for(sink: Sink, count: int, timeout_seconds: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout_seconds
    with sink.arrived:
        while len(sink.received) < count and time.monotonic() < deadline:
            sink.arrived.wait(timeout=deadline - time.monotonic())
        return list(sink.received)


def test_webhook_receives_every_event_in_order(sink):
    state, url = sink
    webhook = WebhookDelivery(url)
    webhook.start()
    world = World(webhook)
    job = world.submit()
    world.run()
    received = wait_for(state, 4)
    webhook.close()
    assert [event["detail"]["status"] for event in received] == [
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert received == world.buffer.events(job_id=job.job_id)


def test_unreachable_webhook_is_logged_and_never_blocks(caplog):
    webhook = WebhookDelivery("http://127.0.0.1:9/nothing-listens-here")
    webhook.start()
    world = World(webhook)
    job = world.submit()
    world.run()
    assert world.engine.get_job(job.job_id).status is JobStatus.SUCCEEDED
    webhook.close()
    assert "refused event" in caplog.text


def test_full_webhook_queue_drops_and_logs(caplog):
    webhook = WebhookDelivery("http://127.0.0.1:9/", queue_size=1)  # not started: nothing drains
    event = events.job_state_change_event(World().submit(), JobStatus.RUNNABLE, {"jobId": "x"}, "ev-1")
    webhook.send(event)
    webhook.send(event)
    assert "queue full" in caplog.text
