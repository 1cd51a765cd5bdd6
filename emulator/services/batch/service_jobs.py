"""Service jobs (SageMaker Training): SubmitServiceJob, DescribeServiceJob, ListServiceJobs,
TerminateServiceJob, UpdateServiceJob (reference §5.7, §21).

The service checks what AWS enforces beyond the model and hands the job to the ServiceJobEngine,
which owns its state and runs it through the lifecycle (engine/service_jobs.py). This module also
gives the engine its view of the control plane (`service_topology`) and renders the engine's
records as DescribeServiceJob / ServiceJobSummary shapes and as the detail of service-job events.

What the payload (a SageMaker CreateTrainingJob request as JSON) says is read by
`training_payload.py`: the capacity a job takes, its simulated outcome, and what running its
training image takes. A payload that is not a JSON object is accepted and taken as one instance
with no hyperparameters and no image (SageMaker would validate it; the emulator does not).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from emulator.engine.ids import new_job_id
from emulator.engine.service_jobs import (
    DuplicateServiceJobError,
    ServiceJobEngine,
    ServiceJobFinishedError,
    read_hyper_parameter_outcome,
)
from emulator.engine.service_records import (
    NUM_INSTANCES,
    QuotaShare,
    ServiceAttempt,
    ServiceEnvironment,
    ServiceExitRule,
    ServiceJob,
    ServiceJobStatus,
    ServiceJobSubmission,
    ServiceQueue,
    ServiceRetryPolicy,
    ServiceTimeLimitAction,
    ServiceTopology,
)
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, lifecycle, rules, tokens
from emulator.services.batch.resources import ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags
from emulator.services.batch.training_payload import read_payload

FILTER_NAMES = ("JOB_NAME", "BEFORE_CREATED_AT", "AFTER_CREATED_AT", "SHARE_IDENTIFIER", "QUOTA_SHARE_NAME")
TRAINING_JOB_ARN = "TrainingJobArn"
EVENT_OMITS = frozenset({"tags", "serviceRequestPayload"})  # DescribeServiceJob members events leave out


class ServiceJobOperations(ResourceAccess):
    service_engine: ServiceJobEngine

    def submit_service_job(
        self,
        ctx: RequestContext,
        *,
        job_name: str,
        job_queue: str,
        service_request_payload: str,
        service_job_type: str,
        retry_strategy: dict[str, Any] | None = None,
        scheduling_priority: int | None = None,
        share_identifier: str | None = None,
        quota_share_name: str | None = None,
        preemption_configuration: dict[str, Any] | None = None,
        timeout_config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        client_token: str | None = None,
    ) -> dict[str, Any]:
        """A second submit with the same client token and request is rejected (reference §1.8)."""
        rules.check_name("Job", job_name, rules.SERVICE_JOB_NAME)
        rules.check_tags(tags)
        if len(service_request_payload.encode()) > rules.MAX_SERVICE_REQUEST_PAYLOAD_BYTES:
            raise errors.invalid("serviceRequestPayload must be less than 10 KiB")
        rules.check_retry_strategy(retry_strategy, service_job=True)
        rules.check_range("schedulingPriority", scheduling_priority, 0, rules.MAX_SCHEDULING_PRIORITY)
        if timeout_config is not None:
            rules.check_range("attemptDurationSeconds", timeout_config.get("attemptDurationSeconds"), 1)
        request = {
            "jobName": job_name,
            "serviceRequestPayload": service_request_payload,
            "serviceJobType": service_job_type,
            "retryStrategy": retry_strategy,
            "schedulingPriority": scheduling_priority,
            "shareIdentifier": share_identifier,
            "quotaShareName": quota_share_name,
            "preemptionConfiguration": preemption_configuration,
            "timeoutConfig": timeout_config,
        }
        with self.store.lock:
            queue = self.require_queue(ctx, job_queue)
            self._check_queue(ctx, queue, share_identifier, quota_share_name, service_job_type)
            environment = self._queue_environment(queue)
        payload = read_payload(service_request_payload)
        _check_hyper_parameters(payload.hyper_parameters)
        job_id = new_job_id()
        arn = arns.build_arn(ctx, arns.SERVICE_JOB, job_id)
        submission = ServiceJobSubmission(
            job_id=job_id,
            job_arn=arn,
            job_name=job_name,
            queue_arn=queue["_arn"],
            service_job_type=service_job_type,
            service_request_payload=service_request_payload,
            instance_count=payload.instance_count,
            instance_type=payload.instance_type,
            capacity_unit=_capacity_unit(environment, payload.instance_type, quota_share_name is not None),
            retry=_retry_policy(retry_strategy),
            scheduling_priority=scheduling_priority,
            share_identifier=share_identifier,
            quota_share_name=quota_share_name,
            preemption_retries_before_termination=(preemption_configuration or {}).get(
                "preemptionRetriesBeforeTermination"
            ),
            attempt_duration_seconds=(timeout_config or {}).get("attemptDurationSeconds"),
            client_token=client_token,
            request_digest=_digest(queue["_arn"], request, tags),
            hyper_parameters=payload.hyper_parameters,
            training_container=payload.training_container,
        )
        try:
            self.service_engine.submit(submission)
        except DuplicateServiceJobError:
            raise errors.invalid("A service job with this clientToken was already submitted") from None
        set_tags(self.store, arn, tags)
        return {"jobArn": arn, "jobName": job_name, "jobId": job_id}

    def describe_service_job(self, ctx: RequestContext, *, job_id: str) -> dict[str, Any]:
        job = self._require_job(ctx, job_id)
        return render_detail(job, get_tags(self.store, job.submission.job_arn))

    def list_service_jobs(
        self,
        ctx: RequestContext,
        *,
        job_queue: str | None = None,
        job_status: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
        filters: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Newest first. Without filters the status defaults to RUNNING, as ListJobs does; with
        filters every status is searched unless `jobStatus` is given."""
        queue_arn = self.require_queue(ctx, job_queue)["_arn"] if job_queue is not None else None
        status = job_status or (None if filters else "RUNNING")
        predicates = [_filter_predicate(entry) for entry in filters or ()]
        prefix = arns.tenant_prefix(ctx)
        jobs = [
            job
            for job in self.service_engine.list_jobs(
                queue_arn=queue_arn, status=ServiceJobStatus(status) if status else None
            )
            if job.submission.job_arn.startswith(prefix) and all(predicate(job) for predicate in predicates)
        ]
        jobs.reverse()
        page, token = tokens.paginate(
            "ListServiceJobs",
            jobs,
            lambda job: -job.sequence,
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"jobSummaryList": [render_summary(job) for job in page]}
        if token:
            result["nextToken"] = token
        return result

    def terminate_service_job(self, ctx: RequestContext, *, job_id: str, reason: str) -> dict[str, Any]:
        """Any status before SUCCEEDED/FAILED ends FAILED with `reason` and `isTerminated`; a
        finished job is left as it is and the call still succeeds, as TerminateJob does."""
        self._require_job(ctx, job_id)
        self.service_engine.terminate(job_id, reason)
        return {}

    def update_service_job(
        self, ctx: RequestContext, *, job_id: str, scheduling_priority: int
    ) -> dict[str, Any]:
        rules.check_range("schedulingPriority", scheduling_priority, 0, rules.MAX_SCHEDULING_PRIORITY)
        job = self._require_job(ctx, job_id)
        try:
            self.service_engine.update_priority(job_id, scheduling_priority)
        except ServiceJobFinishedError as error:
            raise errors.invalid(f"Service job {job_id} is in {error} status and cannot be updated") from None
        return {"jobArn": job.submission.job_arn, "jobName": job.job_name, "jobId": job_id}

    # ---- the engine's view of the control plane ----

    def service_topology(self) -> ServiceTopology:
        """Service environments, SageMaker queues and quota shares of every tenant, as records.
        Called by the engine at the start of each pass, never under the engine's lock."""
        from emulator.services.batch.policies import KIND as POLICY_KIND
        from emulator.services.batch.queues import KIND as QUEUE_KIND
        from emulator.services.batch.quota_shares import KIND as SHARE_KIND
        from emulator.services.batch.service_environments import KIND as SE_KIND

        now = self.now_ms()
        environments = {
            document["_arn"]: ServiceEnvironment(
                arn=document["_arn"],
                is_enabled=document["state"] == "ENABLED",
                capacity_limits=_limits(document["capacityLimits"]),
            )
            for document in self.store.list(SE_KIND)
            if not lifecycle.is_gone(document, now) and not lifecycle.is_deleting(document)
        }
        policies = {document["_arn"]: document for document in self.store.list(POLICY_KIND)}
        queues = {}
        for document in self.store.list(QUEUE_KIND):
            order = document.get("serviceEnvironmentOrder")
            if not order or lifecycle.is_gone(document, now):
                continue
            policy = policies.get(document.get("schedulingPolicyArn", ""), {})
            queues[document["_arn"]] = ServiceQueue(
                arn=document["_arn"],
                priority=document["priority"],
                service_environment_arn=order[0]["serviceEnvironment"],
                is_enabled=document["state"] == "ENABLED",
                is_fair_share="fairsharePolicy" in policy,
                is_quota_share="quotaSharePolicy" in policy,
                time_limit_actions=tuple(
                    ServiceTimeLimitAction(a["reason"], a["state"], a["maxTimeSeconds"], a["action"])
                    for a in document.get("jobStateTimeLimitActions", ())
                ),
                is_deleted=lifecycle.is_deleting(document),
            )
        shares = {
            (document["jobQueueArn"], document["quotaShareName"]): QuotaShare(
                queue_arn=document["jobQueueArn"],
                name=document["quotaShareName"],
                is_enabled=document["state"] == "ENABLED",
                capacity_limits=_limits(document["capacityLimits"]),
                strategy=document["resourceSharingConfiguration"]["strategy"],
            )
            for document in self.store.list(SHARE_KIND)
            if not lifecycle.is_gone(document, now) and not lifecycle.is_deleting(document)
        }
        return ServiceTopology(environments, queues, shares)

    # ---- internals ----

    def _check_queue(
        self,
        ctx: RequestContext,
        queue: dict[str, Any],
        share_identifier: str | None,
        quota_share_name: str | None,
        service_job_type: str,
    ) -> None:
        from emulator.services.batch.policies import KIND as POLICY_KIND
        from emulator.services.batch.quota_shares import KIND as SHARE_KIND

        if queue.get("jobQueueType") != service_job_type:
            raise errors.invalid(
                f"Job queue {queue['jobQueueName']} does not accept {service_job_type} service jobs"
            )
        if queue["state"] != "ENABLED":
            raise errors.invalid(f"Job queue {queue['jobQueueName']} is not in ENABLED state")
        policy = self.store.get(POLICY_KIND, queue.get("schedulingPolicyArn", "")) or {}
        if share_identifier is not None and "fairsharePolicy" not in policy:
            raise errors.conflict(
                "Job with shareIdentifier or schedulingPriority can onlybe submitted to job queue with fair share "
                "scheduling policy."
            )
        if "quotaSharePolicy" in policy:
            if quota_share_name is None:
                raise errors.invalid("quotaShareName is required for job queues with a quota share policy")
            share_arn = arns.quota_share_arn(ctx, queue["jobQueueName"], quota_share_name)
            if self.live_document(SHARE_KIND, share_arn) is None:
                raise errors.not_found("Quota share", quota_share_name)
        elif quota_share_name is not None:
            raise errors.invalid("quotaShareName is only valid for job queues with a quota share policy")

    def _queue_environment(self, queue: dict[str, Any]) -> dict[str, Any] | None:
        from emulator.services.batch.service_environments import KIND as SE_KIND

        order = queue.get("serviceEnvironmentOrder") or ()
        return self.store.get(SE_KIND, order[0]["serviceEnvironment"]) if order else None

    def _require_job(self, ctx: RequestContext, job_id: str) -> ServiceJob:
        job = self.service_engine.get_job(job_id)
        if job is None or job.submission.job_arn != arns.build_arn(ctx, arns.SERVICE_JOB, job_id):
            raise errors.not_found("Service job", job_id)
        return job


# ---- views ------------------------------------------------------------------------------------


def render_detail(job: ServiceJob, tags: dict[str, str]) -> dict[str, Any]:
    """DescribeServiceJob's output for `job`."""
    submission = job.submission
    view: dict[str, Any] = {
        "attempts": [_attempt_view(attempt) for attempt in job.attempts],
        "capacityUsage": _capacity_usage(job),
        "createdAt": job.created_at_ms,
        "isTerminated": job.is_terminated,
        "jobArn": submission.job_arn,
        "jobId": job.job_id,
        "jobName": job.job_name,
        "jobQueue": submission.queue_arn,
        "serviceRequestPayload": submission.service_request_payload,
        "serviceJobType": submission.service_job_type,
        "status": job.status.value,
        "tags": tags,
    }
    latest = job.latest_attempt
    optional = {
        "latestAttempt": {"serviceResourceId": _resource_id(latest)} if latest is not None else None,
        "retryStrategy": _retry_view(submission.retry),
        "scheduledAt": job.scheduled_at_ms,
        "schedulingPriority": job.scheduling_priority,
        "shareIdentifier": submission.share_identifier,
        "quotaShareName": submission.quota_share_name,
        "preemptionConfiguration": (
            {"preemptionRetriesBeforeTermination": submission.preemption_retries_before_termination}
            if submission.preemption_retries_before_termination is not None
            else None
        ),
        "startedAt": job.started_at_ms,
        "statusReason": job.status_reason,
        "stoppedAt": job.stopped_at_ms,
        "timeoutConfig": (
            {"attemptDurationSeconds": submission.attempt_duration_seconds}
            if submission.attempt_duration_seconds is not None
            else None
        ),
    }
    view.update({key: value for key, value in optional.items() if value is not None})
    return view


def render_event_detail(job: ServiceJob) -> dict[str, Any]:
    """The detail of "Batch Service Job State Change" and "Batch Service Job Queue Blocked"
    events (reference §22): DescribeServiceJob's output without `tags` and
    `serviceRequestPayload`. Reads nothing but the record."""
    return {key: value for key, value in render_detail(job, {}).items() if key not in EVENT_OMITS}


def render_summary(job: ServiceJob) -> dict[str, Any]:
    """A ServiceJobSummary for ListServiceJobs."""
    latest = job.latest_attempt
    summary: dict[str, Any] = {
        "capacityUsage": _capacity_usage(job),
        "createdAt": job.created_at_ms,
        "jobArn": job.submission.job_arn,
        "jobId": job.job_id,
        "jobName": job.job_name,
        "serviceJobType": job.submission.service_job_type,
        "status": job.status.value,
    }
    optional = {
        "latestAttempt": {"serviceResourceId": _resource_id(latest)} if latest is not None else None,
        "scheduledAt": job.scheduled_at_ms,
        "shareIdentifier": job.submission.share_identifier,
        "quotaShareName": job.submission.quota_share_name,
        "statusReason": job.status_reason,
        "startedAt": job.started_at_ms,
        "stoppedAt": job.stopped_at_ms,
    }
    summary.update({key: value for key, value in optional.items() if value is not None})
    return summary


def _resource_id(attempt: ServiceAttempt) -> dict[str, str]:
    return {"name": TRAINING_JOB_ARN, "value": attempt.training_job_arn}


def _attempt_view(attempt: ServiceAttempt) -> dict[str, Any]:
    view: dict[str, Any] = {"serviceResourceId": _resource_id(attempt)}
    for key, value in (
        ("startedAt", attempt.started_at_ms),
        ("stoppedAt", attempt.stopped_at_ms),
        ("statusReason", attempt.status_reason),
    ):
        if value is not None:
            view[key] = value
    return view


def _capacity_usage(job: ServiceJob) -> list[dict[str, Any]]:
    return [{"capacityUnit": job.submission.capacity_unit, "quantity": float(job.submission.instance_count)}]


def _retry_view(retry: ServiceRetryPolicy | None) -> dict[str, Any] | None:
    if retry is None:
        return None
    view: dict[str, Any] = {"attempts": retry.attempts}
    if retry.exit_rules:
        view["evaluateOnExit"] = [
            {
                "action": rule.action,
                **({"onStatusReason": rule.on_status_reason} if rule.on_status_reason else {}),
            }
            for rule in retry.exit_rules
        ]
    return view


# ---- submission helpers -----------------------------------------------------------------------


def _retry_policy(strategy: dict[str, Any] | None) -> ServiceRetryPolicy | None:
    if strategy is None:
        return None
    return ServiceRetryPolicy(
        attempts=strategy["attempts"],
        exit_rules=tuple(
            ServiceExitRule(rule["action"], rule.get("onStatusReason"))
            for rule in strategy.get("evaluateOnExit") or ()
        ),
    )


def _limits(limits: list[dict[str, Any]]) -> tuple[tuple[str, int], ...]:
    return tuple((limit["capacityUnit"], int(limit["maxCapacity"])) for limit in limits)


def _capacity_unit(
    environment: dict[str, Any] | None, instance_type: str | None, in_quota_share: bool
) -> str:
    """NUM_INSTANCES where the environment counts instances; the instance type where capacity is
    managed per type (quota management)."""
    units = [limit["capacityUnit"] for limit in (environment or {}).get("capacityLimits", ())]
    if NUM_INSTANCES in units and not in_quota_share:
        return NUM_INSTANCES
    if instance_type is not None:
        return instance_type
    typed = [unit for unit in units if unit != NUM_INSTANCES]
    return typed[0] if typed else NUM_INSTANCES


def _digest(queue_arn: str, request: dict[str, Any], tags: dict[str, str] | None) -> str:
    payload = json.dumps([queue_arn, request, tags or {}], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _check_hyper_parameters(hyper_parameters: tuple[tuple[str, str], ...]) -> None:
    """The emulator's own HyperParameters (engine/service_jobs.py) must be readable: refused here,
    a bad duration or count never reaches a pass."""
    if hyper_parameters:
        try:
            read_hyper_parameter_outcome(dict(hyper_parameters))
        except ValueError as error:
            raise errors.invalid(str(error)) from None


def _filter_predicate(entry: dict[str, Any]):
    name, values = entry.get("name"), entry.get("values") or []
    if name not in FILTER_NAMES or not values:
        raise errors.invalid(f"Invalid filter: {name}")
    value = values[0]
    if name == "JOB_NAME":
        return lambda job: rules.name_matches(value, job.job_name)
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT"):
        bound = rules.read_epoch_ms(name, value)
        if name == "BEFORE_CREATED_AT":
            return lambda job: job.created_at_ms < bound
        return lambda job: job.created_at_ms > bound
    if name == "SHARE_IDENTIFIER":
        return lambda job: job.submission.share_identifier == value
    return lambda job: job.submission.quota_share_name == value
