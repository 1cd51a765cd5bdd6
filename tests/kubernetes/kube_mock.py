"""A Kubernetes API server to test against (kmock's emulator, over real HTTP) and a kubelet for it.

kmock stores what is created, patched and deleted, and serves lists and watches, but runs nothing:
`Kubelet` plays the node. It watches pods through the official client and moves each one through
its phases as a real kubelet would: bound to a node, Pending while its containers are created, then
Running with a pod IP, then Succeeded or Failed with each container's exit code, or stuck on an
image it cannot pull. What a container does is chosen by its image (`Kubelet.outcomes`). A deleted
pod is terminated gracefully: the kubelet holds a finalizer, so the API server only marks the pod
deleted; the kubelet then records its containers killed by SIGTERM (exit 143) and releases it.
Container output is served at `pods/<name>/log`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kmock
from kubernetes import client, watch

PODS = kmock.resource("v1/pods")
FINALIZER = "kubelet.test/graceful"
NODE = "kind-worker"


@dataclass(frozen=True)
class Outcome:
    """What a container with a given image does."""

    exit_code: int = 0
    output: str = ""
    output_while_running: str | None = None  # what its log holds before it ends (default: `output`)
    run_seconds: float = 0.0  # how long it runs before it ends (the kubelet's, not the test's, time)
    hold: bool = False  # runs until `Kubelet.release` or deletion
    pull_error: bool = False
    oom: bool = False


class KubeApiServer:
    """kmock's Kubernetes emulator served on 127.0.0.1 from a thread of its own."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.kmock: Any = None
        self.url = ""
        self.log_source: Any = lambda namespace, name, container: b""
        self._thread = threading.Thread(target=self._serve, name="kmock", daemon=True)

    def start(self) -> KubeApiServer:
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("kmock did not start")
        return self

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
            emulator.resources["v1/pods"] = {
                "namespaced": True,
                "kind": "Pod",
                "subresources": ["log", "status"],
            }
            emulator[PODS, kmock.subresource("log")] << (
                lambda request: self.log_source(
                    request.namespace, request.name, request.params.get("container")
                )
            )
            self.kmock, self.url = emulator, str(server.url).rstrip("/")
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        """Ask the server to stop; its daemon thread may still be closing the watches that clients
        left open (aiohttp waits for them), which the test need not wait for."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(0.5)

    def in_loop(self, function: Any) -> Any:
        """Run `function()` on the server's loop (its objects are not thread-safe) and return its result."""

        async def call() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The pods that exist now (not deleted), as stored."""
        return self.in_loop(
            lambda: [
                obj.raw
                for (resource, ns, _), obj in self.kmock.objects.items()
                if resource == PODS and not obj.deleted and namespace in (None, ns)
            ]
        )

    def create_pod(self, manifest: dict[str, Any]) -> None:
        configuration = client.Configuration()
        configuration.host = self.url
        api = client.CoreV1Api(client.ApiClient(configuration))
        api.create_namespaced_pod(manifest["metadata"]["namespace"], manifest, _preload_content=False)

    def created_pods(self) -> list[dict[str, Any]]:
        """Every pod manifest ever POSTed, in order."""
        return self.in_loop(lambda: [request.data for request in self.kmock[kmock.action.CREATE, PODS]])

    def write_kubeconfig(self, path: Path, context: str = "kmock") -> Path:
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: kmock\n  cluster:\n    server: {self.url}\n"
            "users:\n- name: tester\n  user:\n    token: test-token\n"
            f"contexts:\n- name: {context}\n  context:\n    cluster: kmock\n    user: tester\n"
            f"current-context: {context}\n"
        )
        return path


class Kubelet:
    """Plays the node for every pod of the API server, one event at a time on its own thread."""

    def __init__(self, server: KubeApiServer) -> None:
        configuration = client.Configuration()
        configuration.host = server.url
        self._core = client.CoreV1Api(client.ApiClient(configuration))
        self.outcomes: dict[str, Outcome] = {}
        self._pods: dict[str, dict[str, Any]] = {}  # name -> what the kubelet knows: stage, namespace
        self._work: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._next_ip = 10
        self.max_running = 0  # most pods Pending or Running at once
        self._lock = threading.Lock()
        server.log_source = self._logs
        self._threads = [
            threading.Thread(target=self._watch, name="kubelet-watch", daemon=True),
            threading.Thread(target=self._act, name="kubelet", daemon=True),
        ]

    def start(self) -> Kubelet:
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._work.put(("stop", None))

    def release(self, name: str | None = None) -> None:
        """End the held pod `name` (every held pod when None) by its outcome."""
        self._work.put(("release", name))

    def running(self) -> list[str]:
        with self._lock:
            return [name for name, pod in self._pods.items() if pod["stage"] == "Running"]

    # -- the watch thread ------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._closed.is_set():
            try:
                for event in watch.Watch().stream(
                    self._core.list_pod_for_all_namespaces, timeout_seconds=5, _request_timeout=(5, 5)
                ):
                    self._work.put((event["type"], event["raw_object"]))
            except Exception:  # kmock keeps idle watches open: a read timeout ends each round
                continue

    # -- the acting thread ---------------------------------------------------------------------------

    def _act(self) -> None:
        while True:
            kind, item = self._work.get()
            if kind == "stop":
                return
            try:
                if kind == "release":
                    self._release(item)
                elif kind == "finish":
                    self._finish(item)
                elif kind != "DELETED":
                    self._observe(item)
                else:
                    self._forget(item["metadata"]["name"])
            except Exception as exc:  # a pod deleted under our feet; keep playing the others
                if getattr(exc, "status", None) != 404:
                    raise

    def _observe(self, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]
        name, namespace = metadata["name"], metadata["namespace"]
        known = self._pods.get(name)
        if metadata.get("deletionTimestamp"):
            if known is not None and known["stage"] != "gone":
                self._terminate(name)
            return
        if known is not None:
            return
        with self._lock:
            self._pods[name] = {"stage": "Pending", "namespace": namespace, "spec": pod["spec"]}
            self._count_running()
        self._core.patch_namespaced_pod(
            name, namespace, {"metadata": {"finalizers": [FINALIZER]}, "spec": {"nodeName": NODE}}
        )
        containers = self._containers(name)
        self._set_status(
            name, "Pending", [_status(c, {"waiting": {"reason": "ContainerCreating"}}) for c in containers]
        )
        unpullable = [c for c in containers if self._outcome(c).pull_error]
        if unpullable:
            image = unpullable[0]["image"]
            message = f'failed to pull and unpack image "{image}": not found'
            self._set_status(
                name,
                "Pending",
                [
                    _status(c, {"waiting": {"reason": "ErrImagePull", "message": message}})
                    if c in unpullable
                    else _status(c, {"waiting": {"reason": "PodInitializing"}})
                    for c in containers
                ],
            )
            return
        self._start(name)

    def _start(self, name: str) -> None:
        pod = self._pods[name]
        self._next_ip += 1
        pod["ip"] = f"10.244.0.{self._next_ip}"
        with self._lock:
            pod["stage"] = "Running"
            self._count_running()
        init = pod["spec"].get("initContainers") or []
        self._set_status(
            name,
            "Running",
            [
                _status(c, {"running": {"startedAt": "2026-01-01T00:00:00Z"}})
                for c in pod["spec"]["containers"]
            ],
            init=[_status(c, _terminated(0, "Completed")) for c in init],
        )
        outcomes = [self._outcome(c) for c in pod["spec"]["containers"]]
        if any(o.hold for o in outcomes):
            return
        delay = max(o.run_seconds for o in outcomes)
        timer = threading.Timer(delay, lambda: self._work.put(("finish", name)))
        timer.daemon = True
        timer.start()

    def _release(self, name: str | None) -> None:
        for pod_name in [name] if name is not None else self.running():
            self._finish(pod_name)

    def _finish(self, name: str) -> None:
        pod = self._pods.get(name)
        if pod is None or pod["stage"] != "Running":
            return
        statuses, failed = [], False
        for container in pod["spec"]["containers"]:
            outcome = self._outcome(container)
            code = 137 if outcome.oom else outcome.exit_code
            reason = "OOMKilled" if outcome.oom else ("Completed" if code == 0 else "Error")
            statuses.append(_status(container, _terminated(code, reason)))
            failed = failed or code != 0
        self._end(name, "Failed" if failed else "Succeeded", statuses)

    def _terminate(self, name: str) -> None:
        """A deleted pod: containers still running get SIGTERM (143); then the pod is released."""
        pod = self._pods[name]
        if pod["stage"] in ("Running", "Pending"):
            statuses = [_status(c, _terminated(143, "Error")) for c in pod["spec"]["containers"]]
            self._end(name, "Failed", statuses)
        pod["stage"] = "gone"
        self._core.patch_namespaced_pod(name, pod["namespace"], {"metadata": {"finalizers": []}})

    def _end(self, name: str, phase: str, statuses: list[dict[str, Any]]) -> None:
        pod = self._pods[name]
        init = [_status(c, _terminated(0, "Completed")) for c in pod["spec"].get("initContainers") or []]
        with self._lock:  # before the status is published: its log is then the whole output
            pod["stage"] = phase
            self._count_running()
        self._set_status(name, phase, statuses, init=init)

    def _forget(self, name: str) -> None:
        with self._lock:
            self._pods.pop(name, None)

    def _count_running(self) -> None:
        active = sum(1 for pod in self._pods.values() if pod["stage"] in ("Pending", "Running"))
        self.max_running = max(self.max_running, active)

    def _set_status(
        self,
        name: str,
        phase: str,
        statuses: list[dict[str, Any]],
        *,
        init: list[dict[str, Any]] | None = None,
    ) -> None:
        pod = self._pods[name]
        status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses, "hostIP": "172.18.0.2"}
        if init is not None:
            status["initContainerStatuses"] = init
        if pod.get("ip"):
            status["podIP"] = pod["ip"]
        self._core.patch_namespaced_pod_status(name, pod["namespace"], {"status": status})

    def _containers(self, name: str) -> list[dict[str, Any]]:
        spec = self._pods[name]["spec"]
        return [*(spec.get("initContainers") or []), *spec["containers"]]

    def _outcome(self, container: Mapping[str, Any]) -> Outcome:
        return self.outcomes.get(container["image"], Outcome())

    def _logs(self, namespace: str, name: str, container: str | None) -> bytes:
        pod = self._pods.get(name)
        if pod is None:
            return b""
        for spec in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]:
            if spec["name"] == container:
                outcome = self._outcome(spec)
                if pod["stage"] == "Running" and outcome.output_while_running is not None:
                    return outcome.output_while_running.encode()
                return outcome.output.encode()
        return b""


def _status(container: Mapping[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": f"{container['image']}@sha256:{'0' * 64}",
        "state": state,
        "ready": "running" in state,
        "restartCount": 0,
        "containerID": f"containerd://{container['name']}",
    }


def _terminated(exit_code: int, reason: str) -> dict[str, Any]:
    return {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": "2026-01-01T00:00:00Z"}}


def env_of(pod: Mapping[str, Any], container: int = 0) -> dict[str, str]:
    return {e["name"]: e["value"] for e in pod["spec"]["containers"][container]["env"]}


def iter_labels(pods: list[Mapping[str, Any]]) -> Iterator[Mapping[str, str]]:
    for pod in pods:
        yield pod["metadata"].get("labels") or {}


def assert_aws_batch_pod(pod: Mapping[str, Any], job_id: str, attempt: int = 1) -> None:
    """The shape AWS Batch on EKS documents for a job's pod: its name, the three
    `batch.amazonaws.com/*` labels, `restartPolicy: Never`, the `AWS_BATCH_*` environment in every
    container, and each application container's memory limit."""
    from emulator.executors.kubernetes.pods import label_value

    metadata, spec = pod["metadata"], pod["spec"]
    assert metadata["name"].startswith("aws-batch.")
    assert metadata["labels"]["batch.amazonaws.com/job-id"] == label_value(job_id)
    assert {"batch.amazonaws.com/compute-environment-uuid", "batch.amazonaws.com/node-uid"} <= set(
        metadata["labels"]
    )
    assert spec["restartPolicy"] == "Never"
    for index, container in enumerate(spec["containers"]):
        environment = env_of(pod, index)
        assert environment["AWS_BATCH_JOB_ID"] == job_id
        assert environment["AWS_BATCH_JOB_ATTEMPT"] == str(attempt)
        assert {"AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME"} <= set(environment)
        assert "memory" in container["resources"]["limits"]
