"""State-change events are rendered when read, yet show exactly the JobDetail DescribeJobs showed
at the change (reference §22): same content, same order, tags and cluster names as they were."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.engine.ids import SequentialIds
from emulator.engine.records import Job, JobStatus
from emulator.executors.simulated import Outcome
from emulator.services.batch import events
from emulator.services.batch.events import EventBuffer, JobEventPublisher, PendingEvent

from .conftest import EngineHarness


class World(EngineHarness):
    def __init__(self) -> None:
        super().__init__()
        self.buffer = EventBuffer()
        self.publisher = JobEventPublisher(
            render_detail=self.provider.render_job_detail,
            buffer=self.buffer,
            new_event_id=SequentialIds("ev-"),
        )
        self.eager: list[dict[str, Any]] = []  # what the publisher rendered before: at the change
        self.engine.add_listener(self.render_now)
        self.engine.add_listener(self.publisher.on_status)
        self.numbers = SequentialIds("ev-")

    def render_now(self, job: Job, status: JobStatus) -> None:
        if status not in events.SILENT_STATUSES:
            detail = self.provider.render_job_detail(job)
            self.eager.append(events.job_state_change_event(job, status, detail, self.numbers()))


@pytest.fixture
def world() -> World:
    harness = World()
    harness.ec2_ce("ce")
    harness.settle()
    harness.queue("q", "ce")
    harness.call(
        "RegisterJobDefinition",
        jobDefinitionName="d",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "vcpus": 1, "memory": 128},
    )
    harness.settle()
    return harness


def test_events_rendered_when_read_equal_the_ones_rendered_at_each_change(world):
    world.executor.script("flaky", Outcome(exit_code=1), Outcome())
    tagged = world.call(
        "SubmitJob",
        jobName="flaky",
        jobQueue="q",
        jobDefinition="d",
        retryStrategy={"attempts": 2},
        tags={"team": "a"},
    )
    world.call("SubmitJob", jobName="arr", jobQueue="q", jobDefinition="d", arrayProperties={"size": 3})
    for _ in range(12):
        world.clock.advance(1000)
        world.passes(1)
    assert world.engine.get_job(tagged["jobId"]).status is JobStatus.SUCCEEDED
    # What the details read besides the record changes afterwards: the events must not.
    world.call("TagResource", resourceArn=tagged["jobArn"], tags={"team": "b", "extra": "x"})
    world.call("UpdateComputeEnvironment", computeEnvironment="ce", state="DISABLED")
    world.call("UpdateJobQueue", jobQueue="q", state="DISABLED")
    world.settle()
    world.call("DeleteJobQueue", jobQueue="q")
    world.clock.advance(60_000)
    world.call("DescribeJobQueues")  # purges the deleted queue
    world.call("DeleteComputeEnvironment", computeEnvironment="ce")
    world.clock.advance(60_000)
    world.call("DescribeComputeEnvironments")  # purges the deleted environment
    assert len(world.eager) > 20
    assert world.buffer.events() == world.eager
    assert world.buffer.events(job_id=tagged["jobId"]) == [
        event for event in world.eager if event["detail"]["jobId"] == tagged["jobId"]
    ]
    assert world.buffer.events(detail_type="Batch Job Queue Blocked") == []
    first = world.buffer.events(job_id=tagged["jobId"])[-1]["detail"]
    assert first["tags"] == {"team": "a"}
    assert first["attempts"][0]["container"]["taskArn"].split("/")[1].startswith("AWSBatch-ce-")


def test_the_buffer_holds_records_not_rendered_details(world):
    world.call("SubmitJob", jobName="one", jobQueue="q", jobDefinition="d")
    world.passes(3)
    held = list(world.buffer._events)
    assert held and all(isinstance(event, PendingEvent) for event in held)


def test_a_rendered_event_is_kept_and_filtered_as_before():
    buffer = EventBuffer()
    event = {"detail-type": "Other", "detail": {"jobId": "j"}, "id": "1", "resources": ["arn"]}
    buffer.append(event)
    assert buffer.events(job_id="j") == [event]
    assert buffer.events(detail_type="Batch Job State Change") == []
