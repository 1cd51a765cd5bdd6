"""Service environments (SageMaker Training capacity): Create/Update/Delete/
DescribeServiceEnvironments (reference §4.7, §5.7, §21). Same status lifecycle as compute
environments; nothing runs on them yet.
"""

from __future__ import annotations

from typing import Any

from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, lifecycle, rules, tokens
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags

KIND = "service-environment"


def check_capacity_limits(limits: list[dict[str, Any]]) -> None:
    if not limits:
        raise errors.invalid("capacityLimits must contain at least one entry")
    for limit in limits:
        if limit.get("maxCapacity") is None or not limit.get("capacityUnit"):
            raise errors.invalid("capacityLimits entries need maxCapacity and capacityUnit")
        rules.check_range("maxCapacity", limit["maxCapacity"], 0)


class ServiceEnvironmentOperations(ResourceAccess):
    def create_service_environment(
        self,
        ctx: RequestContext,
        *,
        service_environment_name: str,
        service_environment_type: str,
        capacity_limits: list[dict[str, Any]],
        state: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        rules.check_name("Service environment", service_environment_name)
        rules.check_tags(tags)
        check_capacity_limits(capacity_limits)
        arn = arns.build_arn(ctx, arns.SERVICE_ENVIRONMENT, service_environment_name)
        with self.store.lock:
            existing = self.live_documents(KIND, ctx)
            if any(other["_arn"] == arn for other in existing):
                raise errors.already_exists()
            if len(existing) >= rules.MAX_SERVICE_ENVIRONMENTS:
                raise errors.limit_exceeded("service environments", rules.MAX_SERVICE_ENVIRONMENTS)
            document: dict[str, Any] = {
                "_arn": arn,
                SEQUENCE: self.next_sequence(),
                "serviceEnvironmentName": service_environment_name,
                "serviceEnvironmentArn": arn,
                "serviceEnvironmentType": service_environment_type,
                "state": state or "ENABLED",
                "capacityLimits": capacity_limits,
            }
            lifecycle.begin(document, lifecycle.CREATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
        return {"serviceEnvironmentName": service_environment_name, "serviceEnvironmentArn": arn}

    def update_service_environment(
        self,
        ctx: RequestContext,
        *,
        service_environment: str,
        state: str | None = None,
        capacity_limits: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        with self.store.lock:
            document = self.require_service_environment(ctx, service_environment)
            if capacity_limits is not None:
                check_capacity_limits(capacity_limits)
                document["capacityLimits"] = capacity_limits
            if state is not None:
                document["state"] = state
            lifecycle.begin(document, lifecycle.UPDATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, document["_arn"], document)
        return {
            "serviceEnvironmentName": document["serviceEnvironmentName"],
            "serviceEnvironmentArn": document["_arn"],
        }

    def delete_service_environment(self, ctx: RequestContext, *, service_environment: str) -> dict[str, Any]:
        """Needs state DISABLED and no job queue using it (model documentation)."""
        from emulator.services.batch.queues import KIND as QUEUE_KIND

        with self.store.lock:
            document = self.live_document(
                KIND, arns.arn_for(ctx, arns.SERVICE_ENVIRONMENT, service_environment)
            )
            if document is None:
                raise errors.not_found("Service environment", service_environment)
            if lifecycle.is_deleting(document):
                return {}
            if document["state"] != "DISABLED":
                raise errors.must_be_disabled("service environment")
            for queue in self.live_documents(QUEUE_KIND, ctx):
                if any(
                    e["serviceEnvironment"] == document["_arn"]
                    for e in queue.get("serviceEnvironmentOrder", ())
                ):
                    raise errors.has_queue_relationship()
            lifecycle.begin(document, lifecycle.DELETING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, document["_arn"], document)
        return {}

    def describe_service_environments(
        self,
        ctx: RequestContext,
        *,
        service_environments: list[str] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        rules.check_describe_ids("service environments", service_environments)
        documents = self.live_documents(KIND, ctx)
        if service_environments is not None:
            wanted = {arns.arn_for(ctx, arns.SERVICE_ENVIRONMENT, given) for given in service_environments}
            documents = [document for document in documents if document["_arn"] in wanted]
        page, token = tokens.paginate(
            "DescribeServiceEnvironments",
            documents,
            lambda d: d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        now = self.now_ms()
        views = []
        for document in page:
            view = lifecycle.public_view(document, now)
            view["tags"] = get_tags(self.store, document["_arn"])
            views.append(view)
        result: dict[str, Any] = {"serviceEnvironments": views}
        if token:
            result["nextToken"] = token
        return result

    def require_service_environment(self, ctx: RequestContext, given: str) -> dict[str, Any]:
        document = self.live_document(KIND, arns.arn_for(ctx, arns.SERVICE_ENVIRONMENT, given))
        if document is None or lifecycle.is_deleting(document):
            raise errors.not_found("Service environment", given)
        return document
