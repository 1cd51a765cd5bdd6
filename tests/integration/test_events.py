"""Batch Job State Change events end to end (reference §22): boto3 against a real server with the
simulated executor; events read back through GET /_emulator/events and received by a webhook on a
local http.server (Settings.event_webhook_url)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kit import REQUIREMENTS, assert_no_server_errors, create_queue, poll

from emulator.app import runtime_of
from emulator.config import Settings
from emulator.testing.server import ServerThread


class Sink(http.server.ThreadingHTTPServer):
    received: list[dict[str, Any]]


class SinkHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        document = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append(document)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    server = Sink(("127.0.0.1", 0), SinkHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def server_settings(sink: Sink) -> Settings:
    url = f"http://127.0.0.1:{sink.server_address[1]}/events"
    return Settings(executor="simulated", transition_seconds=0, event_webhook_url=url)


@pytest.fixture(autouse=True)
def fresh(server: ServerThread, sink: Sink) -> Iterator[None]:
    runtime_of(server.app).reset()
    sink.received.clear()
    yield
    assert_no_server_errors(server)


@pytest.fixture
def queue(batch) -> str:
    create_queue(batch, "events-q", "events-ce")
    batch.register_job_definition(
        jobDefinitionName="events-jd",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "resourceRequirements": REQUIREMENTS},
    )
    return "events-q"


def statuses(events: list[dict[str, Any]]) -> list[str]:
    return [event["detail"]["status"] for event in events]


def test_retried_job_emits_each_state_once_per_entry_in_order(batch, controls, queue, sink):
    controls.script_outcomes("flaky", [{"exitCode": 1}, {"exitCode": 0}])
    job_id = batch.submit_job(
        jobName="flaky", jobQueue=queue, jobDefinition="events-jd", retryStrategy={"attempts": 2}
    )["jobId"]
    expected = ["RUNNABLE", "STARTING", "RUNNING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    events = poll(
        lambda: (found := controls.events(job_id)) and found[-1]["detail"]["status"] == "SUCCEEDED" and found
    )
    assert statuses(events) == expected
    final = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    assert events[-1]["detail"] == final
    assert [len(event["detail"]["attempts"]) for event in events] == [0, 0, 0, 1, 1, 1, 2]
    first = events[0]
    assert first["detail-type"] == "Batch Job State Change"
    assert first["source"] == "aws.batch"
    assert first["account"] == "123456789012"
    assert first["region"] == "us-east-1"
    assert first["resources"] == [final["jobArn"]]
    assert first["version"] == "0"
    assert len({event["id"] for event in events}) == len(events)


def test_webhook_receives_the_same_events_in_order(batch, controls, queue, sink):
    job_id = batch.submit_job(jobName="hooked", jobQueue=queue, jobDefinition="events-jd")["jobId"]

    def delivered() -> list[dict[str, Any]]:
        return [event for event in list(sink.received) if event["detail"]["jobId"] == job_id]

    mine = poll(lambda: len(delivered()) >= 4 and delivered())
    assert statuses(mine) == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert mine == controls.events(job_id)


def test_events_filter_by_job_and_detail_type_and_reset_clears_them(batch, controls, queue):
    first = batch.submit_job(jobName="one", jobQueue=queue, jobDefinition="events-jd")["jobId"]
    second = batch.submit_job(jobName="two", jobQueue=queue, jobDefinition="events-jd")["jobId"]
    poll(lambda: len(controls.events(second)) == 4)
    assert {event["detail"]["jobId"] for event in controls.events()} == {first, second}
    assert controls.events(detail_type="Batch Job Queue Blocked") == []
    assert len(controls.events(detail_type="Batch Job State Change")) == 8
    controls.reset()
    assert controls.events() == []


def test_cancelled_job_emits_failed_with_the_reason(batch, controls, queue):
    controls.pause_clock()
    controls.script_outcome("slow", duration_seconds=600)
    slow = batch.submit_job(jobName="slow", jobQueue=queue, jobDefinition="events-jd")["jobId"]
    child = batch.submit_job(
        jobName="child", jobQueue=queue, jobDefinition="events-jd", dependsOn=[{"jobId": slow}]
    )["jobId"]
    poll(lambda: controls.events(child))
    batch.cancel_job(jobId=child, reason="not needed")
    events = poll(lambda: len(controls.events(child)) == 2 and controls.events(child))
    assert statuses(events) == ["PENDING", "FAILED"]
    assert events[-1]["detail"]["statusReason"] == "not needed"
    assert events[-1]["detail"]["isCancelled"] is True
    batch.terminate_job(jobId=slow, reason="cleanup")
    controls.resume_clock()
