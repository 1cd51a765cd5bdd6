"""wait_for_job: poll a job until it reaches a status, and explain why when it does not.

On failure the message names the job's status, its statusReason, the container reason and exit
code, and the tail of its log stream, which is what one needs to see to debug a failing test.
"""

from __future__ import annotations

import time
from typing import Any

TERMINAL = {"SUCCEEDED", "FAILED"}


class JobWaitError(AssertionError):
    """The job did not reach the wanted status."""


def wait_for_job(
    batch_client: Any,
    job_id: str,
    status: str = "SUCCEEDED",
    *,
    timeout_seconds: float = 30.0,
    logs_client: Any = None,
    poll_seconds: float = 0.02,
) -> dict[str, Any]:
    """Return the job's DescribeJobs detail once it is in `status`; raise JobWaitError if it ends
    in another terminal status or the deadline passes."""
    deadline = time.monotonic() + timeout_seconds
    detail: dict[str, Any] = {}
    while True:
        jobs = batch_client.describe_jobs(jobs=[job_id])["jobs"]
        if not jobs:
            raise JobWaitError(f"job {job_id} does not exist")
        detail = jobs[0]
        current = detail["status"]
        if current == status:
            return detail
        if current in TERMINAL and status in TERMINAL | {"RUNNING", "STARTING", "RUNNABLE", "PENDING"}:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(poll_seconds)
    raise JobWaitError(_explain(detail, status, timeout_seconds, logs_client))


def _explain(detail: dict[str, Any], wanted: str, timeout_seconds: float, logs_client: Any) -> str:
    container = detail.get("container") or {}
    lines = [
        f"job {detail.get('jobId')} ({detail.get('jobName')}) is {detail.get('status')}, "
        f"expected {wanted} (waited up to {timeout_seconds:g} s)",
        f"  statusReason: {detail.get('statusReason', '-')}",
        f"  container reason: {container.get('reason', '-')}, exitCode: {container.get('exitCode', '-')}",
        f"  attempts: {len(detail.get('attempts') or [])}",
    ]
    stream = container.get("logStreamName")
    if logs_client is not None and stream:
        group = ((container.get("logConfiguration") or {}).get("options") or {}).get(
            "awslogs-group", "/aws/batch/job"
        )
        try:
            events = logs_client.get_log_events(logGroupName=group, logStreamName=stream, limit=20)["events"]
            lines.append(f"  last log lines ({group} {stream}):")
            lines.extend(f"    {event['message']}" for event in events)
        except Exception as exc:  # the explanation must never hide the real failure
            lines.append(f"  (log tail unavailable: {exc})")
    return "\n".join(lines)
