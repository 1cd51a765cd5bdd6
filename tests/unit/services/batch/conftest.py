"""Fixtures for the Batch control-plane unit tests: a provider over a memory store, a ManualClock
and a fake engine that records the topology it is told (or, with EngineHarness, a real engine with
the simulated executor). `call` runs a request the way the server does (model validation, provider,
output serialization that rejects undeclared members)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import xform_name

from emulator.config import Settings
from emulator.engine.clock import ManualClock
from emulator.engine.engine import Engine
from emulator.engine.ids import SequentialIds
from emulator.executors.simulated import SimulatedExecutor
from emulator.protocol.dispatch import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.protocol.serializing import serialize_result
from emulator.protocol.specs import BATCH, load_service_model
from emulator.protocol.validation import validate
from emulator.services.batch.provider import BatchProvider
from emulator.stores.resources import MemoryResourceStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
TRANSITION_MS = 200


class FakeEngine:
    def __init__(self) -> None:
        self.environments: dict[str, Any] = {}
        self.queues: dict[str, Any] = {}
        self.calls: list[tuple[str, Any]] = []
        self.jobs: dict[str, Any] = {}

    def put_compute_environment(self, environment: Any) -> None:
        self.calls.append(("put_compute_environment", environment))
        self.environments[environment.arn] = environment

    def remove_compute_environment(self, arn: str) -> None:
        self.calls.append(("remove_compute_environment", arn))
        self.environments.pop(arn, None)

    def put_queue(self, queue: Any) -> None:
        self.calls.append(("put_queue", queue))
        self.queues[queue.arn] = queue

    def remove_queue(self, arn: str) -> None:
        self.calls.append(("remove_queue", arn))
        self.queues.pop(arn, None)

    def get_job(self, job_id: str) -> Any:
        return self.jobs.get(job_id)

    def put_consumable_resource(self, resource: Any) -> None:
        self.calls.append(("put_consumable_resource", resource))

    def remove_consumable_resource(self, arn: str) -> None:
        self.calls.append(("remove_consumable_resource", arn))

    def consumable_usage(self, arn: str) -> Any:
        return None  # the provider then reports the stored document's figures

    def jobs_using_consumable(self, arn: str) -> list[Any]:
        return []


class Harness:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.engine = FakeEngine()
        self.store = MemoryResourceStore()
        self.model = load_service_model(BATCH)
        self.provider = BatchProvider(
            store=self.store, engine=self.engine, settings=Settings(transition_seconds=0.2), clock=self.clock
        )
        self.ctx = RequestContext(ACCOUNT, REGION, "req-1")

    def call(self, operation: str, /, ctx: RequestContext | None = None, **params: Any) -> dict[str, Any]:
        model = self.model.operation_model(operation)
        validate(model.input_shape, params, error_code="ClientException", wrapped=True)
        method = getattr(self.provider, xform_name(operation))
        result = method(ctx or self.ctx, **{xform_name(name): value for name, value in params.items()}) or {}
        serialize_result(self.model, model, result, "req-1")  # raises on undeclared members
        return result

    def error(self, operation: str, /, ctx: RequestContext | None = None, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as caught:
            self.call(operation, ctx, **params)
        assert caught.value.code == "ClientException"
        return caught.value

    def settle(self) -> None:
        self.clock.advance(TRANSITION_MS)

    # ---- builders ----

    def ec2_ce(self, name: str = "ce", **overrides: Any) -> str:
        resources = {
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 16,
            "instanceTypes": ["optimal"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": "ecsInstanceRole",
        }
        params = {
            "computeEnvironmentName": name,
            "type": "MANAGED",
            "computeResources": resources,
            **overrides,
        }
        return self.call("CreateComputeEnvironment", **params)["computeEnvironmentArn"]

    def fargate_ce(self, name: str = "fargate") -> str:
        resources = {"type": "FARGATE", "maxvCpus": 8, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}
        return self.call(
            "CreateComputeEnvironment",
            computeEnvironmentName=name,
            type="MANAGED",
            computeResources=resources,
        )["computeEnvironmentArn"]

    def queue(self, name: str = "q", *environments: str, **overrides: Any) -> str:
        order = [{"order": i + 1, "computeEnvironment": e} for i, e in enumerate(environments or ("ce",))]
        params = {"jobQueueName": name, "priority": 1, "computeEnvironmentOrder": order, **overrides}
        return self.call("CreateJobQueue", **params)["jobQueueArn"]


class EngineHarness(Harness):
    """The control-plane harness with a real engine on its ManualClock."""

    def __init__(self) -> None:
        super().__init__()
        self.executor = SimulatedExecutor(self.clock)
        self.engine = Engine(
            clock=self.clock, executor=self.executor, max_running=6, new_job_id=SequentialIds("job-")
        )
        self.provider = BatchProvider(
            store=self.store, engine=self.engine, settings=self.provider.settings, clock=self.clock
        )

    def passes(self, count: int = 3) -> None:
        for _ in range(count):
            self.engine.run_pass()

    def describe(self, *job_ids: str) -> list[dict[str, Any]]:
        return self.call("DescribeJobs", jobs=list(job_ids))["jobs"]


@pytest.fixture
def batch() -> Harness:
    return Harness()
