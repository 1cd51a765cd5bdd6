"""Consumable resources: Create/Update/Delete/Describe/ListConsumableResources and
ListJobsByConsumableResource (reference §4.6, §5.6, §20).

The resource store keeps each resource's document (name, type, tags, creation time); the engine
owns the live quantities, because jobs lock and consume them (`Engine.put_consumable_resource`,
`consumable_usage`). Total and in-use figures are read from the engine, so they never lag as AWS's
may (up to 30 s). `consumable_claims()` turns a job's `consumableResourceProperties` into the
engine's claims for SubmitJob.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from emulator.engine.numeric_text import INT64_MAX
from emulator.engine.records import ConsumableClaim, ConsumableResource, Job
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, rules, tokens
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags

KIND = "consumable-resource"
RESOURCE_TYPES = ("REPLENISHABLE", "NON_REPLENISHABLE")
OPERATIONS = ("SET", "ADD", "REMOVE")
TOKEN_LIFETIME_MS = 8 * 3600 * 1000
NAME_FILTER = "CONSUMABLE_RESOURCE_NAME"
JOB_FILTERS = ("JOB_STATUS", "JOB_NAME")


class ConsumableResourceOperations(ResourceAccess):
    def create_consumable_resource(
        self,
        ctx: RequestContext,
        *,
        consumable_resource_name: str,
        total_quantity: int | None = None,
        resource_type: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        rules.check_name("Consumable resource", consumable_resource_name)
        rules.check_tags(tags)
        rules.check_range("totalQuantity", total_quantity, 0)
        resource_type = resource_type or "REPLENISHABLE"
        if resource_type not in RESOURCE_TYPES:
            raise errors.invalid(f"resourceType must be one of {', '.join(RESOURCE_TYPES)}")
        arn = arns.build_arn(ctx, arns.CONSUMABLE_RESOURCE, consumable_resource_name)
        with self.store.lock:
            existing = self.live_documents(KIND, ctx)
            if any(other["_arn"] == arn for other in existing):
                raise errors.already_exists()
            if len(existing) >= rules.MAX_CONSUMABLE_RESOURCES:
                raise errors.limit_exceeded("consumable resources", rules.MAX_CONSUMABLE_RESOURCES)
            document = {
                "_arn": arn,
                SEQUENCE: self.next_sequence(),
                "_tokens": {},
                "consumableResourceName": consumable_resource_name,
                "consumableResourceArn": arn,
                "totalQuantity": total_quantity or 0,
                "inUseQuantity": 0,
                "resourceType": resource_type,
                "createdAt": self.now_ms(),
            }
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
            self.engine.put_consumable_resource(_engine_resource(document))
        return {"consumableResourceName": consumable_resource_name, "consumableResourceArn": arn}

    def update_consumable_resource(
        self,
        ctx: RequestContext,
        *,
        consumable_resource: str,
        operation: str | None = None,
        quantity: int | None = None,
        client_token: str | None = None,
    ) -> dict[str, Any]:
        """A repeated call with the same client token and payload succeeds without applying the
        change twice; tokens are remembered for 8 hours (reference §1.8)."""
        operation = operation or "SET"
        if operation not in OPERATIONS:
            raise errors.invalid(f"operation must be one of {', '.join(OPERATIONS)}")
        rules.check_range("quantity", quantity, 0)
        with self.store.lock:
            document = self.require_consumable(ctx, consumable_resource)
            now = self.now_ms()
            seen = {k: v for k, v in document["_tokens"].items() if v["expiresAtMs"] > now}
            fingerprint = hashlib.sha256(json.dumps([operation, quantity]).encode()).hexdigest()
            if client_token is not None and client_token in seen:
                if seen[client_token]["fingerprint"] != fingerprint:
                    raise errors.invalid("clientToken was already used with a different request")
            else:
                current = self._quantities(document)[0]
                document["totalQuantity"] = _applied(current, operation, quantity or 0)
                self.engine.put_consumable_resource(_engine_resource(document))
                if client_token is not None:
                    seen[client_token] = {"fingerprint": fingerprint, "expiresAtMs": now + TOKEN_LIFETIME_MS}
            document["_tokens"] = seen
            self.store.put(KIND, document["_arn"], document)
        return {
            "consumableResourceName": document["consumableResourceName"],
            "consumableResourceArn": document["_arn"],
            "totalQuantity": self._quantities(document)[0],
        }

    def delete_consumable_resource(self, ctx: RequestContext, *, consumable_resource: str) -> dict[str, Any]:
        """Jobs still referencing it are not checked (AWS's behaviour is unverified)."""
        with self.store.lock:
            document = self.require_consumable(ctx, consumable_resource)
            self._purge(KIND, document["_arn"])
            self.engine.remove_consumable_resource(document["_arn"])
        return {}

    def describe_consumable_resource(
        self, ctx: RequestContext, *, consumable_resource: str
    ) -> dict[str, Any]:
        document = self.require_consumable(ctx, consumable_resource)
        total, in_use = self._quantities(document)
        return {
            **self._summary(document),
            "availableQuantity": total - in_use,
            "createdAt": document["createdAt"],
            "tags": get_tags(self.store, document["_arn"]),
        }

    def list_consumable_resources(
        self,
        ctx: RequestContext,
        *,
        filters: list[dict[str, Any]] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        patterns = _name_patterns(filters)
        documents = [
            document
            for document in self.live_documents(KIND, ctx)
            if not patterns
            or any(rules.name_matches(p, document["consumableResourceName"]) for p in patterns)
        ]
        page, token = tokens.paginate(
            "ListConsumableResources",
            documents,
            lambda d: d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"consumableResources": [self._summary(document) for document in page]}
        if token:
            result["nextToken"] = token
        return result

    def list_jobs_by_consumable_resource(
        self,
        ctx: RequestContext,
        *,
        consumable_resource: str,
        filters: list[dict[str, Any]] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Every job that claims the resource (array children, not their parents), oldest first,
        with the quantity each claims. Filters: JOB_STATUS (exact), JOB_NAME (case-insensitive,
        trailing `*` = prefix); several filters must all match."""
        document = self.require_consumable(ctx, consumable_resource)
        arn = document["_arn"]
        for entry in filters or ():
            if entry.get("name") not in JOB_FILTERS:
                raise errors.invalid(f"Invalid filter name: {entry.get('name')}")
        # The engine lists claimants in creation order and only ever appends, so a job's position
        # is a stable paging key (jobs created in the same millisecond keep their order).
        jobs = [
            (position, job)
            for position, job in enumerate(self.engine.jobs_using_consumable(arn))
            if _job_matches(job, filters or ())
        ]
        page, token = tokens.paginate(
            "ListJobsByConsumableResource",
            jobs,
            lambda entry: entry[0],
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"jobs": [_job_summary(job, arn) for _, job in page]}
        if token:
            result["nextToken"] = token
        return result

    def consumable_claims(
        self, ctx: RequestContext, properties: dict[str, Any] | None
    ) -> tuple[ConsumableClaim, ...]:
        """`consumableResourceProperties` (from the definition, or the submit-time override, which
        replaces it) -> the engine's claims, names resolved to ARNs. An unknown resource is a
        ClientException, as RegisterJobDefinition words it; a resource named twice claims the sum."""
        claims: dict[str, int] = {}
        for requirement in (properties or {}).get("consumableResourceList") or ():
            given = requirement.get("consumableResource", "")
            document = self.live_document(KIND, arns.arn_for(ctx, arns.CONSUMABLE_RESOURCE, given))
            if document is None:
                raise errors.invalid(f"Consumable resource {given} does not exist")
            quantity = requirement.get("quantity") or 0
            if quantity < 1:
                raise errors.invalid("Consumable resource quantity must be at least 1")
            claims[document["_arn"]] = claims.get(document["_arn"], 0) + quantity
            # The sum is shown as a Long (ListJobsByConsumableResource).
            rules.check_range("quantity", claims[document["_arn"]], 1, INT64_MAX)
        return tuple(ConsumableClaim(arn, quantity) for arn, quantity in claims.items())

    # ---- shared ----

    def require_consumable(self, ctx: RequestContext, given: str) -> dict[str, Any]:
        document = self.live_document(KIND, arns.arn_for(ctx, arns.CONSUMABLE_RESOURCE, given))
        if document is None:
            raise errors.not_found("Consumable resource", given)
        return document

    def _quantities(self, document: dict[str, Any]) -> tuple[int, int]:
        """(totalQuantity, inUseQuantity): the engine's live figures, the document's if it has none."""
        usage = self.engine.consumable_usage(document["_arn"])
        if usage is None:
            return document["totalQuantity"], document["inUseQuantity"]
        return usage.total_quantity, usage.in_use_quantity

    def _summary(self, document: dict[str, Any]) -> dict[str, Any]:
        total, in_use = self._quantities(document)
        return {
            "consumableResourceName": document["consumableResourceName"],
            "consumableResourceArn": document["_arn"],
            "totalQuantity": total,
            "inUseQuantity": in_use,
            "resourceType": document["resourceType"],
        }


def _engine_resource(document: dict[str, Any]) -> ConsumableResource:
    return ConsumableResource(
        arn=document["_arn"],
        name=document["consumableResourceName"],
        total_quantity=document["totalQuantity"],
        kind=document["resourceType"],
    )


def _job_matches(job: Job, filters: Any) -> bool:
    for entry in filters:
        values = entry.get("values") or []
        if entry["name"] == "JOB_STATUS" and job.status.value not in values:
            return False
        if entry["name"] == "JOB_NAME" and not any(rules.name_matches(v, job.name) for v in values):
            return False
    return True


def _job_summary(job: Job, resource_arn: str) -> dict[str, Any]:
    """A ListJobsByConsumableResourceSummary (reference §5.6)."""
    summary: dict[str, Any] = {
        "jobArn": job.arn,
        "jobQueueArn": job.queue_arn,
        "jobName": job.name,
        "jobDefinitionArn": job.definition_arn,
        "shareIdentifier": job.share_identifier,
        "jobStatus": job.status.value,
        "quantity": sum(c.quantity for c in job.consumables if c.resource_arn == resource_arn),
        "statusReason": job.status_reason,
        "startedAt": job.started_at_ms,
        "createdAt": job.created_at_ms,
        "consumableResourceProperties": job.detail.get("consumableResourceProperties")
        or {
            "consumableResourceList": [
                {"consumableResource": c.resource_arn, "quantity": c.quantity} for c in job.consumables
            ]
        },
    }
    return {k: v for k, v in summary.items() if v is not None}


def _applied(total: int, operation: str, quantity: int) -> int:
    if operation == "SET":
        return quantity
    if operation == "ADD":
        rules.check_range("totalQuantity", total + quantity, 0, INT64_MAX)  # shown as a Long
        return total + quantity
    if quantity > total:
        raise errors.invalid("quantity to REMOVE exceeds totalQuantity")
    return total - quantity


def _name_patterns(filters: list[dict[str, Any]] | None) -> list[str]:
    patterns: list[str] = []
    for entry in filters or ():
        if entry.get("name") != NAME_FILTER:
            raise errors.invalid(f"Invalid filter name: {entry.get('name')}")
        patterns.extend(entry.get("values") or ())
    return patterns
