"""The bulk job operations: CancelJobs, TerminateJobs and TerminateServiceJobs.

Each applies its single-job operation to up to 50 ids and reports every id in `successful` or
`errors`; the call answers 200 even when some ids failed, and ids that can't be found count as
successful, as the model's documentation says. A request-level problem (too many ids, a reason
too long or empty) is a ClientException for the whole call, as for the single-job operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.protocol.dispatch import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.batch.submission import client_error

MAX_BULK_JOBS = 50
MAX_REASON_LENGTH = 1024


class BulkJobOperations:
    """Mixed into BatchProvider next to the single-job operations it calls."""

    def cancel_jobs(self, ctx: RequestContext, *, jobs: list[str], reason: str) -> dict[str, Any]:
        return _apply_each(jobs, reason, lambda job_id: self.cancel_job(ctx, job_id=job_id, reason=reason))

    def terminate_jobs(self, ctx: RequestContext, *, jobs: list[str], reason: str) -> dict[str, Any]:
        return _apply_each(jobs, reason, lambda job_id: self.terminate_job(ctx, job_id=job_id, reason=reason))

    def terminate_service_jobs(self, ctx: RequestContext, *, jobs: list[str], reason: str) -> dict[str, Any]:
        return _apply_each(
            jobs, reason, lambda job_id: self._terminate_service_job_if_known(ctx, job_id, reason)
        )

    def _terminate_service_job_if_known(self, ctx: RequestContext, job_id: str, reason: str) -> None:
        try:
            self.terminate_service_job(ctx, job_id=job_id, reason=reason)
        except ServiceError as error:
            if "not found" in error.message or "does not exist" in error.message:
                return  # unknown ids count as successful for the bulk call
            raise


def _apply_each(jobs: list[str], reason: str, apply: Callable[[str], Any]) -> dict[str, Any]:
    if not 1 <= len(jobs) <= MAX_BULK_JOBS:
        raise client_error(f"jobs must list between 1 and {MAX_BULK_JOBS} job IDs.", wrapped=True)
    if not reason:  # as for CancelJob and TerminateJob (jobs.py)
        raise client_error("reason is required.", wrapped=True)
    if len(reason) > MAX_REASON_LENGTH:
        raise client_error(f"Reason must be at most {MAX_REASON_LENGTH} characters.", wrapped=True)
    successful: list[str] = []
    errors: list[dict[str, str]] = []
    for job_id in jobs:
        try:
            apply(job_id)
        except ServiceError as error:
            errors.append({"job": job_id, "code": error.code, "message": error.message})
        else:
            successful.append(job_id)
    return {"successful": successful, "errors": errors}
