"""Engine test kit (helpers, imported by the tests; the fixture lives in conftest.py): a ManualClock, the simulated executor, predictable ids, one CE and one queue."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.ids import SequentialIds
from emulator.engine.records import ComputeEnvironment, ContainerSpec, Job, JobQueue, JobStatus, JobSubmission
from emulator.executors.simulated import SimulatedExecutor

ACCOUNT = "123456789012"
REGION = "us-east-1"


def ce_arn(name: str) -> str:
    return f"arn:aws:batch:{REGION}:{ACCOUNT}:compute-environment/{name}"


def queue_arn(name: str) -> str:
    return f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{name}"


def compute_environment(name: str = "ce", max_vcpus: float | None = 16, **changes) -> ComputeEnvironment:
    values = {"is_enabled": True, "is_valid": True} | changes
    return ComputeEnvironment(arn=ce_arn(name), name=name, max_vcpus=max_vcpus, **values)


def job_queue(name: str = "queue", ces: tuple[str, ...] = ("ce",), priority: int = 1, **changes) -> JobQueue:
    return JobQueue(
        arn=queue_arn(name),
        name=name,
        is_enabled=changes.pop("is_enabled", True),
        priority=priority,
        compute_environment_arns=tuple(ce_arn(ce) for ce in ces),
        **changes,
    )


def submission(
    name: str = "job", queue: str = "queue", env: dict[str, str] | None = None, vcpus: float = 1.0, **changes
) -> JobSubmission:
    container = ContainerSpec(
        image="busybox",
        command=("echo", "hi"),
        environment=tuple((env or {}).items()),
        vcpus=vcpus,
        log_stream_prefix="jd",
    )
    return JobSubmission(
        account_id=ACCOUNT,
        region=REGION,
        name=name,
        queue_arn=queue_arn(queue),
        queue_name=queue,
        definition_arn=f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/jd:1",
        container=container,
        **changes,
    )


class RecordingLogStore:
    def __init__(self) -> None:
        self.streams: dict[tuple[str, str, str, str], list[tuple[int, str]]] = {}

    def ensure_stream(self, account_id: str, region: str, group: str, stream: str) -> None:
        self.streams.setdefault((account_id, region, group, stream), [])

    def put_events(self, account_id, region, group, stream, events) -> None:
        self.streams.setdefault((account_id, region, group, stream), []).extend(events)


@dataclass
class World:
    clock: ManualClock
    executor: SimulatedExecutor
    engine: Engine
    logs: RecordingLogStore

    def submit(self, *args, **kwargs):
        return self.engine.submit(submission(*args, **kwargs))

    def status(self, job_id: str):
        return self.engine.get_job(job_id).status

    def job(self, job_id: str):
        return self.engine.get_job(job_id)

    def passes(self, count: int = 1) -> None:
        for _ in range(count):
            self.engine.run_pass()

    def advance(self, milliseconds: int) -> None:
        self.clock.advance(milliseconds)
        self.engine.run_pass()


def make_world(
    max_running: int = 100,
    *,
    topology: bool = True,
    executor_class: type[SimulatedExecutor] = SimulatedExecutor,
    **engine_options,
) -> World:
    clock = ManualClock(1_000_000)
    logs = RecordingLogStore()
    executor = executor_class(clock, log_store=logs)
    engine = Engine(
        clock=clock,
        executor=executor,
        max_running=max_running,
        endpoint_url="http://127.0.0.1:8734",
        new_job_id=SequentialIds("job-"),
        new_task_id=SequentialIds("", width=32, hex=True),
        **engine_options,
    )
    if topology:
        engine.put_compute_environment(compute_environment())
        engine.put_queue(job_queue())
    return World(clock, executor, engine, logs)


def make_job(status: JobStatus, *, array_parent: bool = False) -> Job:
    sub = submission()
    return Job(
        job_id="j",
        arn="arn",
        name=sub.name,
        account_id=sub.account_id,
        region=sub.region,
        queue_arn=sub.queue_arn,
        queue_name=sub.queue_name,
        definition_arn=sub.definition_arn,
        container=sub.container,
        status=status,
        created_at_ms=0,
        array_size=3 if array_parent else None,
    )
