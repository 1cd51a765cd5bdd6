"""Batch wired into the rest of the account, as on AWS: one object per app, built by create_app.

- ECS: each compute environment's `ecsClusterArn` is a cluster in moto's ECS (`clusters`, handed
  to the Batch service).

`before_moto(backend, server_port)` runs in the account front before each request moto serves;
`reset` and `close` follow the app's.
"""

from __future__ import annotations

from emulator.account.ecs_clusters import EcsClusters


class AccountWiring:
    def __init__(self) -> None:
        self.clusters = EcsClusters()

    def before_moto(self, backend: str, server_port: int | None) -> None:
        self.clusters.materialise(load=backend == "ecs")

    def reset(self) -> None:
        """Before moto's reset: forget the clusters."""
        self.clusters.clear()

    def close(self) -> None:
        pass
