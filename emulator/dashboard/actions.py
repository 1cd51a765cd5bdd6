"""The dashboard's buttons: Cancel and Terminate call the CancelJob and TerminateJob operations of
the Batch service, as a client's call would; reset, pause, resume and advance act as the test
controls do, and exist only where those are on.

Each is a POST that must carry the `X-Dashboard-Action` header, which the dashboard's own script
sets: another site's page can make a browser send a form, but not a custom header without a CORS
preflight this server never grants, so a visited page cannot reset the emulator or stop jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request

from emulator.dashboard.errors import PageError, bad_request, not_found
from emulator.dashboard.scope import request_scope

if TYPE_CHECKING:
    from emulator.dashboard.blueprint import Dashboard

ACTION_HEADER = "X-Dashboard-Action"
DEFAULT_REASON = "Stopped from the batch-emulator dashboard"
MAX_ADVANCE_SECONDS = 366 * 24 * 3600


def add_routes(blueprint: Blueprint, dashboard: Dashboard) -> None:
    settings = dashboard.runtime.settings

    @blueprint.before_request
    def require_action_header():
        if request.method == "POST" and ACTION_HEADER not in request.headers:
            raise PageError(
                403, f"Dashboard actions are sent by its own script, with an {ACTION_HEADER} header."
            )

    @blueprint.post("/jobs/<job_id>/cancel")
    def cancel(job_id: str):
        return _stop(dashboard, job_id, dashboard.batch.cancel_job)

    @blueprint.post("/jobs/<job_id>/terminate")
    def terminate(job_id: str):
        return _stop(dashboard, job_id, dashboard.batch.terminate_job)

    @blueprint.post("/controls/<action>")
    def control(action: str):
        if not settings.test_controls:
            raise not_found("Test controls are off (EMULATOR_TEST_CONTROLS=false).")
        runtime, clock = dashboard.runtime, dashboard.runtime.clock
        if action == "reset":
            runtime.reset()
        elif action == "pause":
            clock.pause()
        elif action == "resume":
            clock.resume()
        elif action == "advance":
            clock.advance(int(_seconds(_body().get("seconds")) * 1000))
        else:
            raise not_found(f"No control named {action!r}; use reset, pause, resume or advance.")
        return jsonify(action=action, nowMs=clock.now_ms(), paused=getattr(clock, "is_paused", False))


def _stop(dashboard: Dashboard, job_id: str, operation) -> Any:
    ctx = request_scope(dashboard.runtime.settings)
    if dashboard.batch.job_record(ctx, job_id) is None:
        raise not_found(f"Job {job_id} does not exist in account {ctx.account_id}, region {ctx.region}.")
    reason = str(_body().get("reason") or DEFAULT_REASON)
    operation(ctx, job_id=job_id, reason=reason)  # a ServiceError (reason too long) becomes a 400
    return jsonify(jobId=job_id)


def _body() -> dict[str, Any]:
    document = request.get_json(silent=True)
    return document if isinstance(document, dict) else {}


def _seconds(given: Any) -> float:
    if isinstance(given, str):
        try:
            given = float(given)
        except ValueError:
            given = None
    if not isinstance(given, int | float) or isinstance(given, bool) or not 0 <= given <= MAX_ADVANCE_SECONDS:
        raise bad_request("advance needs a number of seconds from 0 to a year.")
    return float(given)
