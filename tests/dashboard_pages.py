"""Reading the dashboard over HTTP in tests: a page's status, headers and text, 4xx included;
submitting to the `default` queue of --bootstrap and reading the job ids a job list shows."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

UI = "/_emulator/ui"
ACTION_HEADER = {"X-Dashboard-Action": "1"}
LONG = [{"name": "BATCH_EMULATOR_DURATION_MS", "value": "600000"}]
FAIL = [{"name": "BATCH_EMULATOR_EXIT_CODE", "value": "3"}]
HOSTILE = "<script>alert(1)</script>"


@dataclass
class Page:
    status: int
    headers: Any
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def fetch(
    base_url: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Page:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(f"{base_url}{UI}{path}", data=data, method=method, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Page(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Page(error.code, error.headers, error.read().decode())


def basic(access_key_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{access_key_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def submit(batch, name: str, environment: list | None = None, **extra) -> str:
    overrides = {"containerOverrides": {"environment": environment}} if environment else {}
    return batch.submit_job(jobName=name, jobQueue="default", jobDefinition="default", **overrides, **extra)[
        "jobId"
    ]


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-job-id="([^"]+)"', html)
