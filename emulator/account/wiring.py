"""Batch wired into the rest of the account, as on AWS: one object per app, built by create_app.

- ECS: each compute environment's `ecsClusterArn` is a cluster in moto's ECS (`clusters`, handed
  to the Batch service).
- EventBridge: Batch's events go onto the default bus of the job's account (`event_bus`, handed to
  the event publishers' delivery).
- Step Functions: moto's interpreter runs state machines, and its Batch tasks call this app
  (step_functions.py).

`before_moto(backend, server_port)` runs in the account front before each request moto serves;
`reset` and `close` follow the app's.
"""

from __future__ import annotations

from emulator.account import step_functions
from emulator.account.ecs_clusters import EcsClusters
from emulator.account.event_bus import DefaultEventBus
from emulator.stores.base import LogStore


class AccountWiring:
    def __init__(self, *, logs: LogStore) -> None:
        """`logs`: the emulator's CloudWatch Logs (EventBridge rules may target its log groups)."""
        self.clusters = EcsClusters()
        self.event_bus = DefaultEventBus(logs=logs)
        self._claimed_ports: set[int] = set()

    def before_moto(self, backend: str, server_port: int | None) -> None:
        """`server_port`: the port the request arrived on, where Step Functions calls back."""
        step_functions.enable_execution()
        if backend == "stepfunctions":
            step_functions.wire_batch_tasks()
            if server_port:
                step_functions.claim_callback_port(server_port)
                self._claimed_ports.add(server_port)
        self.clusters.materialise(load=backend == "ecs")

    def reset(self) -> None:
        """Before moto's reset: stop what moto would leave running, forget the clusters."""
        step_functions.stop_running_executions()
        self.clusters.clear()

    def close(self) -> None:
        for port in self._claimed_ports:
            step_functions.release_callback_port(port)
