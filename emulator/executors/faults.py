"""FaultInjectingExecutor: wraps any executor to make chosen images fail to pull.

Tests on a machine where every image is local (or on one with no registry at all) still need to see
what a job does when its image cannot be pulled: the attempt fails to start with AWS's
`CannotPullContainerError` reason and the retry strategy decides what follows.
"""

from __future__ import annotations

import threading

from emulator.executors.base import ExecutionRequest, ExecutionUpdate, Executor, UpdateKind


def pull_failure_reason(image: str) -> str:
    repository = image.rsplit(":", 1)[0] if "/" not in image.rsplit(":", 1)[-1] else image
    return (
        f"CannotPullContainerError: Error response from daemon: pull access denied for {repository}, "
        "repository does not exist or may require 'docker login': denied: requested access to the "
        "resource is denied"
    )


class FaultInjectingExecutor:
    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._unpullable: set[str] = set()
        self._pending: list[ExecutionUpdate] = []
        self._lock = threading.Lock()

    def make_unpullable(self, image: str) -> None:
        with self._lock:
            self._unpullable.add(image)

    def clear_faults(self) -> None:
        with self._lock:
            self._unpullable.clear()

    def start(self, request: ExecutionRequest) -> None:
        with self._lock:
            if request.image in self._unpullable:
                self._pending.append(
                    ExecutionUpdate(
                        request.attempt_id,
                        UpdateKind.FAILED_TO_START,
                        reason=pull_failure_reason(request.image),
                    )
                )
                return
        self.inner.start(request)

    def stop(self, attempt_id: str, reason: str) -> None:
        self.inner.stop(attempt_id, reason)

    def poll(self) -> list[ExecutionUpdate]:
        with self._lock:
            injected, self._pending = self._pending, []
        return injected + self.inner.poll()

    def live_attempts(self) -> list[str]:
        return self.inner.live_attempts()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str):
        # Executor-specific extras (the simulated executor's `script`, `next_event_ms`) stay reachable.
        return getattr(self.inner, name)
