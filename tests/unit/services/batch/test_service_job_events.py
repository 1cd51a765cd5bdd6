"""Service-job events (reference §22): "Batch Service Job State Change" for every status a service
job enters after SUBMITTED, "Batch Service Job Queue Blocked" once per blocked reason of a RUNNABLE
job, both with DescribeServiceJob's output less `tags` and `serviceRequestPayload`. A real
ServiceJobEngine on a ManualClock; no server."""

from __future__ import annotations

from dataclasses import replace

from emulator.engine.clock import ManualClock
from emulator.engine.ids import SequentialIds
from emulator.engine.service_jobs import ServiceJobEngine, ServiceOutcome
from emulator.engine.service_records import (
    NUM_INSTANCES,
    QuotaShare,
    ServiceEnvironment,
    ServiceJobSubmission,
    ServiceQueue,
    ServiceTopology,
)
from emulator.engine.service_scheduling import (
    INSUFFICIENT_INSTANCE_CAPACITY,
    QUOTA_MANAGEMENT_LIMIT_EXCEEDED,
    SERVICE_ENVIRONMENT_MAX_RESOURCE,
)
from emulator.services.batch import events
from emulator.services.batch.events import EventBuffer, ServiceJobEventPublisher
from emulator.services.batch.service_jobs import render_detail, render_event_detail

ACCOUNT, REGION = "123456789012", "eu-west-1"
PREFIX = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
ENV = PREFIX + "service-environment/se"
QUEUE = PREFIX + "job-queue/sq"
START_MS = 1_641_944_200_000  # 2022-01-11T23:36:40Z
STATE = events.SERVICE_JOB_STATE_CHANGE
BLOCKED = events.SERVICE_JOB_QUEUE_BLOCKED


class World:
    def __init__(self, max_instances: int = 2, *, quota_share: QuotaShare | None = None) -> None:
        self.clock = ManualClock(START_MS)
        queue = ServiceQueue(QUEUE, 1, ENV, is_quota_share=quota_share is not None)
        shares = {(QUEUE, quota_share.name): quota_share} if quota_share is not None else {}
        self.topology = ServiceTopology(
            environments={ENV: ServiceEnvironment(ENV, True, ((NUM_INSTANCES, max_instances),))},
            queues={QUEUE: queue},
            shares=shares,
        )
        self.engine = ServiceJobEngine(
            clock=self.clock,
            topology_source=lambda: self.topology,
            new_resource_suffix=SequentialIds("", width=32, hex=True),
        )
        self.buffer = EventBuffer()
        publisher = ServiceJobEventPublisher(
            render_detail=render_event_detail, buffer=self.buffer, new_event_id=SequentialIds("ev-")
        )
        self.engine.add_listener(publisher.on_status)
        self.engine.add_blocked_listener(publisher.on_blocked)
        self.ids = SequentialIds("job-")

    def submit(self, name: str = "train", **fields) -> str:
        job_id = self.ids()
        self.engine.submit(
            ServiceJobSubmission(
                job_id=job_id,
                job_arn=PREFIX + f"service-job/{job_id}",
                job_name=name,
                queue_arn=QUEUE,
                service_job_type="SAGEMAKER_TRAINING",
                service_request_payload='{"ResourceConfig": {"InstanceCount": 1}}',
                **fields,
            )
        )
        return job_id

    def run(self, passes: int = 10, step_ms: int = 1000) -> None:
        for _ in range(passes):
            self.clock.advance(step_ms)
            self.engine.run_pass()

    def seen(self, job_id: str) -> list[tuple[str, str, str | None]]:
        return [
            (event["detail-type"], event["detail"]["status"], event["detail"].get("statusReason"))
            for event in self.buffer.events(job_id=job_id)
        ]


def test_service_job_emits_every_status_after_submitted_in_order():
    world = World()
    job_id = world.submit()
    world.run()
    assert [status for _, status, _ in world.seen(job_id)] == [
        "RUNNABLE",
        "SCHEDULED",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert {detail_type for detail_type, _, _ in world.seen(job_id)} == {STATE}


def test_envelope_names_the_service_job_and_its_account_and_region():
    world = World()
    job_id = world.submit()
    world.run(passes=1)
    first = world.buffer.events(job_id=job_id)[0]
    assert {key: value for key, value in first.items() if key != "detail"} == {
        "version": "0",
        "id": "ev-1",
        "detail-type": "Batch Service Job State Change",
        "source": "aws.batch",
        "account": ACCOUNT,
        "time": "2022-01-11T23:36:41Z",
        "region": REGION,
        "resources": [PREFIX + f"service-job/{job_id}"],
    }


def test_event_detail_is_describe_service_job_without_tags_and_payload_at_the_change():
    world = World()
    job_id = world.submit()
    world.run()
    job = world.engine.get_job(job_id)
    described = render_detail(job, {"team": "ml"})
    last = world.buffer.events(job_id=job_id)[-1]["detail"]
    assert "tags" not in last and "serviceRequestPayload" not in last
    assert last == {k: v for k, v in described.items() if k not in ("tags", "serviceRequestPayload")}
    scheduled = world.buffer.events(job_id=job_id)[1]["detail"]
    assert (scheduled["status"], "startedAt" in scheduled, "latestAttempt" in scheduled) == (
        "SCHEDULED",
        False,
        True,
    )


def test_job_too_big_emits_one_blocked_event_per_reason():
    share = QuotaShare(QUEUE, "team", True, (("ml.m5.large", 1),))
    world = World(max_instances=2, quota_share=share)
    job_id = world.submit(instance_count=3, instance_type="ml.m5.large", quota_share_name="team")
    world.run(passes=5)
    blocked = world.buffer.events(job_id=job_id, detail_type=BLOCKED)
    assert [(event["id"], event["time"], event["resources"]) for event in blocked] == [
        ("ev-2", "2022-01-11T23:36:42Z", [PREFIX + f"service-job/{job_id}"])
    ]
    assert blocked[0]["detail"] == render_event_detail(world.engine.get_job(job_id))
    # The environment grows: now the quota share is what cannot hold it.
    environment = replace(world.topology.environments[ENV], capacity_limits=((NUM_INSTANCES, 10),))
    world.topology = replace(world.topology, environments={ENV: environment})
    world.run(passes=5)
    # The share grows too: the job runs.
    share = replace(share, capacity_limits=(("ml.m5.large", 3),))
    world.topology = replace(world.topology, shares={(QUEUE, "team"): share})
    world.run(passes=10)
    assert world.seen(job_id) == [
        (STATE, "RUNNABLE", None),
        (BLOCKED, "RUNNABLE", SERVICE_ENVIRONMENT_MAX_RESOURCE),
        (BLOCKED, "RUNNABLE", QUOTA_MANAGEMENT_LIMIT_EXCEEDED),
        (STATE, "SCHEDULED", None),
        (STATE, "STARTING", None),
        (STATE, "RUNNING", None),
        (STATE, "SUCCEEDED", "Received status from SageMaker: Training job completed"),
    ]


def test_insufficient_capacity_fallback_emits_runnable_then_blocked():
    world = World()
    world.engine.script("train", ServiceOutcome(insufficient_capacity=1))
    job_id = world.submit()
    world.run()
    assert world.seen(job_id) == [
        (STATE, "RUNNABLE", None),
        (STATE, "SCHEDULED", None),
        (STATE, "RUNNABLE", INSUFFICIENT_INSTANCE_CAPACITY),
        (BLOCKED, "RUNNABLE", INSUFFICIENT_INSTANCE_CAPACITY),
        (STATE, "SCHEDULED", None),
        (STATE, "STARTING", None),
        (STATE, "RUNNING", None),
        (STATE, "SUCCEEDED", "Received status from SageMaker: Training job completed"),
    ]


def test_terminated_service_job_emits_failed_and_filters_keep_jobs_apart():
    world = World()
    world.engine.script("long", ServiceOutcome(duration_ms=3_600_000))
    long_job = world.submit("long")
    other = world.submit("other")
    world.run(passes=4)
    world.engine.terminate(long_job, "no longer needed")
    last = world.buffer.events(job_id=long_job)[-1]["detail"]
    assert (last["status"], last["statusReason"], last["isTerminated"]) == (
        "FAILED",
        "no longer needed",
        True,
    )
    assert {event["detail"]["jobId"] for event in world.buffer.events(job_id=other)} == {other}
    assert world.buffer.events(detail_type=events.JOB_STATE_CHANGE) == []
