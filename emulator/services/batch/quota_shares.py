"""Quota shares of SageMaker job queues: Create/Update/Delete/Describe/ListQuotaShares (reference
§4.8, §5.8). ARN only (`job-queue/<queue>/quota-share/<share>`); status CREATING -> VALID,
UPDATING -> VALID, DELETING -> gone (quota shares have no DELETED status).
"""

from __future__ import annotations

from typing import Any

from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, lifecycle, rules, tokens
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags

KIND = "quota-share"
MAX_CAPACITY_LIMITS = 5


def _check_share_settings(
    capacity_limits: list[dict[str, Any]] | None, sharing: dict[str, Any] | None
) -> None:
    if capacity_limits is not None:
        if not 1 <= len(capacity_limits) <= MAX_CAPACITY_LIMITS:
            raise errors.invalid(f"capacityLimits must contain between 1 and {MAX_CAPACITY_LIMITS} entries")
        for limit in capacity_limits:
            rules.check_range("maxCapacity", limit["maxCapacity"], 0)
    if sharing is not None and "borrowLimit" in sharing:
        if sharing["strategy"] != "LEND_AND_BORROW":
            raise errors.invalid("borrowLimit is only valid with the LEND_AND_BORROW strategy")
        if sharing["borrowLimit"] < -1:
            raise errors.invalid("borrowLimit must be -1 or at least 0")


class QuotaShareOperations(ResourceAccess):
    def create_quota_share(
        self,
        ctx: RequestContext,
        *,
        quota_share_name: str,
        job_queue: str,
        capacity_limits: list[dict[str, Any]],
        resource_sharing_configuration: dict[str, Any],
        preemption_configuration: dict[str, Any],
        state: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The queue must use a quota-share scheduling policy and a service environment (§4.8)."""
        from emulator.services.batch.policies import KIND as POLICY_KIND

        rules.check_name("Quota share", quota_share_name)
        rules.check_tags(tags)
        _check_share_settings(capacity_limits, resource_sharing_configuration)
        with self.store.lock:
            queue = self.require_queue(ctx, job_queue)
            policy = self.store.get(POLICY_KIND, queue.get("schedulingPolicyArn", "")) or {}
            if "quotaSharePolicy" not in policy or "serviceEnvironmentOrder" not in queue:
                raise errors.invalid(
                    "Quota shares require a job queue with a quota share scheduling policy and a service environment"
                )
            arn = arns.quota_share_arn(ctx, queue["jobQueueName"], quota_share_name)
            siblings = [
                share for share in self.live_documents(KIND, ctx) if share["jobQueueArn"] == queue["_arn"]
            ]
            if any(share["_arn"] == arn for share in siblings):
                raise errors.already_exists()
            if len(siblings) >= rules.MAX_QUOTA_SHARES_PER_QUEUE:
                raise errors.limit_exceeded("quota shares per job queue", rules.MAX_QUOTA_SHARES_PER_QUEUE)
            document: dict[str, Any] = {
                "_arn": arn,
                SEQUENCE: self.next_sequence(),
                "quotaShareName": quota_share_name,
                "quotaShareArn": arn,
                "jobQueueArn": queue["_arn"],
                "capacityLimits": capacity_limits,
                "resourceSharingConfiguration": resource_sharing_configuration,
                "preemptionConfiguration": preemption_configuration,
                "state": state or "ENABLED",
            }
            lifecycle.begin(document, lifecycle.CREATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
        return {"quotaShareName": quota_share_name, "quotaShareArn": arn}

    def update_quota_share(
        self,
        ctx: RequestContext,
        *,
        quota_share_arn: str,
        capacity_limits: list[dict[str, Any]] | None = None,
        resource_sharing_configuration: dict[str, Any] | None = None,
        preemption_configuration: dict[str, Any] | None = None,
        state: str | None = None,
    ) -> dict[str, Any]:
        _check_share_settings(capacity_limits, resource_sharing_configuration)
        with self.store.lock:
            document = self.require_quota_share(ctx, quota_share_arn)
            for member, value in (
                ("capacityLimits", capacity_limits),
                ("resourceSharingConfiguration", resource_sharing_configuration),
                ("preemptionConfiguration", preemption_configuration),
                ("state", state),
            ):
                if value is not None:
                    document[member] = value
            lifecycle.begin(document, lifecycle.UPDATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, quota_share_arn, document)
        return {"quotaShareName": document["quotaShareName"], "quotaShareArn": quota_share_arn}

    def delete_quota_share(self, ctx: RequestContext, *, quota_share_arn: str) -> dict[str, Any]:
        with self.store.lock:
            document = self.live_document(KIND, self._share_arn(ctx, quota_share_arn))
            if document is None:
                raise errors.not_found("Quota share", quota_share_arn)
            if lifecycle.is_deleting(document):
                return {}
            if document["state"] != "DISABLED":
                raise errors.must_be_disabled("quota share")
            lifecycle.begin(
                document, lifecycle.DELETING, self.now_ms(), self.transition_ms(), has_deleted=False
            )
            self.store.put(KIND, quota_share_arn, document)
        return {}

    def describe_quota_share(self, ctx: RequestContext, *, quota_share_arn: str) -> dict[str, Any]:
        document = self.live_document(KIND, self._share_arn(ctx, quota_share_arn))
        if document is None:
            raise errors.not_found("Quota share", quota_share_arn)
        view = lifecycle.public_view(document, self.now_ms())
        view["tags"] = get_tags(self.store, quota_share_arn)
        return view

    def list_quota_shares(
        self,
        ctx: RequestContext,
        *,
        job_queue: str,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        queue = self.require_queue(ctx, job_queue)
        documents = [
            share for share in self.live_documents(KIND, ctx) if share["jobQueueArn"] == queue["_arn"]
        ]
        page, token = tokens.paginate(
            "ListQuotaShares",
            documents,
            lambda d: d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        now = self.now_ms()
        result: dict[str, Any] = {"quotaShares": [lifecycle.public_view(document, now) for document in page]}
        if token:
            result["nextToken"] = token
        return result

    def require_quota_share(self, ctx: RequestContext, quota_share_arn: str) -> dict[str, Any]:
        document = self.live_document(KIND, self._share_arn(ctx, quota_share_arn))
        if document is None or lifecycle.is_deleting(document):
            raise errors.not_found("Quota share", quota_share_arn)
        return document

    @staticmethod
    def _share_arn(ctx: RequestContext, given: str) -> str | None:
        parsed = arns.parse_arn(given)
        if parsed is None or parsed.resource_type != arns.QUOTA_SHARE:
            return None
        return given if given.startswith(arns.tenant_prefix(ctx)) else None
