"""Serving the app: the main listener, plus the one Docker jobs use to call the emulator back;
the fast path that serves AWS operations without Flask's per-request machinery; and the garbage
collector's settings for a long-running server.

A server bound to 127.0.0.1 is out of reach of containers: inside one, `host.docker.internal`
resolves to the Docker bridge's gateway address, not to the host's loopback. So when jobs run in
Docker and the emulator listens on loopback, it also listens on the bridge gateway, same port.
That address exists only on this host (containers and the host itself reach it), so the
loopback-only promise of the default bind still holds for the network outside.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from emulator.config import Settings

log = logging.getLogger(__name__)

# Allocations between young collections, and collections between older ones (Python: 700, 10, 10).
COLLECTOR_THRESHOLDS = (10_000, 20, 100)


def docker_bridge_gateway() -> str | None:
    """The default bridge network's gateway address, or None where there is none (no daemon,
    Docker Desktop's VM, a daemon without a bridge)."""
    import docker
    import requests

    try:
        client = docker.from_env(timeout=5)
        try:
            configs = client.networks.get("bridge").attrs.get("IPAM", {}).get("Config") or []
        finally:
            client.close()
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return None
    for config in configs:
        if config.get("Gateway") and ":" not in config["Gateway"]:
            return config["Gateway"]
        if config.get("Subnet") and ":" not in config["Subnet"]:
            # Some daemons leave Gateway out for the default bridge: it is the subnet's first host.
            return str(next(ipaddress.ip_network(config["Subnet"], strict=False).hosts()))
    return None


def start_callback_listener(app: Flask, settings: Settings, executor_name: str):
    """Listen on the bridge gateway too when Docker jobs could not otherwise reach a loopback server."""
    if executor_name != "DockerExecutor" or not settings.is_loopback:
        return None
    gateway = docker_bridge_gateway()
    if gateway is None:
        return None
    from emulator.testing.server import ServerThread  # emulator.testing imports this module

    try:
        listener = ServerThread(app, gateway, settings.port).start()
    except OSError as error:
        log.warning(
            "jobs in containers cannot call the emulator back: listening on %s failed: %s", gateway, error
        )
        return None
    log.info("containers reach the emulator at http://%s:%d (host.docker.internal)", gateway, settings.port)
    return listener


class AwsFastPath:
    """WSGI middleware before Flask: a request that Flask's own URL map gives to the AWS view is
    served by `serve` directly, without Flask's request context, hooks and response finishing,
    which cost as much as the rest of a SubmitJob under load. The map decides, so the emulator's
    own endpoints and anything registered beside them still go through Flask, and an AWS request
    is answered by the same function either way."""

    def __init__(self, app: Flask, endpoints: tuple[str, ...], serve: Callable[[Request], Response]) -> None:
        self._flask_wsgi = app.wsgi_app
        self._url_map = app.url_map
        self._endpoints = frozenset(endpoints)
        self._serve = serve

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            endpoint, _ = self._url_map.bind_to_environ(environ).match()
        except HTTPException:  # Flask answers what its map refuses (an AWS-shaped 404 or 405)
            endpoint = None
        if endpoint not in self._endpoints:
            return self._flask_wsgi(environ, start_response)
        return self._serve(Request(environ))(environ, start_response)


def tune_garbage_collector() -> None:
    """Fewer, larger young collections, and full ones rarely; what start-up built is left out of them.

    With Python's defaults a server holding 10,000 jobs ran a full collection every few hundred
    requests under load, each walking every job record (200 ms on the benchmark machine): the
    requests in flight then waited, and those pauses were the p99 of every operation. Objects that
    an answer of 100 jobs holds while a young collection runs count towards the next full one, so
    big answers under concurrency made them frequent. Start-up's objects (the service models, the
    libraries) never become garbage: `gc.freeze` moves them out of every collection. For the
    standalone server only: the pytest plugin's server runs in the test process, whose collector
    belongs to the test suite."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
