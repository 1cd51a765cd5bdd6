"""TagResource, UntagResource, ListTagsForResource, and the tag storage every family shares
(reference §5.9, §23).

Tags live in the resource store under kind "tags", keyed by the resource ARN, so Describe calls and
ListTagsForResource always agree. Job ARNs are checked against the engine; child array jobs
(`id:N`) and multi-node node jobs (`id#N`) cannot be tagged, as the model documents.
"""

from __future__ import annotations

from typing import Any

from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, rules
from emulator.services.batch.resources import TAGS_KIND, ResourceAccess
from emulator.stores.resources import ResourceStore

# ARN resource type -> store kind of the resource it names.
_KINDS = {
    arns.COMPUTE_ENVIRONMENT: "compute-environment",
    arns.JOB_QUEUE: "job-queue",
    arns.JOB_DEFINITION: "job-definition",
    arns.SCHEDULING_POLICY: "scheduling-policy",
    arns.CONSUMABLE_RESOURCE: "consumable-resource",
    arns.SERVICE_ENVIRONMENT: "service-environment",
    arns.SERVICE_JOB: "service-job",
    arns.QUOTA_SHARE: "quota-share",
}


def get_tags(store: ResourceStore, arn: str) -> dict[str, str]:
    return dict(store.get(TAGS_KIND, arn) or {})


def set_tags(store: ResourceStore, arn: str, tags: dict[str, str] | None) -> None:
    """Replace the resource's tags; an empty dict is stored too, so "tagged, then all removed" is
    told apart from "never tagged"."""
    store.put(TAGS_KIND, arn, dict(tags or {}))


def has_stored_tags(store: ResourceStore, arn: str) -> bool:
    return store.get(TAGS_KIND, arn) is not None


class TagOperations(ResourceAccess):
    def tag_resource(self, ctx: RequestContext, *, resource_arn: str, tags: dict[str, str]) -> dict[str, Any]:
        """Merges: keys not mentioned are kept, mentioned ones overwritten (reference §23)."""
        rules.check_tags(tags)
        with self.store.lock:
            self._check_taggable(ctx, resource_arn)
            merged = {**self._current_tags(resource_arn), **tags}
            if len(merged) > rules.MAX_TAGS:
                raise errors.invalid(f"Number of tags must not exceed {rules.MAX_TAGS}")
            set_tags(self.store, resource_arn, merged)
        return {}

    def untag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tag_keys: list[str]
    ) -> dict[str, Any]:
        """Keys the resource does not have are ignored (inferred, reference §23)."""
        for key in tag_keys:
            rules.check_tag_key(key)
        with self.store.lock:
            self._check_taggable(ctx, resource_arn)
            remaining = {k: v for k, v in self._current_tags(resource_arn).items() if k not in tag_keys}
            set_tags(self.store, resource_arn, remaining)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, *, resource_arn: str) -> dict[str, Any]:
        self._check_taggable(ctx, resource_arn)
        return {"tags": self._current_tags(resource_arn)}

    def _current_tags(self, arn: str) -> dict[str, str]:
        if has_stored_tags(self.store, arn):
            return get_tags(self.store, arn)
        job = self._job_for(arn)
        return dict(job.tags) if job is not None else {}

    def _job_for(self, arn: str) -> Any:
        parsed = arns.parse_arn(arn)
        if parsed is None or parsed.resource_type != arns.JOB:
            return None
        return self.engine.get_job(parsed.resource_id)

    def _check_taggable(self, ctx: RequestContext, arn: str) -> None:
        parsed = arns.parse_arn(arn)
        if parsed is None:
            # Unverified wording (Appendix D item 1).
            raise errors.invalid(f"Invalid resource ARN: {arn}")
        mine = parsed.region == ctx.region and parsed.account_id == ctx.account_id
        if parsed.resource_type == arns.JOB:
            if ":" in parsed.resource_id or "#" in parsed.resource_id:
                raise errors.invalid(
                    "Tagging is not supported for array child jobs or multi-node parallel node jobs"
                )
            if not mine or self.engine.get_job(parsed.resource_id) is None:
                raise errors.not_found("Resource", arn)
            return
        kind = _KINDS.get(parsed.resource_type)
        if kind is None:
            raise errors.invalid(f"Invalid resource ARN: {arn}")
        if not mine or self.live_document(kind, arn) is None:
            raise errors.not_found("Resource", arn)
