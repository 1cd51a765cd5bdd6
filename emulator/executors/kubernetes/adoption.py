"""Finding the emulator's pods again after a restart (`--state-dir`), and the leftovers.

Every pod carries `batch-emulator.managed=true`, its attempt (`batch-emulator.attempt`, exact in
the `batch-emulator/attempt-id` annotation) and, with a state directory, `batch-emulator.state`:
a hash of the host name and the directory's path. A restarted server adopts the pod of each
attempt it restored by these labels; pods of its state directory that no attempt adopted (their
job ended, was deleted or was lost meanwhile) are leftovers, deleted. Pods of other emulators
sharing the cluster, other state directories or none, are never touched: a cluster cannot tell
whether the process that made them still runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.executors.kubernetes.pods import ATTEMPT_ANNOTATION, label_value

MANAGED_LABEL = "batch-emulator.managed"
ATTEMPT_LABEL = "batch-emulator.attempt"
INSTANCE_LABEL = "batch-emulator.instance"
STATE_LABEL = "batch-emulator.state"
LIST_TIMEOUT_SECONDS = 30


def state_key(state_dir: str) -> str:
    where = f"{socket.gethostname()}:{os.path.abspath(state_dir)}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def attempt_of(pod: Mapping[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("annotations") or {}).get(ATTEMPT_ANNOTATION)


def attempt_selector(attempt_id: str) -> dict[str, str]:
    return {MANAGED_LABEL: "true", ATTEMPT_LABEL: label_value(attempt_id)}


def leftovers(pods: Iterable[Mapping[str, Any]], state: str, live: set[str]) -> list[str]:
    """The names of the pods of state directory `state` whose attempt is not in `live`."""
    return [
        pod["metadata"]["name"]
        for pod in pods
        if ((pod.get("metadata") or {}).get("labels") or {}).get(STATE_LABEL) == state
        and attempt_of(pod) not in live
    ]


def list_pods(core: Any, namespace: str, labels: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The pods of `namespace` carrying every label in `labels`. The selector is applied here too,
    since not every API server honours it."""
    response = core.list_namespaced_pod(
        namespace,
        label_selector=",".join(f"{key}={value}" for key, value in labels.items()),
        _preload_content=False,
        _request_timeout=LIST_TIMEOUT_SECONDS,
    )
    items = json.loads(response.data or b"{}").get("items") or []
    return [pod for pod in items if _has_labels(pod, labels)]


def _has_labels(pod: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    found = (pod.get("metadata") or {}).get("labels") or {}
    return all(found.get(key) == value for key, value in labels.items())
