"""Test controls: the emulator's own endpoints under /_emulator/, outside AWS's API.

    GET  /_emulator/health                     {"status": "ok", "executor": ..., "region": ...}
                                               (with --auth and no signature: {"status": "ok"})
    POST /_emulator/reset                      forget every resource, job and log; stop what runs
    GET  /_emulator/clock                      {"nowMs": ..., "paused": ...}
    POST /_emulator/clock/pause                freeze the engine's clock
    POST /_emulator/clock/resume               let it run again (time never goes backwards)
    POST /_emulator/clock/advance              {"seconds": 30} move it forward
    POST /_emulator/outcomes                   {"key": job id | array parent id | job name | definition ARN,
                                                "outcomes": [{"exitCode": 1, "durationSeconds": 5,
                                                              "output": ["line"], "failToStartReason": "...",
                                                              "reason": "..."}]}   (simulated executor)
    POST /_emulator/jobs/<job id>/fault        {"fault": "host-termination" | "oom"}
    POST /_emulator/images/unpullable          {"image": "repo/name:tag"}
    GET  /_emulator/jobs/<job id>/history      the job's status changes with their times
    GET  /_emulator/events?jobId=&detailType=  {"events": [...]} EventBridge-shaped events, oldest first:
                                               job and queue-blocked events of jobs and service jobs
                                               (services/batch/events.py); jobId is either kind's id
    POST /_emulator/service-job-outcomes       {"key": service job id | job name,
                                                "outcomes": [{"succeeded": false, "failureReason": "...",
                                                              "scheduledSeconds": 0, "startingSeconds": 0,
                                                              "durationSeconds": 5,
                                                              "insufficientCapacity": 0}]}
                                               (the simulated SageMaker; any executor)

`emulator.testing.client.ControlClient` calls them from Python. `test_controls=False`
(EMULATOR_TEST_CONTROLS=false) switches them off.

With --auth every control needs a SigV4 signature by one of the configured keys, as the AWS
operations do: they reset the server, inject faults and read every job's history. The one
exception is an unsigned GET /health, a liveness probe (a container's health check, a script
waiting for the port) that then answers {"status": "ok"} and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from emulator.engine import numeric_text

if TYPE_CHECKING:
    from emulator.app import Runtime

# Checks the current request's signature: the refusal to answer with, or None when it is good.
SignatureCheck = Callable[[], Response | None]

OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"


def _bad_request(message: str, status: int = 400):
    return jsonify(message=message), status


def body() -> dict[str, Any]:
    document = request.get_json(silent=True)
    return document if isinstance(document, dict) else {}


def _as_text(value: Any) -> str:
    """A JSON number (or a numeric string) as text for the strict readers of numeric_text, which
    refuse what a client must not script: NaN, infinities, exit codes outside 0-255, durations
    past ten years. A boolean is not a number."""
    return repr(value) if isinstance(value, bool) else str(value)


def _read(item: dict[str, Any], key: str, reader: Callable[[str], int]) -> int:
    """The member `key` of a scripted outcome (0 when absent); ValueError naming it."""
    try:
        return reader(_as_text(item.get(key, 0)))
    except ValueError as error:
        raise ValueError(f"{key} {error}") from None


def _seconds_ms(item: dict[str, Any], key: str) -> int:
    return _read(item, key, _milliseconds)


def _milliseconds(seconds: str) -> int:
    return numeric_text.duration_ms(seconds, ms_per_unit=1000)


def _capacity_failures(count: str) -> int:
    return numeric_text.read_integer(count, 0, numeric_text.INT32_MAX)


def create_controls_blueprint(
    runtime: Runtime, *, check_signature: SignatureCheck | None = None
) -> Blueprint:
    """`check_signature` (with --auth) guards every control but the unsigned liveness probe."""
    controls = Blueprint("emulator_controls", __name__)
    if check_signature is not None:
        _require_signatures(controls, check_signature)
    _add_health_control(controls, runtime, signatures_required=check_signature is not None)
    _add_state_controls(controls, runtime)
    _add_clock_controls(controls, runtime)
    _add_outcome_controls(controls, runtime)
    _add_fault_controls(controls, runtime)
    _add_event_controls(controls, runtime)
    _add_service_job_controls(controls, runtime)
    return controls


def _is_unsigned_liveness_probe() -> bool:
    return request.endpoint == "emulator_controls.health" and "Authorization" not in request.headers


def _require_signatures(controls: Blueprint, check_signature: SignatureCheck) -> None:
    @controls.before_request
    def refuse_unsigned():
        # A signed health check is verified like any call, so a wrong key is refused, not ignored.
        return None if _is_unsigned_liveness_probe() else check_signature()


def _add_health_control(controls: Blueprint, runtime: Runtime, *, signatures_required: bool) -> None:
    @controls.get("/health")
    def health():
        if signatures_required and _is_unsigned_liveness_probe():
            return jsonify(status="ok")  # alive, and nothing about the server to whoever asks
        return jsonify(
            status="ok",
            executor=type(runtime.executor.inner).__name__,
            region=runtime.settings.region,
            accountId=runtime.settings.account_id,
        )


def _add_state_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.post("/reset")
    def reset():
        runtime.reset()
        return jsonify(status="reset")

    @controls.get("/jobs/<job_id>/history")
    def history(job_id: str):
        job = runtime.engine.get_job(job_id)
        if job is None:
            return _bad_request(f"job {job_id} not found", 404)
        return jsonify(
            jobId=job_id,
            history=[{"status": status.value, "atMs": at_ms} for status, at_ms in job.transitions],
        )


def _add_clock_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.get("/clock")
    def clock():
        return jsonify(nowMs=runtime.clock.now_ms(), paused=runtime.clock.is_paused)

    @controls.post("/clock/pause")
    def pause():
        return jsonify(nowMs=runtime.clock.pause(), paused=True)

    @controls.post("/clock/resume")
    def resume():
        return jsonify(nowMs=runtime.clock.resume(), paused=False)

    @controls.post("/clock/advance")
    def advance():
        seconds = body().get("seconds")
        try:
            milliseconds = _milliseconds(_as_text(seconds))
        except ValueError:
            limit = numeric_text.MAX_SIMULATED_DURATION_MS // 1000
            return _bad_request(f"advance needs a number of seconds from 0 to {limit}")
        now = runtime.clock.advance(milliseconds)
        return jsonify(nowMs=now, paused=runtime.clock.is_paused)


def _add_outcome_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.post("/outcomes")
    def outcomes():
        from emulator.executors.simulated import Outcome, SimulatedExecutor

        if not isinstance(runtime.executor.inner, SimulatedExecutor):
            return _bad_request("scripted outcomes need the simulated executor (--executor simulated)", 409)
        document = body()
        key = document.get("key")
        scripted = document.get("outcomes")
        if not isinstance(key, str) or not isinstance(scripted, list) or not scripted:
            return _bad_request('outcomes needs {"key": str, "outcomes": [ {...}, ... ]}')
        try:
            parsed = [
                Outcome(
                    exit_code=_read(item, "exitCode", numeric_text.exit_code),
                    duration_ms=_seconds_ms(item, "durationSeconds"),
                    output=tuple(str(line) for line in item.get("output", ())),
                    fail_to_start_reason=item.get("failToStartReason"),
                    reason=item.get("reason"),
                )
                for item in scripted
            ]
        except (AttributeError, TypeError, ValueError) as error:
            return _bad_request(f"invalid outcome: {error}")
        runtime.executor.inner.script(key, *parsed)
        return jsonify(key=key, outcomes=len(parsed))


def _add_fault_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.post("/jobs/<job_id>/fault")
    def fault(job_id: str):
        if runtime.engine.get_job(job_id) is None:
            return _bad_request(f"job {job_id} not found", 404)
        kind = body().get("fault")
        if kind == "host-termination":
            runtime.engine.simulate_host_termination(job_id)
        elif kind == "oom":
            runtime.engine.fail_attempt(job_id, OOM_REASON, 137)
        else:
            return _bad_request('fault must be "host-termination" or "oom"')
        return jsonify(jobId=job_id, fault=kind)

    @controls.post("/images/unpullable")
    def unpullable():
        image = body().get("image")
        if not isinstance(image, str) or not image:
            return _bad_request('unpullable needs {"image": "repo/name:tag"}')
        runtime.executor.make_unpullable(image)
        return jsonify(image=image)


def _add_event_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.get("/events")
    def events():
        return jsonify(
            events=runtime.events.events(
                job_id=request.args.get("jobId"), detail_type=request.args.get("detailType")
            )
        )


def _add_service_job_controls(controls: Blueprint, runtime: Runtime) -> None:
    @controls.post("/service-job-outcomes")
    def service_job_outcomes():
        from emulator.engine.service_jobs import DEFAULT_FAILURE_REASON, ServiceOutcome

        document = body()
        key = document.get("key")
        scripted = document.get("outcomes")
        if not isinstance(key, str) or not isinstance(scripted, list) or not scripted:
            return _bad_request('service-job-outcomes needs {"key": str, "outcomes": [ {...}, ... ]}')
        try:
            parsed = [
                ServiceOutcome(
                    succeeded=bool(item.get("succeeded", True)),
                    failure_reason=str(item.get("failureReason") or DEFAULT_FAILURE_REASON),
                    scheduled_ms=_seconds_ms(item, "scheduledSeconds"),
                    starting_ms=_seconds_ms(item, "startingSeconds"),
                    duration_ms=_seconds_ms(item, "durationSeconds"),
                    insufficient_capacity=_read(item, "insufficientCapacity", _capacity_failures),
                )
                for item in scripted
            ]
        except (AttributeError, TypeError, ValueError) as error:
            return _bad_request(f"invalid service job outcome: {error}")
        runtime.batch.service_engine.script(key, *parsed)
        return jsonify(key=key, outcomes=len(parsed))
