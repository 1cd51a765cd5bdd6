"""One watch over the emulator's pods in one namespace of one cluster, with a relist as backstop.

A watch can miss events: the connection drops, the server ends it after `timeout_seconds`, or
answers 410 Gone when the resource version it resumes from is too old. So the thread alternates:
list every managed pod (each one handed on as if it had changed; the names seen let the executor
notice pods gone unseen), then watch from the list's resource version for at most
`relist_seconds`, then list again. Any failure is logged and followed, after a short pause, by a
fresh list. The label selector is applied here too, since not every API server honours it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

logger = logging.getLogger(__name__)

RELIST_SECONDS = 30.0
RETRY_PAUSE_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 10.0

PodHandler = Callable[[str, Mapping[str, Any]], None]  # (ADDED | MODIFIED | DELETED, pod)
ListHandler = Callable[[list[Mapping[str, Any]], float], None]  # (every pod listed, when the list began)


class PodWatch:
    def __init__(
        self,
        core: Any,
        namespace: str,
        labels: Mapping[str, str],
        on_pod: PodHandler,
        on_list: ListHandler,
        *,
        relist_seconds: float = RELIST_SECONDS,
    ) -> None:
        self._core = core
        self._namespace = namespace
        self._labels = dict(labels)
        self._selector = ",".join(f"{key}={value}" for key, value in self._labels.items())
        self._on_pod = on_pod
        self._on_list = on_list
        self._relist_seconds = relist_seconds
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"kubernetes-watch-{namespace}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop after the current read; a watch blocked on a quiet server ends at its timeout."""
        self._closed.set()

    def list_pods(self) -> tuple[list[Mapping[str, Any]], str]:
        """The managed pods of the namespace now, and the list's resource version."""
        response = self._core.list_namespaced_pod(
            self._namespace,
            label_selector=self._selector,
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT_SECONDS, self._relist_seconds),
        )
        body = json.loads(response.data or b"{}")
        pods = [pod for pod in body.get("items") or [] if self._is_ours(pod)]
        return pods, (body.get("metadata") or {}).get("resourceVersion") or ""

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                listed_at = time.monotonic()
                pods, version = self.list_pods()
                self._on_list(pods, listed_at)
                self._watch(version)
            except Exception as exc:  # any API or network failure: list again after a pause
                if self._closed.is_set():
                    return
                if not _is_quiet_timeout(exc):
                    logger.warning("watch of pods in %s failed, listing again: %s", self._namespace, exc)
                    self._closed.wait(RETRY_PAUSE_SECONDS)

    def _watch(self, version: str) -> None:
        """Read the watch stream as JSON lines, without the client's model classes: a pod that an
        API server or a kubelet leaves short of a field the models require must not end the watch."""
        response = self._core.list_namespaced_pod(
            self._namespace,
            label_selector=self._selector,
            resource_version=version or None,
            watch=True,
            timeout_seconds=int(self._relist_seconds),
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT_SECONDS, self._relist_seconds + 5),
        )
        try:
            for line in _lines(response):
                if self._closed.is_set():
                    return
                event = json.loads(line)
                pod = event.get("object") or {}
                if event.get("type") == "ERROR":  # e.g. 410 Gone: the version is too old
                    logger.info("watch of pods in %s ended: %s", self._namespace, pod.get("message"))
                    return
                if self._is_ours(pod):
                    self._on_pod(event.get("type", ""), pod)
        finally:
            response.release_conn()

    def _is_ours(self, pod: Mapping[str, Any]) -> bool:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        return all(labels.get(key) == value for key, value in self._labels.items())


def _is_quiet_timeout(exc: Exception) -> bool:
    """A read that timed out on a watch with nothing to say: the server did not end it at
    `timeout_seconds` itself (not every one does). Nothing went wrong; list again at once."""
    return "timed out" in str(exc).lower()


def _lines(response: Any) -> Iterator[bytes]:
    """The complete lines of a streamed response, however its chunks split them."""
    pending = b""
    for chunk in response.stream(65536, decode_content=True):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (line for line in lines if line.strip())
    if pending.strip():
        yield pending
