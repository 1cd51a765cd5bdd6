"""Scheduling policies: Create/Update/Delete/Describe/ListSchedulingPolicies (reference §4.5, §5.5).

A policy is fair share (`fairsharePolicy`) or quota share (`quotaSharePolicy`), never both, and keeps
its kind for life. Policies are addressed by ARN only.
"""

from __future__ import annotations

from typing import Any

from emulator.engine.records import FairSharePolicy
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, lifecycle, rules, tokens
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags

KIND = "scheduling-policy"


def check_fairshare_policy(policy: dict[str, Any]) -> None:
    rules.check_range("shareDecaySeconds", policy.get("shareDecaySeconds"), 0, rules.MAX_SHARE_DECAY_SECONDS)
    rules.check_range(
        "computeReservation", policy.get("computeReservation"), 0, rules.MAX_COMPUTE_RESERVATION
    )
    identifiers: list[str] = []
    for share in policy.get("shareDistribution") or ():
        identifier = share["shareIdentifier"]
        rules.check_share_identifier(identifier)
        rules.check_range(
            "weightFactor", share.get("weightFactor"), rules.MIN_WEIGHT_FACTOR, rules.MAX_WEIGHT_FACTOR
        )
        identifiers.append(identifier)
    if len(set(identifiers)) != len(identifiers):
        raise errors.invalid("shareIdentifier values in shareDistribution must be unique")
    for prefix in (identifier[:-1] for identifier in identifiers if identifier.endswith("*")):
        if any(other != prefix + "*" and other.startswith(prefix) for other in identifiers):
            raise errors.invalid(f"shareIdentifier {prefix}* overlaps with another shareIdentifier")


def fair_share_policy(document: dict[str, Any] | None) -> FairSharePolicy | None:
    """The engine's view of a stored policy's `fairsharePolicy`; None for no policy or quota share.
    Omitted members take the model's defaults (decay 0, reservation 0, weight 1.0)."""
    if document is None or "fairsharePolicy" not in document:
        return None
    policy = document["fairsharePolicy"]
    return FairSharePolicy(
        share_decay_seconds=policy.get("shareDecaySeconds") or 0,
        compute_reservation=policy.get("computeReservation") or 0,
        weights=tuple(
            (share["shareIdentifier"], float(share.get("weightFactor") or 1.0))
            for share in policy.get("shareDistribution") or ()
        ),
    )


class SchedulingPolicyOperations(ResourceAccess):
    def create_scheduling_policy(
        self,
        ctx: RequestContext,
        *,
        name: str,
        quota_share_policy: dict[str, Any] | None = None,
        fairshare_policy: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        rules.check_name("Scheduling policy", name)
        rules.check_tags(tags)
        _check_kind(quota_share_policy, fairshare_policy)
        arn = arns.build_arn(ctx, arns.SCHEDULING_POLICY, name)
        with self.store.lock:
            if self.live_document(KIND, arn) is not None:
                raise errors.already_exists()
            document: dict[str, Any] = {"_arn": arn, SEQUENCE: self.next_sequence(), "name": name, "arn": arn}
            _apply_policy(document, quota_share_policy, fairshare_policy)
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
        return {"name": name, "arn": arn}

    def update_scheduling_policy(
        self,
        ctx: RequestContext,
        *,
        arn: str,
        quota_share_policy: dict[str, Any] | None = None,
        fairshare_policy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replaces the policy body; the kind (fair share vs quota share) cannot change. Queues
        using the policy are re-sent to the engine, so scheduling follows the new weights from the
        next pass on (§5.5)."""
        from emulator.services.batch.queues import KIND as QUEUE_KIND

        _check_kind(quota_share_policy, fairshare_policy)
        with self.store.lock:
            document = self.require_policy(ctx, arn)
            if (fairshare_policy is not None and "quotaSharePolicy" in document) or (
                quota_share_policy is not None and "fairsharePolicy" in document
            ):
                raise errors.invalid("The kind of a scheduling policy cannot be changed")
            _apply_policy(document, quota_share_policy, fairshare_policy)
            self.store.put(KIND, arn, document)
            using = [
                queue
                for queue in self.live_documents(QUEUE_KIND, ctx)
                if queue.get("schedulingPolicyArn") == arn and not lifecycle.is_deleting(queue)
            ]
        for queue in using:
            self._publish_queue(queue)
        return {}

    def delete_scheduling_policy(self, ctx: RequestContext, *, arn: str) -> dict[str, Any]:
        from emulator.services.batch.queues import KIND as QUEUE_KIND

        with self.store.lock:
            self.require_policy(ctx, arn)
            if any(queue.get("schedulingPolicyArn") == arn for queue in self.live_documents(QUEUE_KIND, ctx)):
                raise errors.has_queue_relationship()
            self._purge(KIND, arn)
        return {}

    def describe_scheduling_policies(self, ctx: RequestContext, *, arns: list[str]) -> dict[str, Any]:
        """Unknown ARNs are silently left out; results follow the request order."""
        rules.check_describe_ids("scheduling policies", arns)
        found = []
        for arn in dict.fromkeys(arns):
            document = self._policy_in_tenant(ctx, arn)
            if document is not None:
                found.append(self.policy_view(document))
        return {"schedulingPolicies": found}

    def list_scheduling_policies(
        self, ctx: RequestContext, *, max_results: int | None = None, next_token: str | None = None
    ) -> dict[str, Any]:
        documents = self.live_documents(KIND, ctx)
        page, token = tokens.paginate(
            "ListSchedulingPolicies",
            documents,
            lambda d: d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"schedulingPolicies": [{"arn": document["arn"]} for document in page]}
        if token:
            result["nextToken"] = token
        return result

    # ---- shared ----

    def require_policy(self, ctx: RequestContext, arn: str) -> dict[str, Any]:
        document = self._policy_in_tenant(ctx, arn)
        if document is None:
            raise errors.not_found("Scheduling policy", arn)
        return document

    def policy_view(self, document: dict[str, Any]) -> dict[str, Any]:
        view = {key: value for key, value in document.items() if not key.startswith("_")}
        view["tags"] = get_tags(self.store, document["_arn"])
        return view

    def _policy_in_tenant(self, ctx: RequestContext, arn: str) -> dict[str, Any] | None:
        if not arn.startswith(arns.tenant_prefix(ctx) + arns.SCHEDULING_POLICY + "/"):
            return None
        return self.live_document(KIND, arn)


def _check_kind(quota_share_policy: dict[str, Any] | None, fairshare_policy: dict[str, Any] | None) -> None:
    if quota_share_policy is not None and fairshare_policy is not None:
        raise errors.invalid("Only one of fairsharePolicy or quotaSharePolicy can be specified")
    if fairshare_policy is not None:
        check_fairshare_policy(fairshare_policy)


def _apply_policy(
    document: dict[str, Any],
    quota_share_policy: dict[str, Any] | None,
    fairshare_policy: dict[str, Any] | None,
) -> None:
    if fairshare_policy is not None:
        document["fairsharePolicy"] = {"shareDistribution": [], **fairshare_policy}
    if quota_share_policy is not None:
        document["quotaSharePolicy"] = dict(quota_share_policy)
