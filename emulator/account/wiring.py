"""Batch wired into the rest of the account, as on AWS: one object per app, built by create_app.

- ECS: each compute environment's `ecsClusterArn` is a cluster in moto's ECS (`clusters`, handed
  to the Batch service).
- EventBridge: Batch's events go onto the default bus of the job's account (`event_bus`, handed to
  the event publishers' delivery).

`before_moto(backend, server_port)` runs in the account front before each request moto serves;
`reset` and `close` follow the app's.
"""

from __future__ import annotations

from emulator.account.ecs_clusters import EcsClusters
from emulator.account.event_bus import DefaultEventBus
from emulator.stores.base import LogStore


class AccountWiring:
    def __init__(self, *, logs: LogStore) -> None:
        """`logs`: the emulator's CloudWatch Logs (EventBridge rules may target its log groups)."""
        self.clusters = EcsClusters()
        self.event_bus = DefaultEventBus(logs=logs)

    def before_moto(self, backend: str, server_port: int | None) -> None:
        self.clusters.materialise(load=backend == "ecs")

    def reset(self) -> None:
        """Before moto's reset: forget the clusters."""
        self.clusters.clear()

    def close(self) -> None:
        pass
