"""wrk, the load generator of the `server` workload: a request replayed as fast as the server answers.

boto3 costs more per call than the server does (about 1.5 ms to sign and send a SubmitJob, 17 ms to
parse a DescribeJobs answer of 100 jobs), so a Python client measures mostly itself. wrk is C and
event-driven: what it measures is the server. It comes from the distribution's packages
(`apt-get install wrk` on Debian and Ubuntu, `brew install wrk` on macOS); `find_wrk` returns
None where it is absent, and the workload says so and skips.

Each run replays one recorded request (method, path, headers and body as boto3 sent them) and
reports through a Lua `done` hook, as one line of JSON, so nothing depends on wrk's text layout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

INSTALL_HINT = "install it from your distribution's packages: `apt-get install wrk` (Debian, Ubuntu)"
RESULT_MARKER = "WRK_RESULT "
# Headers wrk writes itself from the URL and the body.
_WRK_OWN_HEADERS = frozenset({"host", "content-length"})

_DONE_HOOK = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    "WRK_RESULT ", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

# Stops the thread after `limit` answers: `fill` submits a number of jobs, not a duration's worth.
_STOP_AFTER = """
local answered = 0
function response(status, headers, body)
  answered = answered + 1
  if answered >= %d then wrk.thread:stop() end
end
"""


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as a client sent it, to be replayed byte for byte (less Host and length)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def from_prepared(cls, prepared) -> RecordedRequest:
        """From botocore's AWSPreparedRequest (the `before-send` event's `request`)."""
        parts = urlsplit(prepared.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {
            name: value.decode() if isinstance(value, bytes) else str(value)
            for name, value in prepared.headers.items()
            if name.lower() not in _WRK_OWN_HEADERS
        }
        return cls(prepared.method, path or "/", headers, body)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    status_errors: int  # answers outside 2xx and 3xx
    socket_errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


def find_wrk() -> str | None:
    return shutil.which("wrk")


def lua_script(request: RecordedRequest, *, stop_after: int | None = None) -> str:
    """The request as wrk's Lua globals; strings in long brackets, so nothing needs escaping."""

    def literal(text: str) -> str:
        level = "="
        while f"]{level}]" in text:
            level += "="
        return f"[{level}[{text}]{level}]"

    lines = [
        f"wrk.method = {literal(request.method)}",
        f"wrk.path = {literal(request.path)}",
        f"wrk.body = {literal(request.body.decode('latin-1'))}",
    ]
    # `headers[ [=[x]=] ]`: without the spaces, `[[` would open a long string.
    lines += [f"wrk.headers[ {literal(name)} ] = {literal(value)}" for name, value in request.headers.items()]
    if stop_after is not None:
        lines.append(_STOP_AFTER % stop_after)
    lines.append(_DONE_HOOK)
    return "\n".join(lines) + "\n"


def parse_result(output: str) -> WrkResult:
    line = next((line for line in output.splitlines() if line.startswith(RESULT_MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {output[-2000:]}")
    figures = json.loads(line[len(RESULT_MARKER) :])
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        status_errors=figures["status_errors"],
        socket_errors=figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        mean_ms=figures["mean_us"] / 1000,
    )


def run(
    wrk: str,
    url: str,
    request: RecordedRequest,
    *,
    connections: int,
    seconds: float,
    stop_after: int | None = None,
) -> WrkResult:
    """One thread of wrk (the server, not wrk, should use the machine's cores), `connections`
    connections, for `seconds` or until `stop_after` answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(request, stop_after=stop_after))
    try:
        finished = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(script.name)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return parse_result(finished.stdout)
