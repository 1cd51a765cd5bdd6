"""ControlClient: the test controls (/_emulator/...) from Python, with nothing but the stdlib."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ControlError(RuntimeError):
    """A test control refused the request; the message is the emulator's explanation."""


class ControlClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/_emulator"

    def _call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(document or {}).encode() if method == "POST" else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("message", error.reason)
            raise ControlError(f"{method} {path}: {detail}") from None

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def now_ms(self) -> int:
        return self._call("GET", "/clock")["nowMs"]

    def pause_clock(self) -> int:
        return self._call("POST", "/clock/pause")["nowMs"]

    def resume_clock(self) -> int:
        return self._call("POST", "/clock/resume")["nowMs"]

    def advance_clock(self, seconds: float) -> int:
        return self._call("POST", "/clock/advance", {"seconds": seconds})["nowMs"]

    def script_outcome(
        self,
        key: str,
        *,
        exit_code: int = 0,
        duration_seconds: float = 0,
        output: list[str] | tuple[str, ...] = (),
        fail_to_start_reason: str | None = None,
        reason: str | None = None,
    ) -> None:
        """One outcome for every attempt of the jobs `key` names (simulated executor)."""
        self.script_outcomes(
            key,
            [
                {
                    "exitCode": exit_code,
                    "durationSeconds": duration_seconds,
                    "output": list(output),
                    "failToStartReason": fail_to_start_reason,
                    "reason": reason,
                }
            ],
        )

    def script_outcomes(self, key: str, outcomes: list[dict[str, Any]]) -> None:
        """Outcome n for attempt n; the last repeats."""
        self._call("POST", "/outcomes", {"key": key, "outcomes": outcomes})

    def script_service_job_outcome(
        self,
        key: str,
        *,
        succeeded: bool = True,
        failure_reason: str | None = None,
        duration_seconds: float = 0,
        scheduled_seconds: float = 0,
        starting_seconds: float = 0,
        insufficient_capacity: int = 0,
    ) -> None:
        """One outcome for every attempt of the service jobs `key` (job id or name) names: the
        simulated SageMaker behind SubmitServiceJob."""
        self.script_service_job_outcomes(
            key,
            [
                {
                    "succeeded": succeeded,
                    "failureReason": failure_reason,
                    "durationSeconds": duration_seconds,
                    "scheduledSeconds": scheduled_seconds,
                    "startingSeconds": starting_seconds,
                    "insufficientCapacity": insufficient_capacity,
                }
            ],
        )

    def script_service_job_outcomes(self, key: str, outcomes: list[dict[str, Any]]) -> None:
        """Outcome n for attempt n of the service job; the last repeats."""
        self._call("POST", "/service-job-outcomes", {"key": key, "outcomes": outcomes})

    def terminate_host(self, job_id: str) -> None:
        self._call("POST", f"/jobs/{job_id}/fault", {"fault": "host-termination"})

    def kill_out_of_memory(self, job_id: str) -> None:
        self._call("POST", f"/jobs/{job_id}/fault", {"fault": "oom"})

    def make_image_unpullable(self, image: str) -> None:
        self._call("POST", "/images/unpullable", {"image": image})

    def job_history(self, job_id: str) -> list[tuple[str, int]]:
        return [
            (item["status"], item["atMs"]) for item in self._call("GET", f"/jobs/{job_id}/history")["history"]
        ]

    def events(self, job_id: str | None = None, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The EventBridge-shaped events the emulator produced, oldest first (reference §22):
        "Batch Job State Change", "Batch Job Queue Blocked", "Batch Service Job State Change" and
        "Batch Service Job Queue Blocked". `job_id` keeps those of one job or service job,
        `detail_type` those of one detail-type."""
        query = {name: value for name, value in (("jobId", job_id), ("detailType", detail_type)) if value}
        suffix = "?" + urllib.parse.urlencode(query) if query else ""
        return self._call("GET", "/events" + suffix)["events"]
