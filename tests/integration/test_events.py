"""Batch events end to end (reference §22): job and service-job state changes and queue-blocked
events, through boto3 against a real server with the simulated executor (service jobs run on the
simulated SageMaker); events read back through GET /_emulator/events and received by a webhook on
a local http.server (Settings.event_webhook_url)."""

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


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["detail-type"], event["detail"]["status"]) for event in events]


def delivered(sink: Sink, job_id: str) -> list[dict[str, Any]]:
    return [event for event in list(sink.received) if event["detail"]["jobId"] == job_id]


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


# ---- queue blocked ---------------------------------------------------------------------------

JOB_STATE_CHANGE = "Batch Job State Change"
JOB_QUEUE_BLOCKED = "Batch Job Queue Blocked"
SMALL_ENVIRONMENT = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 2,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}


def test_job_needing_more_vcpus_than_any_compute_environment_emits_one_queue_blocked_event(
    batch, controls, sink
):
    batch.create_compute_environment(
        computeEnvironmentName="small-ce", type="MANAGED", computeResources=SMALL_ENVIRONMENT
    )
    queue_arn = batch.create_job_queue(
        jobQueueName="small-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "small-ce"}],
    )["jobQueueArn"]
    for name, vcpus in (("big", "4"), ("fits", "1")):
        batch.register_job_definition(
            jobDefinitionName=name,
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["true"],
                "resourceRequirements": [
                    {"type": "VCPU", "value": vcpus},
                    {"type": "MEMORY", "value": "128"},
                ],
            },
        )
    big = batch.submit_job(jobName="big", jobQueue="small-q", jobDefinition="big")["jobId"]
    blocked = poll(lambda: controls.events(big, detail_type=JOB_QUEUE_BLOCKED))
    [event] = blocked
    detail = batch.describe_jobs(jobs=[big])["jobs"][0]
    assert event["resources"] == [detail["jobArn"], queue_arn]
    assert (event["source"], event["account"], event["region"]) == ("aws.batch", "123456789012", "us-east-1")
    assert event["detail"] == detail  # still blocked: DescribeJobs shows what the event showed
    assert detail["status"] == "RUNNABLE"
    assert detail["statusReason"].startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - ")

    # A job that fits waits behind the blocked head while passes go on, and runs once it is gone.
    fits = batch.submit_job(jobName="fits", jobQueue="small-q", jobDefinition="fits")["jobId"]
    poll(lambda: controls.events(fits))
    batch.cancel_job(jobId=big, reason="too big")
    poll(lambda: statuses(controls.events(fits))[-1:] == ["SUCCEEDED"])
    assert statuses(controls.events(fits)) == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert kinds(controls.events(big)) == [
        (JOB_STATE_CHANGE, "RUNNABLE"),
        (JOB_QUEUE_BLOCKED, "RUNNABLE"),
        (JOB_STATE_CHANGE, "FAILED"),
    ]
    assert controls.events(detail_type=JOB_QUEUE_BLOCKED) == blocked
    assert poll(lambda: len(delivered(sink, big)) >= 3 and delivered(sink, big)) == controls.events(big)


# ---- service jobs ----------------------------------------------------------------------------

SERVICE_JOB_STATE_CHANGE = "Batch Service Job State Change"
SERVICE_JOB_QUEUE_BLOCKED = "Batch Service Job Queue Blocked"


def create_service_queue(batch, name: str = "sm-q", *, capacity: int = 2) -> str:
    """A SAGEMAKER_TRAINING queue on a service environment of its own (`<name>-env`), which can
    hold `capacity` instances."""
    batch.create_service_environment(
        serviceEnvironmentName=f"{name}-env",
        serviceEnvironmentType="SAGEMAKER_TRAINING",
        capacityLimits=[{"maxCapacity": capacity, "capacityUnit": "NUM_INSTANCES"}],
    )
    batch.create_job_queue(
        jobQueueName=name,
        priority=1,
        jobQueueType="SAGEMAKER_TRAINING",
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": f"{name}-env"}],
    )
    return name


def submit_service_job(batch, queue: str, name: str, *, instances: int = 1, **extra: Any) -> str:
    payload = {
        "AlgorithmSpecification": {"TrainingImage": "example/train:latest", "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": instances, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
    }
    return batch.submit_service_job(
        jobName=name,
        jobQueue=queue,
        serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=json.dumps(payload),
        **extra,
    )["jobId"]


def test_service_job_emits_a_state_change_event_for_each_status_after_submitted(batch, controls, sink):
    queue = create_service_queue(batch)
    job_id = submit_service_job(batch, queue, "train", tags={"team": "ml"})
    events = poll(
        lambda: (found := controls.events(job_id)) and found[-1]["detail"]["status"] == "SUCCEEDED" and found
    )
    assert kinds(events) == [
        (SERVICE_JOB_STATE_CHANGE, "RUNNABLE"),
        (SERVICE_JOB_STATE_CHANGE, "SCHEDULED"),
        (SERVICE_JOB_STATE_CHANGE, "STARTING"),
        (SERVICE_JOB_STATE_CHANGE, "RUNNING"),
        (SERVICE_JOB_STATE_CHANGE, "SUCCEEDED"),
    ]
    described = batch.describe_service_job(jobId=job_id)
    assert described["tags"] == {"team": "ml"}
    omitted = {"ResponseMetadata", "tags", "serviceRequestPayload"}
    assert events[-1]["detail"] == {key: value for key, value in described.items() if key not in omitted}
    assert {event["resources"][0] for event in events} == {described["jobArn"]}
    assert all(len(event["resources"]) == 1 for event in events)
    assert (events[0]["source"], events[0]["account"], events[0]["region"]) == (
        "aws.batch",
        "123456789012",
        "us-east-1",
    )
    assert "scheduledAt" in events[1]["detail"] and "startedAt" not in events[1]["detail"]
    assert controls.events(job_id, detail_type=JOB_STATE_CHANGE) == []
    assert controls.events(detail_type=SERVICE_JOB_STATE_CHANGE) == events
    assert poll(lambda: len(delivered(sink, job_id)) >= 5 and delivered(sink, job_id)) == events


def test_service_job_too_big_for_its_environment_emits_one_queue_blocked_event(batch, controls):
    queue = create_service_queue(batch, capacity=2)
    other_queue = create_service_queue(batch, "sm-other-q")
    huge = submit_service_job(batch, queue, "huge", instances=5)
    blocked = poll(lambda: controls.events(huge, detail_type=SERVICE_JOB_QUEUE_BLOCKED))
    [event] = blocked
    described = batch.describe_service_job(jobId=huge)
    assert event["resources"] == [described["jobArn"]]
    assert event["detail"]["status"] == "RUNNABLE"
    assert event["detail"]["statusReason"] == described["statusReason"]
    assert described["statusReason"].startswith("MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE - ")

    # Another queue runs a job to the end meanwhile: many passes, still one event.
    small = submit_service_job(batch, other_queue, "small")
    poll(lambda: statuses(controls.events(small))[-1:] == ["SUCCEEDED"])
    batch.terminate_service_job(jobId=huge, reason="too big")
    events = poll(
        lambda: (found := controls.events(huge)) and found[-1]["detail"]["status"] == "FAILED" and found
    )
    assert kinds(events) == [
        (SERVICE_JOB_STATE_CHANGE, "RUNNABLE"),
        (SERVICE_JOB_QUEUE_BLOCKED, "RUNNABLE"),
        (SERVICE_JOB_STATE_CHANGE, "FAILED"),
    ]
    assert events[-1]["detail"]["statusReason"] == "too big"
    assert controls.events(detail_type=SERVICE_JOB_QUEUE_BLOCKED) == blocked
