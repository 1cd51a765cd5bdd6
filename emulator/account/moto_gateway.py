"""moto's server inside this process: built on the first request for it, reset with ours.

moto is imported only when a request first needs it (about 0.7 s of imports), so a server or a
test session that only uses Batch and Logs starts as fast as before. Its dispatcher is moto's
own (`DomainDispatcherApplication`), asked which backend serves a request the way moto's server
asks it, except that a request it cannot place is reported (None) instead of sent to S3.

moto keeps its state in process-wide backend dictionaries, so every emulator app in a process
shares one moto: a reset of any of them clears moto for all (`reset_moto`).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from emulator.account.routing import MOTO_PATH_PREFIXES, CredentialScope

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Any]


class MotoGateway:
    def __init__(self, *, on_unrouted: Callable[[Any], Any] | None = None) -> None:
        """`on_unrouted(error)` answers a request moto's app has no route for (its 404 and 405
        would otherwise be HTML pages); it runs inside moto's Flask app, with its request."""
        self._on_unrouted = on_unrouted
        self._lock = threading.Lock()
        self._dispatcher: Any = None
        self._modules: frozenset[str] = frozenset()

    @property
    def is_loaded(self) -> bool:
        return self._dispatcher is not None

    def backend_for(self, environ: dict, scope: CredentialScope | None) -> str | None:
        """The moto backend for this request: by `scope` when signed, by moto's unsigned
        conventions otherwise (a body with an unsigned STS action, a `/service_region/` path...)."""
        dispatcher = self._loaded()
        path = environ.get("PATH_INFO", "")
        if path.startswith(MOTO_PATH_PREFIXES[0]):
            return "moto_api"
        if path.startswith(MOTO_PATH_PREFIXES[1:]):
            return "instance_metadata"
        probe = {key: value for key, value in environ.items() if key != "HTTP_AUTHORIZATION"}
        probe.setdefault("HTTP_HOST", "")  # moto reads it unguarded for S3
        if scope is not None:  # presigned requests too: moto reads the scope from this header only
            probe["HTTP_AUTHORIZATION"] = (
                f"AWS4-HMAC-SHA256 Credential={scope.access_key}/00000000/{scope.region or 'us-east-1'}/{scope.service}/aws4_request"
            )
        try:
            host = dispatcher.infer_service_region_host(probe, path)
        except Exception:  # moto's inference assumes well-formed requests; anything else is not moto's
            host = None
        finally:
            environ["wsgi.input"] = probe["wsgi.input"]  # moto may have read the body and replaced it
        return self._backend_named(host) if host else None

    def serve(self, backend: str, environ: dict, start_response: Callable) -> Any:
        """Hand the request to the moto backend's Flask app. Its exceptions propagate."""
        dispatcher = self._loaded()
        with dispatcher.lock:
            app = dispatcher.app_instances.get(backend)
            if app is None:
                app = dispatcher.create_app(backend)
                if self._on_unrouted is not None:
                    from werkzeug.exceptions import MethodNotAllowed, NotFound

                    app.register_error_handler(NotFound, self._on_unrouted)
                    app.register_error_handler(MethodNotAllowed, self._on_unrouted)
                dispatcher.app_instances[backend] = app
        return app(environ, start_response)

    def _backend_named(self, host: str) -> str | None:
        """moto's host -> backend lookup, without the warning it prints for hosts it lacks."""
        if host in ("moto_api", *self._modules):
            return host
        for backend, pattern in self._dispatcher.backend_url_patterns:
            if pattern.match(f"http://{host}"):
                return backend
        return None

    def _loaded(self) -> Any:
        if self._dispatcher is None:
            with self._lock:
                if self._dispatcher is None:
                    self._dispatcher, self._modules = _build_dispatcher()
        return self._dispatcher


def _build_dispatcher() -> tuple[Any, frozenset[str]]:
    from moto.backends import list_of_moto_modules
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    log.info("moto %s loaded: serving every AWS service it implements", moto_version())
    return DomainDispatcherApplication(create_backend_app), frozenset(list_of_moto_modules())


def moto_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moto")
    except PackageNotFoundError:
        return "unknown"


def reset_moto() -> None:
    """Forget every resource of every moto backend in this process; nothing to do while moto was
    never imported. moto's own reset re-creates each backend it used and then drops it, which
    costs EC2's default VPCs and IAM's managed policies on every call (~150 ms); only backends
    with clean-up of their own (S3 closes its temporary files, Batch stops its job threads) need
    that, so the rest are dropped as they are and re-created on first use."""
    if "moto.core.base_backend" not in sys.modules:
        return
    from moto.core.base_backend import BackendDict, BaseBackend, backend_lock
    from moto.core.model_instances import reset_model_data

    with backend_lock:
        for service in BackendDict._instances:
            for _account, _region, backend in service.iter_backends():
                if type(backend).reset is not BaseBackend.reset:
                    backend.reset()
            service.clear()
        BackendDict._instances.clear()
    reset_model_data()
