"""A pod container's output followed into the LogStore, one thread per container.

`GET .../pods/<name>/log?container=<c>&follow=true` streams the container's output until it exits
(or from the start, all of it, when it has already exited); lines go to the attempt's log stream
as under Docker. A follower of an adopted attempt skips the lines an earlier server stored. A
stream that ended before its container did (a dropped connection, an API server restart) is read
once more after the pod has ended (`catch_up`), skipping what is stored. The pod is deleted only
after its followers are done, since its logs go with it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from emulator.executors.base import LogTarget
from emulator.executors.output import LineWriter, SkippingLogStore, stored_line_count
from emulator.stores.base import LogStore

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536


class LogFollower:
    def __init__(
        self,
        core: Any,
        namespace: str,
        pod_name: str,
        container: str,
        log_store: LogStore,
        target: LogTarget,
        *,
        resume: bool = False,
    ) -> None:
        store: Any = (
            SkippingLogStore(log_store, stored_line_count(log_store, target)) if resume else log_store
        )
        self._writer = LineWriter(store, target)
        self._core = core
        self._where = (pod_name, namespace, container)
        self._log_store, self._target = log_store, target
        self.finished_at: float | None = None  # time.monotonic() when its stream ended
        self._thread = threading.Thread(target=self._follow, name="kubernetes-logs", daemon=True)

    def start(self) -> None:
        self._writer.open_stream()
        self._thread.start()

    def wait(self, timeout_seconds: float) -> None:
        self._thread.join(timeout_seconds)

    def catch_up(self) -> LogFollower:
        """A follower that reads the whole log again, skipping every line stored so far."""
        pod_name, namespace, container = self._where
        return LogFollower(
            self._core, namespace, pod_name, container, self._log_store, self._target, resume=True
        )

    def _follow(self) -> None:
        pod_name, namespace, container = self._where
        try:
            response = self._core.read_namespaced_pod_log(
                pod_name,
                namespace,
                container=container,
                follow=True,
                _preload_content=False,  # no read timeout: a container may be quiet for hours
            )
            try:
                for chunk in response.stream(READ_CHUNK_BYTES):
                    self._writer.feed(chunk)
            finally:
                response.release_conn()
        except Exception as exc:  # the API, the network: the job keeps its exit code, loses lines
            logger.warning(
                "could not follow the output of %s/%s (%s): %s", namespace, pod_name, container, exc
            )
        finally:
            self._writer.finish()
            self.finished_at = time.monotonic()
