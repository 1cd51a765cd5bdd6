"""Which kubeconfig context runs the pods of a compute environment, and its API client.

A compute environment names its cluster by `eksConfiguration.eksClusterArn`; the emulator maps it
to a kubeconfig context (`--kube-context`, EMULATOR_KUBE_CONTEXT): "CONTEXT" for every cluster,
"CLUSTER=CONTEXT" for one (CLUSTER: the ARN, or the cluster name it ends with), comma-separated.
With no entry that applies, the kubeconfig's current context runs the pods; with no kubeconfig at
all, the in-cluster service account does (an emulator running as a pod itself).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

CURRENT_CONTEXT = ""  # the kubeconfig's current-context


class KubernetesUnavailableError(RuntimeError):
    """The `kubernetes` client is not installed, or no kubeconfig context can be loaded."""


@dataclass(frozen=True, slots=True)
class ContextMap:
    """`--kube-context` parsed: the context per cluster, and the one for every other cluster."""

    by_cluster: tuple[tuple[str, str], ...] = ()
    default: str = CURRENT_CONTEXT

    @classmethod
    def parse(cls, text: str) -> ContextMap:
        by_cluster: list[tuple[str, str]] = []
        default = CURRENT_CONTEXT
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            cluster, separator, context = entry.rpartition("=")
            if separator:
                by_cluster.append((cluster.strip(), context.strip()))
            else:
                default = context
        return cls(tuple(by_cluster), default)

    def context_for(self, cluster_arn: str | None) -> str:
        """The context for the cluster `cluster_arn` (None: a compute environment without one)."""
        if cluster_arn:
            name = cluster_arn.rpartition("/")[2]
            for cluster, context in self.by_cluster:
                if cluster in (cluster_arn, name):
                    return context
        return self.default


class Clusters:
    """One API client per kubeconfig context, made on first use and shared by every thread (the
    client's connection pool is thread-safe)."""

    def __init__(self, contexts: ContextMap, kubeconfig: str = "") -> None:
        self.contexts = contexts
        self._kubeconfig = kubeconfig
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, context: str) -> Any:
        """The `kubernetes.client.ApiClient` for `context`; raises KubernetesUnavailableError."""
        with self._lock:
            found = self._clients.get(context)
            if found is None:
                found = self._clients[context] = _load_client(context, self._kubeconfig)
            return found

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for api_client in clients:
            try:
                api_client.close()
            except Exception:  # a pool that fails to close must not stop the server's shutdown
                logger.debug("closing a Kubernetes API client failed", exc_info=True)


def _load_client(context: str, kubeconfig: str) -> Any:
    try:
        import kubernetes.client
        import kubernetes.config
    except ImportError as exc:
        raise KubernetesUnavailableError(
            "running jobs on Kubernetes needs the official client: pip install 'batch-emulator[kubernetes]'"
        ) from exc
    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
    default_path = os.path.expanduser("~/.kube/config")
    if path is None and not os.path.exists(default_path) and os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_incluster_config(client_configuration=configuration)
        return kubernetes.client.ApiClient(configuration)
    try:
        return kubernetes.config.new_client_from_config(config_file=path, context=context or None)
    except (kubernetes.config.ConfigException, OSError) as exc:
        raise KubernetesUnavailableError(
            f"cannot load kubeconfig context {context or '(current)'!r} from {path or default_path}: {exc}"
        ) from exc
