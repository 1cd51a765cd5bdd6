"""The ECS cluster behind each compute environment, in the account's ECS (moto's, in this process).

On AWS, Batch creates an ECS cluster for every compute environment (its `ecsClusterArn`) and
deletes it with the compute environment; ListClusters and DescribeClusters show it meanwhile.
Here the Batch service tells this registry (`add`, `remove`), and the registry keeps moto's ECS
in step.

moto is imported only when a request first needs it, and a compute environment is made at start
(--bootstrap) or restored from a state directory long before anyone asks ECS. So the registry
remembers every cluster and writes it into moto's ECS backend when moto's ECS is in use: at once
when it is already imported, otherwise before the first request that moto's ECS serves
(`materialise`). Writing is idempotent, so a reset of moto by another emulator in the same
process, or a restart on a state directory (moto's state is in memory only), is repaired by the
next ECS request.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ECS_MODELS = "moto.ecs.models"


@dataclass(frozen=True, slots=True)
class ClusterName:
    account_id: str
    region: str
    name: str

    @classmethod
    def of(cls, cluster_arn: str) -> ClusterName | None:
        """`arn:<partition>:ecs:<region>:<account>:cluster/<name>`; None for anything else."""
        parts = cluster_arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("cluster/"):
            return None
        return cls(parts[4], parts[3], parts[5].removeprefix("cluster/"))


class EcsClusters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clusters: dict[str, ClusterName] = {}

    def add(self, cluster_arn: str) -> None:
        cluster = ClusterName.of(cluster_arn)
        if cluster is None:
            return
        with self._lock:
            self._clusters[cluster_arn] = cluster
            if ECS_MODELS in sys.modules:
                _create(sys.modules[ECS_MODELS], cluster)

    def remove(self, cluster_arn: str) -> None:
        """Gone at once from ListClusters and DescribeClusters (where AWS shows INACTIVE for a while)."""
        with self._lock:
            cluster = self._clusters.pop(cluster_arn, None)
            models = sys.modules.get(ECS_MODELS)
            if cluster is None or models is None:
                return
            backend = _backend(models, cluster)
            if backend is not None:
                backend.clusters.pop(cluster.name, None)

    def clear(self) -> None:
        """Forget every cluster (a reset: moto's own state is reset beside it)."""
        with self._lock:
            self._clusters.clear()

    def materialise(self, *, load: bool) -> None:
        """Make sure moto's ECS holds every cluster; `load` imports moto's ECS first (a request
        for ECS is about to import it anyway)."""
        if not load and ECS_MODELS not in sys.modules:
            return
        import importlib

        models = importlib.import_module(ECS_MODELS)
        with self._lock:
            for cluster in self._clusters.values():
                _create(models, cluster)


def _create(models: Any, cluster: ClusterName) -> None:
    backend = _backend(models, cluster)
    if backend is not None and cluster.name not in backend.clusters:
        backend.create_cluster(cluster.name)


def _backend(models: Any, cluster: ClusterName) -> Any:
    try:
        return models.ecs_backends[cluster.account_id][cluster.region]
    except KeyError:  # a region moto does not know
        log.warning("no ECS cluster for %s: moto has no ECS in region %s", cluster.name, cluster.region)
        return None
