"""RoutingExecutor: attempts on EKS compute environments go to the cluster, the others stay local.

With `--kube-context` set and a local executor (docker, process, simulated), a compute environment
with an `eksConfiguration` runs its jobs as pods on the cluster its `eksClusterArn` maps to, and
every other compute environment runs them as before. The engine sees one executor; each attempt is
remembered with the executor that runs it, so `stop` reaches the right one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, Executor, UpdateKind


class RoutingExecutor:
    def __init__(
        self, local: Executor, kubernetes: Any, is_kubernetes: Callable[[ExecutionRequest], bool]
    ) -> None:
        self.local = local
        self.kubernetes = kubernetes
        self._is_kubernetes = is_kubernetes
        self._routes: dict[str, Any] = {}  # attempt id -> the executor running it
        self._lock = threading.Lock()

    def _route(self, request: ExecutionRequest) -> Any:
        chosen = self.kubernetes if self._is_kubernetes(request) else self.local
        with self._lock:
            self._routes[request.attempt_id] = chosen
        return chosen

    def start(self, request: ExecutionRequest) -> None:
        self._route(request).start(request)

    def stop(self, attempt_id: str, reason: str) -> None:
        with self._lock:
            chosen = self._routes.get(attempt_id)
        for executor in (chosen,) if chosen is not None else (self.local, self.kubernetes):
            executor.stop(attempt_id, reason)

    def poll(self) -> list[ExecutionUpdate]:
        updates = [*self.local.poll(), *self.kubernetes.poll()]
        with self._lock:
            for update in updates:
                if update.kind is not UpdateKind.RUNNING:
                    self._routes.pop(update.attempt_id, None)
        return updates

    def live_attempts(self) -> list[str]:
        return [*self.local.live_attempts(), *self.kubernetes.live_attempts()]

    def adopt(self, request: ExecutionRequest) -> bool:
        adopt = getattr(self._route(request), "adopt", None)
        return bool(callable(adopt) and adopt(request))

    def remove_leftovers(self) -> None:
        for executor in (self.local, self.kubernetes):
            remove = getattr(executor, "remove_leftovers", None)
            if callable(remove):
                remove()

    def add_update_listener(self, listener: Callable[[], None]) -> None:
        for executor in (self.local, self.kubernetes):
            add = getattr(executor, "add_update_listener", None)
            if callable(add):
                add(listener)

    def read_jobs_from(self, job_of: Callable[[str], Any]) -> None:
        self.kubernetes.read_jobs_from(job_of)

    def close(self) -> None:
        try:
            self.local.close()
        finally:
            self.kubernetes.close()

    def __getattr__(self, name: str) -> Any:
        # The local executor's extras (the simulated executor's `script`, Docker's `has_image`).
        return getattr(self.local, name)
