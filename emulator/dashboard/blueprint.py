"""The dashboard's blueprint: what every request gets (the key check under --auth, timing, errors
as readable pages), and the routes of `pages`, `live` and `actions`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Blueprint, Response, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from emulator.dashboard import access, actions, live, pages
from emulator.dashboard.errors import PageError
from emulator.dashboard.formatting import FILTERS
from emulator.dashboard.scope import carried_scope
from emulator.protocol.auth import parse_keys
from emulator.protocol.errors import ServiceError
from emulator.services.logs.provider import LogsProvider

if TYPE_CHECKING:
    from emulator.app import Runtime
    from emulator.services.batch.provider import BatchProvider

log = logging.getLogger(__name__)

UI_PREFIX = "/_emulator/ui"


@dataclass(frozen=True)
class Dashboard:
    """What the routes read: the runtime's services, and a Logs provider over its log store
    (providers hold no state, so this one is the API's in all but identity)."""

    runtime: Runtime
    logs: LogsProvider

    @property
    def batch(self) -> BatchProvider:
        return self.runtime.batch


def create_dashboard_blueprint(runtime: Runtime) -> Blueprint:
    dashboard = Dashboard(runtime, LogsProvider(store=runtime.logs, clock=runtime.clock))
    blueprint = Blueprint(
        "dashboard", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
    )
    blueprint.add_app_template_global(_dashboard_url, "dashboard_url")
    for name, function in FILTERS.items():
        blueprint.add_app_template_filter(function, name)
    keys = parse_keys(runtime.settings.auth_keys) if runtime.settings.auth_keys else {}
    _add_request_hooks(blueprint, keys)

    @blueprint.context_processor
    def page_globals() -> dict[str, object]:
        return {"controls_on": runtime.settings.test_controls}

    _add_error_pages(blueprint, runtime)
    pages.add_routes(blueprint, dashboard)
    live.add_routes(blueprint, dashboard)
    actions.add_routes(blueprint, dashboard)

    @blueprint.route("/<path:unknown>")
    def unknown_page(unknown: str):
        raise PageError(404, f"The dashboard has no page at {request.path}.")

    return blueprint


def _dashboard_url(endpoint: str, **values) -> str:
    """url_for a dashboard endpoint, keeping the account and region the page was opened with."""
    return url_for(f"dashboard.{endpoint}", **{**carried_scope(), **values})


def _add_request_hooks(blueprint: Blueprint, keys: dict[str, str]) -> None:
    @blueprint.before_request
    def check_key_pair():
        g.dashboard_started = time.perf_counter()
        if keys and not access.is_authorized(keys, request.headers.get("Authorization")):
            return access.challenge()
        return None

    @blueprint.after_request
    def add_timing(response: Response) -> Response:
        started = g.get("dashboard_started")
        if started is not None:  # what the benchmark reads: the server's own time for the page
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        if request.endpoint != "dashboard.static":
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        return response


def _add_error_pages(blueprint: Blueprint, runtime: Runtime) -> None:
    @blueprint.errorhandler(PageError)
    def page_error(error: PageError):
        return _error_page(error.status, error.message)

    @blueprint.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        status = 404 if error.code == "ResourceNotFoundException" else min(max(error.status, 400), 499)
        return _error_page(status, error.message)

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _error_page(error.code or 400, error.description or error.name)

    @blueprint.errorhandler(Exception)
    def unexpected(error: Exception):
        """One readable page, never a traceback; logged once and recorded for the test harness."""
        log.exception("dashboard failed serving %s", request.path)
        runtime.server_errors.record(error)
        return _error_page(500, "The dashboard failed to render this page; the server log has the details.")


def _error_page(status: int, message: str):
    wants_json = request.accept_mimetypes.best == "application/json"
    if wants_json:
        return {"message": message}, status
    return render_template("dashboard/error.html", status=status, message=message), status
