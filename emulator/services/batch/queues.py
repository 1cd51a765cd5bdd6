"""Job queues: Create/Update/Delete/DescribeJobQueues (reference §4.3, §5.2), and the queue lookups
the job operations use (`resolve_queue`, `queue_arn_for`).

A queue orders 1-3 compute environments (never EC2 and Fargate together) or exactly one service
environment. The engine is told the topology after every change (`JobQueue` record); SageMaker
queues are not sent to it because it runs container jobs only.
"""

from __future__ import annotations

from typing import Any

from emulator.engine.records import JobQueue, TimeLimitAction
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, lifecycle, rules, tokens
from emulator.services.batch.environments import is_fargate
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags
from emulator.stores.resources import ResourceStore

KIND = "job-queue"
HEALTHY = "JobQueue Healthy"
SAGEMAKER = "SAGEMAKER_TRAINING"


def queue_arn_for(ctx: RequestContext, name_or_arn: str) -> str | None:
    """The queue ARN a name-or-ARN input designates in the caller's tenant (None: another tenant)."""
    return arns.arn_for(ctx, arns.JOB_QUEUE, name_or_arn)


def resolve_queue(
    store: ResourceStore, ctx: RequestContext, name_or_arn: str, now_ms: int | None = None
) -> dict[str, Any] | None:
    """The queue as DescribeJobQueues shows it (with `tags`), or None when unknown or deleted.

    `now_ms` gives the transitional status its current value; without it every transition is taken
    as finished (a queue being deleted is then already gone)."""
    arn = queue_arn_for(ctx, name_or_arn)
    document = store.get(KIND, arn) if arn else None
    if document is None or lifecycle.is_gone(document, now_ms) or lifecycle.is_deleting(document):
        return None
    return _queue_view(document, get_tags(store, arn), now_ms)


def _queue_view(document: dict[str, Any], tags: dict[str, str], now_ms: int | None) -> dict[str, Any]:
    view = lifecycle.public_view(document, now_ms)
    view["tags"] = tags
    if view["status"] == lifecycle.VALID:
        view["statusReason"] = HEALTHY
    return view


class JobQueueOperations(ResourceAccess):
    def create_job_queue(
        self,
        ctx: RequestContext,
        *,
        job_queue_name: str,
        priority: int,
        state: str | None = None,
        scheduling_policy_arn: str | None = None,
        compute_environment_order: list[dict[str, Any]] | None = None,
        service_environment_order: list[dict[str, Any]] | None = None,
        job_queue_type: str | None = None,
        tags: dict[str, str] | None = None,
        job_state_time_limit_actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        rules.check_name("Job queue", job_queue_name)
        rules.check_tags(tags)
        _check_priority(priority)
        if (compute_environment_order is None) == (service_environment_order is None):
            raise errors.invalid(
                "Exactly one of computeEnvironmentOrder or serviceEnvironmentOrder must be specified"
            )
        arn = arns.build_arn(ctx, arns.JOB_QUEUE, job_queue_name)
        with self.store.lock:
            existing = self.live_documents(KIND, ctx)
            if any(other["jobQueueName"] == job_queue_name for other in existing):
                raise errors.already_exists()
            if len(existing) >= rules.MAX_JOB_QUEUES:
                raise errors.limit_exceeded("job queues", rules.MAX_JOB_QUEUES)
            document: dict[str, Any] = {
                "_arn": arn,
                SEQUENCE: self.next_sequence(),
                "jobQueueName": job_queue_name,
                "jobQueueArn": arn,
                "state": state or "ENABLED",
                "priority": priority,
                "computeEnvironmentOrder": [],
                "jobStateTimeLimitActions": [],
            }
            if job_queue_type is not None:
                document["jobQueueType"] = job_queue_type
            self._apply_environments(ctx, document, compute_environment_order, service_environment_order)
            if scheduling_policy_arn is not None:
                self._check_policy(ctx, scheduling_policy_arn)
                document["schedulingPolicyArn"] = scheduling_policy_arn
            if job_state_time_limit_actions is not None:
                document["jobStateTimeLimitActions"] = _checked_actions(
                    document, job_state_time_limit_actions
                )
            lifecycle.begin(document, lifecycle.CREATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
        self._publish_queue(document)
        return {"jobQueueName": job_queue_name, "jobQueueArn": arn}

    def update_job_queue(
        self,
        ctx: RequestContext,
        *,
        job_queue: str,
        state: str | None = None,
        scheduling_policy_arn: str | None = None,
        priority: int | None = None,
        compute_environment_order: list[dict[str, Any]] | None = None,
        service_environment_order: list[dict[str, Any]] | None = None,
        job_state_time_limit_actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Lists given replace the queue's lists; a FIFO queue can never gain a policy (§4.3)."""
        with self.store.lock:
            document = self.require_queue(ctx, job_queue)
            if priority is not None:
                _check_priority(priority)
                document["priority"] = priority
            if state is not None:
                document["state"] = state
            if compute_environment_order is not None or service_environment_order is not None:
                self._apply_environments(ctx, document, compute_environment_order, service_environment_order)
            if scheduling_policy_arn is not None:
                if "schedulingPolicyArn" not in document:
                    raise errors.invalid(
                        "A scheduling policy cannot be added to a job queue created without one"
                    )
                self._check_policy(ctx, scheduling_policy_arn)
                document["schedulingPolicyArn"] = scheduling_policy_arn
            if job_state_time_limit_actions is not None:
                document["jobStateTimeLimitActions"] = _checked_actions(
                    document, job_state_time_limit_actions
                )
            lifecycle.begin(document, lifecycle.UPDATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, document["_arn"], document)
        self._publish_queue(document)
        return {"jobQueueName": document["jobQueueName"], "jobQueueArn": document["jobQueueArn"]}

    def delete_job_queue(self, ctx: RequestContext, *, job_queue: str) -> dict[str, Any]:
        """Needs state DISABLED and no update in progress; the engine terminates the queue's jobs.
        The queue's quota shares go with it."""
        from emulator.services.batch.quota_shares import KIND as SHARE_KIND

        with self.store.lock:
            document = self.live_document(KIND, queue_arn_for(ctx, job_queue))
            if document is None:
                raise errors.job_queue_not_found(job_queue)
            if lifecycle.is_deleting(document):
                return {}
            if document["state"] != "DISABLED":
                raise errors.must_be_disabled("job queue")
            if lifecycle.current_status(document, self.now_ms()) in (lifecycle.UPDATING, lifecycle.CREATING):
                raise errors.being_modified()
            lifecycle.begin(document, lifecycle.DELETING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, document["_arn"], document)
            for share in self.live_documents(SHARE_KIND, ctx):
                if share["jobQueueArn"] == document["_arn"]:
                    self._purge(SHARE_KIND, share["_arn"])
        if document.get("computeEnvironmentOrder"):
            self.engine.remove_queue(document["_arn"])
        return {}

    def describe_job_queues(
        self,
        ctx: RequestContext,
        *,
        job_queues: list[str] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Unknown names and ARNs are silently left out; results come in creation order."""
        rules.check_describe_ids("job queues", job_queues)
        documents = self.live_documents(KIND, ctx)
        if job_queues is not None:
            wanted = {queue_arn_for(ctx, given) for given in job_queues}
            documents = [document for document in documents if document["_arn"] in wanted]
        page, token = tokens.paginate(
            "DescribeJobQueues",
            documents,
            lambda d: d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        now = self.now_ms()
        result: dict[str, Any] = {
            "jobQueues": [_queue_view(d, get_tags(self.store, d["_arn"]), now) for d in page]
        }
        if token:
            result["nextToken"] = token
        return result

    # ---- shared ----

    def require_queue(self, ctx: RequestContext, given: str) -> dict[str, Any]:
        document = self.live_document(KIND, queue_arn_for(ctx, given))
        if document is None or lifecycle.is_deleting(document):
            raise errors.job_queue_not_found(given)
        return document

    def _apply_environments(
        self,
        ctx: RequestContext,
        document: dict[str, Any],
        compute_order: list[dict[str, Any]] | None,
        service_order: list[dict[str, Any]] | None,
    ) -> None:
        is_service_queue = "serviceEnvironmentOrder" in document
        if compute_order is not None:
            if is_service_queue:
                raise errors.invalid(
                    "computeEnvironmentOrder is not applicable for SAGEMAKER_TRAINING job queues"
                )
            document["computeEnvironmentOrder"] = self._checked_compute_order(ctx, document, compute_order)
        if service_order is not None:
            if document.get("computeEnvironmentOrder"):
                raise errors.invalid(
                    "serviceEnvironmentOrder is not applicable for job queues with compute environments"
                )
            document["serviceEnvironmentOrder"] = self._checked_service_order(ctx, document, service_order)

    def _checked_compute_order(
        self, ctx: RequestContext, document: dict[str, Any], order: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if not 1 <= len(order) <= rules.MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE:
            raise errors.invalid(
                f"A job queue must have between 1 and {rules.MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE} compute environments"
            )
        environments = []
        for entry in order:
            environment = self.require_compute_environment(ctx, entry["computeEnvironment"])
            if lifecycle.current_status(environment, self.now_ms()) == lifecycle.INVALID:
                raise errors.invalid(
                    f"Compute environment {entry['computeEnvironment']} is not in VALID status"
                )
            environments.append(environment)
        arns_given = [environment["_arn"] for environment in environments]
        if len(set(arns_given)) != len(arns_given):
            raise errors.invalid("A compute environment can appear only once in computeEnvironmentOrder")
        if len({is_fargate(environment) for environment in environments}) > 1:
            raise errors.invalid(
                "Job queue cannot have a mix of EC2/SPOT and FARGATE/FARGATE_SPOT compute environments"
            )
        if len({environment["containerOrchestrationType"] for environment in environments}) > 1:
            raise errors.invalid("Job queue cannot have a mix of ECS and EKS compute environments")
        expected = _queue_type_for(environments[0])
        if document.get("jobQueueType", expected) != expected:
            raise errors.invalid(
                f"jobQueueType {document['jobQueueType']} does not match the compute environments"
            )
        entries = [
            {"order": entry["order"], "computeEnvironment": environment["_arn"]}
            for entry, environment in zip(order, environments, strict=True)
        ]
        return sorted(entries, key=lambda entry: entry["order"])

    def _checked_service_order(
        self, ctx: RequestContext, document: dict[str, Any], order: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        from emulator.services.batch.service_environments import KIND as SE_KIND

        if len(order) != 1:
            raise errors.invalid("A job queue must have exactly 1 service environment")
        given = order[0]["serviceEnvironment"]
        environment = self.live_document(SE_KIND, arns.arn_for(ctx, arns.SERVICE_ENVIRONMENT, given))
        if environment is None or lifecycle.is_deleting(environment):
            raise errors.not_found("Service environment", given)
        for queue in self.live_documents(KIND, ctx):
            if queue["_arn"] != document["_arn"] and any(
                entry["serviceEnvironment"] == environment["_arn"]
                for entry in queue.get("serviceEnvironmentOrder", ())
            ):
                raise errors.invalid(f"Service environment {given} is already associated with a job queue")
        if document.get("jobQueueType", SAGEMAKER) != SAGEMAKER:
            raise errors.invalid(
                f"jobQueueType {document['jobQueueType']} does not match the service environment"
            )
        document["jobQueueType"] = SAGEMAKER
        return [{"order": order[0]["order"], "serviceEnvironment": environment["_arn"]}]

    def _check_policy(self, ctx: RequestContext, policy_arn: str) -> None:
        from emulator.services.batch.policies import KIND as POLICY_KIND

        if not policy_arn.startswith(arns.tenant_prefix(ctx) + arns.SCHEDULING_POLICY + "/"):
            raise errors.not_found("Scheduling policy", policy_arn)
        if self.live_document(POLICY_KIND, policy_arn) is None:
            raise errors.not_found("Scheduling policy", policy_arn)

    def _publish_queue(self, document: dict[str, Any]) -> None:
        from emulator.services.batch.policies import KIND as POLICY_KIND
        from emulator.services.batch.policies import fair_share_policy

        if document.get("jobQueueType") == SAGEMAKER:
            return
        policy = self.store.get(POLICY_KIND, document.get("schedulingPolicyArn", ""))
        self.engine.put_queue(
            JobQueue(
                arn=document["_arn"],
                name=document["jobQueueName"],
                is_enabled=document["state"] == "ENABLED",
                priority=document["priority"],
                compute_environment_arns=tuple(
                    e["computeEnvironment"] for e in document["computeEnvironmentOrder"]
                ),
                time_limit_actions=tuple(
                    TimeLimitAction(a["reason"], a["state"], a["maxTimeSeconds"], a["action"])
                    for a in document["jobStateTimeLimitActions"]
                ),
                is_fair_share=policy is not None and "fairsharePolicy" in policy,
                fair_share=fair_share_policy(policy),
            )
        )


def _queue_type_for(environment: dict[str, Any]) -> str:
    if environment["containerOrchestrationType"] == "EKS":
        return "EKS"
    return "ECS_FARGATE" if is_fargate(environment) else "ECS"


def _check_priority(priority: int) -> None:
    # The real range is unverified (Appendix D item 9): only negative values are refused.
    if priority < 0:
        raise errors.invalid("priority must be at least 0")


def _checked_actions(document: dict[str, Any], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reference §16.6: RUNNABLE only, 600-86400 s, CANCEL on container queues and TERMINATE on
    SageMaker queues."""
    expected_action = "TERMINATE" if document.get("jobQueueType") == SAGEMAKER else "CANCEL"
    for action in actions:
        rules.check_range(
            "maxTimeSeconds",
            action["maxTimeSeconds"],
            rules.MIN_TIME_LIMIT_SECONDS,
            rules.MAX_TIME_LIMIT_SECONDS,
        )
        if action["action"] != expected_action:
            raise errors.invalid(f"action must be {expected_action} for this job queue")
    return [dict(action) for action in actions]
