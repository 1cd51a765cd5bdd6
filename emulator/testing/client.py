"""ControlClient: the test controls (/_emulator/...) from Python.

Each call is signed with SigV4, by botocore's signer, so that the controls also answer an emulator
started with --auth: with the key pair given, else with the AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY of the environment, else unsigned. The emulator checks the signature against its keys whatever
region and service name the credential scope carries; the calls say `batch` and the region given.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, EnvProvider

SIGNING_SERVICE = "batch"


class ControlError(RuntimeError):
    """A test control refused the request; the message is the emulator's explanation."""


class ControlClient:
    def __init__(
        self,
        url: str,
        *,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        region_name: str = "us-east-1",
    ) -> None:
        self.url = url.rstrip("/") + "/_emulator"
        self.region_name = region_name
        self._credentials = _credentials(aws_access_key_id, aws_secret_access_key)

    def _call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(document or {}).encode() if method == "POST" else None
        headers = self._signed_headers(method, self.url + path, data)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
            detail = answer.get("message", error.reason)
            if "__type" in answer:  # refused as an AWS operation would be, e.g. an unsigned call
                detail = f"{answer['__type']}: {detail}"
            raise ControlError(f"{method} {path}: {detail}") from None

    def _signed_headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._credentials is None:
            return headers
        signed = AWSRequest(method=method, url=url, headers=headers, data=data or b"")
        SigV4Auth(self._credentials, SIGNING_SERVICE, self.region_name).add_auth(signed)
        return dict(signed.headers.items())

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


def _credentials(access_key_id: str | None, secret_access_key: str | None) -> Credentials | None:
    """The pair given, else the environment's variables; botocore's full chain is not consulted,
    since on a machine without credentials it would wait on instance metadata services."""
    if access_key_id and secret_access_key:
        return Credentials(access_key_id, secret_access_key)
    if access_key_id or secret_access_key:
        raise ValueError("ControlClient needs both aws_access_key_id and aws_secret_access_key, or neither")
    return EnvProvider().load()
