"""BatchProvider: every AWS Batch operation, composed from one mixin per resource family.

Control-plane families (compute environments, queues, job definitions, scheduling policies,
consumable resources, service environments, quota shares, service jobs, tags) keep wire-shaped
documents in the resource store; job operations (`JobOperations`) drive the engine, service-job
operations (`ServiceJobOperations`) the ServiceJobEngine. Methods are
named as botocore names the operations and take the RequestContext first (see protocol.dispatch).
"""

from __future__ import annotations

import itertools
from typing import Any

from emulator.config import Settings
from emulator.engine.clock import Clock
from emulator.engine.service_jobs import ServiceJobEngine
from emulator.services.batch.bulk import BulkJobOperations
from emulator.services.batch.consumables import ConsumableResourceOperations
from emulator.services.batch.definitions import JobDefinitionOperations
from emulator.services.batch.environments import ComputeEnvironmentOperations
from emulator.services.batch.jobs import JobOperations
from emulator.services.batch.policies import SchedulingPolicyOperations
from emulator.services.batch.queues import JobQueueOperations
from emulator.services.batch.quota_shares import QuotaShareOperations
from emulator.services.batch.references import AccountReferences
from emulator.services.batch.resources import EcsClusters, NoEcsClusters
from emulator.services.batch.service_environments import ServiceEnvironmentOperations
from emulator.services.batch.service_jobs import ServiceJobOperations
from emulator.services.batch.tags import TagOperations
from emulator.stores.resources import MemoryResourceStore


class BatchProvider(
    ComputeEnvironmentOperations,
    JobQueueOperations,
    JobDefinitionOperations,
    JobOperations,
    BulkJobOperations,
    SchedulingPolicyOperations,
    ConsumableResourceOperations,
    ServiceEnvironmentOperations,
    QuotaShareOperations,
    ServiceJobOperations,
    TagOperations,
):
    def __init__(
        self,
        *,
        store: MemoryResourceStore,
        engine: Any,
        settings: Settings,
        clock: Clock,
        service_engine: ServiceJobEngine | None = None,
        references: AccountReferences | None = None,
        clusters: EcsClusters | None = None,
    ) -> None:
        self.store = store
        self.references = references
        self.engine = engine
        self.settings = settings
        self.clock = clock
        # Each compute environment's ECS cluster, in the account's ECS.
        self.clusters = clusters or NoEcsClusters()
        self._sequence = itertools.count(1)
        # Service jobs (SageMaker Training) have their own engine, which reads the service
        # environments, queues and quota shares through service_topology(). Without one given, an
        # engine with no loop: jobs move only when someone calls its run_pass().
        self.service_engine = service_engine or ServiceJobEngine(clock=clock)
        self.service_engine.bind_topology(self.service_topology)
