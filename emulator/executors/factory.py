"""Chooses and builds the executor named by `Settings.executor`.

"docker" needs a reachable daemon and says so plainly when there is none; "auto" takes Docker when
the daemon answers a ping within a couple of seconds and falls back to local processes otherwise;
"simulated" runs scripted outcomes on the engine's clock; "kubernetes" runs every attempt as a pod on
a cluster (`executors/kubernetes/`). With `kube_context` set, any other executor is wrapped in a
`RoutingExecutor` that sends the attempts of EKS compute environments to the cluster. Each executor
is imported only when chosen, so a process-only host never touches the Docker SDK's connection
code, and the `kubernetes` client is needed only where a cluster runs jobs.

With Docker, service jobs (SageMaker Training) get a Docker executor of their own
(`create_training_runner`) to run training images on: the service-job engine polls every update
of its executor, so the two engines cannot share one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from emulator.config import Settings
from emulator.engine.clock import Clock
from emulator.executors.base import Executor
from emulator.stores.base import LogStore
from emulator.stores.resources import ResourceStore

if TYPE_CHECKING:
    from emulator.executors.docker import DockerExecutor
    from emulator.executors.kubernetes.executor import KubernetesExecutor

logger = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 2


class DockerUnavailableError(RuntimeError):
    """settings.executor is "docker" but no Docker daemon answers."""


def docker_available() -> bool:
    """True when a Docker daemon (DOCKER_HOST or the default socket) answers a ping within ~2 s."""
    import docker
    import docker.errors
    import requests.exceptions

    try:
        client = docker.from_env(timeout=PING_TIMEOUT_SECONDS)
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return False
    finally:
        client.close()


def resolve_executor_kind(settings: Settings) -> str:
    """`settings.executor`, with "auto" decided: docker when a daemon answers, else process."""
    if settings.executor != "auto":
        return settings.executor
    kind = "docker" if docker_available() else "process"
    logger.info("executor auto: chose %s", kind)
    return kind


def create_executor(
    settings: Settings, *, clock: Clock, log_store: LogStore, resources: ResourceStore | None = None
) -> Executor:
    """The executor `settings` name. `resources` (the Batch service's store) tells a Kubernetes
    executor each compute environment's cluster and namespace."""
    kind = resolve_executor_kind(settings)
    if kind == "kubernetes":
        return _kubernetes_executor(settings, log_store, resources)
    local = _local_executor(kind, settings, clock, log_store)
    if not settings.kube_context:
        return local
    from emulator.executors.kubernetes.routing import RoutingExecutor

    kubernetes = _kubernetes_executor(settings, log_store, resources)
    return RoutingExecutor(local, kubernetes, kubernetes.placements.is_eks_environment)


def _local_executor(kind: str, settings: Settings, clock: Clock, log_store: LogStore) -> Executor:
    if kind == "docker":
        return _docker_executor(settings, log_store)
    if kind == "process":
        from emulator.executors.process import ProcessExecutor

        return ProcessExecutor(log_store, stop_timeout_seconds=settings.stop_timeout_seconds)
    if kind == "simulated":
        from emulator.executors.simulated import SimulatedExecutor

        return SimulatedExecutor(clock, log_store=log_store)
    raise ValueError(
        f"unknown executor {settings.executor!r}; choose one of auto, docker, process, simulated, kubernetes"
    )


def _kubernetes_executor(
    settings: Settings, log_store: LogStore, resources: ResourceStore | None
) -> KubernetesExecutor:
    """Loads the default context at once, so that a missing client or kubeconfig stops the server
    at start with a plain message rather than failing every job."""
    from emulator.executors.kubernetes.clusters import Clusters, ContextMap
    from emulator.executors.kubernetes.executor import KubernetesExecutor
    from emulator.executors.kubernetes.placement import Placements
    from emulator.stores.resources import MemoryResourceStore

    contexts = ContextMap.parse(settings.kube_context)
    clusters = Clusters(contexts, settings.kubeconfig)
    clusters.client(contexts.default)
    endpoint = settings.public_url or f"http://{settings.host}:{settings.port}"
    if any(host in endpoint for host in ("//127.", "//localhost", "//[::1]")):
        logger.warning(
            "jobs get %s to call the emulator back, which pods in a cluster cannot reach; "
            "pass --public-url with an address the cluster can reach",
            endpoint,
        )
    return KubernetesExecutor(
        log_store,
        clusters,
        Placements(resources if resources is not None else MemoryResourceStore(), contexts),
        stop_timeout_seconds=settings.stop_timeout_seconds,
        max_workers=max(4, min(32, settings.max_running)),
        state_dir=settings.state_dir,
    )


def create_training_runner(
    settings: Settings, *, executor_kind: str, log_store: LogStore
) -> DockerExecutor | None:
    """The executor service jobs run training images on: a second Docker executor when jobs run
    on Docker (`executor_kind` as `resolve_executor_kind` decided), else None (simulated SageMaker).
    It leaves leftovers to the job executor, which removes those of every gone emulator."""
    if executor_kind != "docker":
        return None
    return _docker_executor(settings, log_store, remove_leftovers=False)


def _docker_executor(
    settings: Settings, log_store: LogStore, *, remove_leftovers: bool = True
) -> DockerExecutor:
    import docker.errors
    import requests.exceptions

    from emulator.executors.docker import DockerExecutor

    try:
        return DockerExecutor(
            log_store,
            stop_timeout_seconds=settings.stop_timeout_seconds,
            max_workers=max(1, settings.max_running),
            # With a state directory, leftovers are removed after the restored engine has adopted
            # the containers still running its attempts (DockerExecutor.remove_leftovers).
            remove_leftovers=remove_leftovers and not settings.state_dir,
        )
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise DockerUnavailableError(
            f"executor 'docker' needs a Docker daemon, and none answers ({exc}); start one, set DOCKER_HOST, "
            "or choose --executor process"
        ) from exc
