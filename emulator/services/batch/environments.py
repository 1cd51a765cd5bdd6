"""Compute environments: Create/Update/Delete/DescribeComputeEnvironments (reference §4.2, §5.1).

Validation follows the managed/unmanaged and EC2/SPOT/Fargate rules with AWS's observed messages;
the engine is told the topology after every change (`ComputeEnvironment` record), and the
account's ECS gets the cluster named by `ecsClusterArn` at creation and loses it at deletion.
Unknown instance types are refused (instance_types.py); instance-type architecture checks and the
service-role rules of infrastructure updates are not reproduced.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from emulator.engine.records import ComputeEnvironment
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, errors, instance_types, lifecycle, rules, tokens
from emulator.services.batch.references import compute_environment_problem
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags

KIND = "compute-environment"
HEALTHY = "ComputeEnvironment Healthy"
FARGATE_TYPES = ("FARGATE", "FARGATE_SPOT")
# Members a Fargate CE must not set, in the order AWS reports them (first two observed).
EC2_ONLY_MEMBERS = (
    "desiredvCpus",
    "tags",
    "minvCpus",
    "instanceTypes",
    "instanceRole",
    "ec2KeyPair",
    "placementGroup",
    "bidPercentage",
    "launchTemplate",
    "ec2Configuration",
    "imageId",
    "allocationStrategy",
    "spotIamFleetRole",
)
FARGATE_UPDATABLE = ("subnets", "securityGroupIds", "maxvCpus", "type")
SPOT_ONLY_STRATEGIES = ("SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED")
MAX_FARGATE_SUBNETS = 16
MAX_FARGATE_SECURITY_GROUPS = 5


def service_role_arn(account_id: str, service_role: str | None) -> str:
    """Default: the service-linked role; a bare name becomes a role ARN with no path (§5.1)."""
    if not service_role:
        return f"arn:aws:iam::{account_id}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
    if service_role.startswith("arn:"):
        return service_role
    return f"arn:aws:iam::{account_id}:role/{service_role}"


def is_fargate(document: dict[str, Any]) -> bool:
    return (document.get("computeResources") or {}).get("type") in FARGATE_TYPES


def check_compute_resources(resources: dict[str, Any]) -> None:
    if resources["type"] in FARGATE_TYPES:
        _check_fargate_resources(resources)
    else:
        _check_ec2_resources(resources)
    if resources.get("maxvCpus", 0) < 0:
        raise errors.invalid("maxvCpus must be at least 0")


def _check_fargate_resources(resources: dict[str, Any]) -> None:
    for member in EC2_ONLY_MEMBERS:
        if member in resources:
            raise errors.not_applicable_for_fargate(member)
    if not resources.get("securityGroupIds"):
        raise errors.invalid("Security group ids are required for Fargate.")
    if len(resources["securityGroupIds"]) > MAX_FARGATE_SECURITY_GROUPS:
        raise errors.invalid(
            f"At most {MAX_FARGATE_SECURITY_GROUPS} security groups are supported for Fargate."
        )
    if len(resources.get("subnets") or ()) > MAX_FARGATE_SUBNETS:
        raise errors.invalid(f"At most {MAX_FARGATE_SUBNETS} subnets are supported for Fargate.")


def _check_ec2_resources(resources: dict[str, Any]) -> None:
    if not resources.get("instanceRole"):
        raise errors.invalid("Instance role is required.")
    if resources.get("minvCpus") is None:
        raise errors.invalid("Resource minvCpus is required.")
    if not resources.get("instanceTypes"):
        raise errors.invalid("Resource instanceTypes is required.")
    _check_instance_types(resources["instanceTypes"])
    if not resources.get("securityGroupIds") and not resources.get("launchTemplate"):
        raise errors.invalid("At least one security group is required.")
    _check_vcpu_bounds(resources.get("minvCpus"), resources.get("desiredvCpus"), resources.get("maxvCpus"))
    strategy = resources.get("allocationStrategy", "BEST_FIT")
    if strategy in SPOT_ONLY_STRATEGIES and resources["type"] != "SPOT":
        raise errors.invalid(f"Allocation strategy {strategy} is only supported for SPOT compute resources.")
    if resources["type"] == "SPOT" and strategy == "BEST_FIT" and not resources.get("spotIamFleetRole"):
        raise errors.invalid("ComputeResources.spotIamFleetRole cannot not be null or empty")


def _check_instance_types(requested: list[str]) -> None:
    refusal = instance_types.refusal_message(requested)
    if refusal is not None:
        raise errors.invalid(refusal)


def _check_vcpu_bounds(min_vcpus: int | None, desired_vcpus: int | None, max_vcpus: int | None) -> None:
    if min_vcpus is not None and min_vcpus < 0:
        raise errors.invalid("minvCpus must be at least 0")
    if min_vcpus is not None and max_vcpus is not None and min_vcpus > max_vcpus:
        raise errors.invalid("minvCpus must be less than or equal to maxvCpus")
    if desired_vcpus is None:
        return
    if (min_vcpus is not None and desired_vcpus < min_vcpus) or (
        max_vcpus is not None and desired_vcpus > max_vcpus
    ):
        raise errors.invalid("desiredvCpus must be between minvCpus and maxvCpus")


def _described_resources(resources: dict[str, Any], orchestration: str) -> dict[str, Any]:
    """Describe echoes computeResources with EC2 defaults filled in (Appendix C.2)."""
    described = dict(resources)
    if resources["type"] not in FARGATE_TYPES:
        described.setdefault("desiredvCpus", resources.get("minvCpus", 0))
        described.setdefault("tags", {})
        described.setdefault("ec2Configuration", [{"imageType": f"{orchestration}_AL2023"}])
        described.setdefault("securityGroupIds", [])
    return described


class ComputeEnvironmentOperations(ResourceAccess):
    def create_compute_environment(
        self,
        ctx: RequestContext,
        *,
        compute_environment_name: str,
        type: str,
        state: str | None = None,
        unmanagedv_cpus: int | None = None,
        compute_resources: dict[str, Any] | None = None,
        service_role: str | None = None,
        tags: dict[str, str] | None = None,
        eks_configuration: dict[str, Any] | None = None,
        context: str | None = None,
    ) -> dict[str, Any]:
        rules.check_name("Compute environment", compute_environment_name)
        rules.check_tags(tags)
        self._check_type_members(type, compute_resources, unmanagedv_cpus)
        if eks_configuration is not None:
            _check_eks_configuration(eks_configuration)
        if compute_resources is not None:
            check_compute_resources(compute_resources)
        arn = arns.build_arn(ctx, arns.COMPUTE_ENVIRONMENT, compute_environment_name)
        orchestration = "EKS" if eks_configuration is not None else "ECS"
        cluster_uuid = str(uuid.uuid3(uuid.NAMESPACE_URL, f"{arn}#{self.now_ms()}"))
        document: dict[str, Any] = {
            "_arn": arn,
            "computeEnvironmentName": compute_environment_name,
            "computeEnvironmentArn": arn,
            "ecsClusterArn": (
                f"arn:aws:ecs:{ctx.region}:{ctx.account_id}:cluster/AWSBatch-{compute_environment_name}-{cluster_uuid}"
            ),
            "type": type,
            "state": state or "ENABLED",
            "computeResources": (
                _described_resources(compute_resources, orchestration)
                if compute_resources is not None
                else None
            ),
            "unmanagedvCpus": unmanagedv_cpus,
            "serviceRole": service_role_arn(ctx.account_id, service_role),
            "eksConfiguration": eks_configuration,
            "containerOrchestrationType": orchestration,
            "uuid": cluster_uuid,
            "context": context,
        }
        self._check_references(ctx, document)
        with self.store.lock:
            existing = self.live_documents(KIND, ctx)
            if any(other["computeEnvironmentName"] == compute_environment_name for other in existing):
                raise errors.already_exists()
            if len(existing) >= rules.MAX_COMPUTE_ENVIRONMENTS:
                raise errors.limit_exceeded("compute environments", rules.MAX_COMPUTE_ENVIRONMENTS)
            document[SEQUENCE] = self.next_sequence()
            lifecycle.begin(document, lifecycle.CREATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, arn, {k: v for k, v in document.items() if v is not None})
            set_tags(self.store, arn, tags)
        self.clusters.add(document["ecsClusterArn"])
        self._publish_environment(document)
        return {"computeEnvironmentName": compute_environment_name, "computeEnvironmentArn": arn}

    def update_compute_environment(
        self,
        ctx: RequestContext,
        *,
        compute_environment: str,
        state: str | None = None,
        unmanagedv_cpus: int | None = None,
        compute_resources: dict[str, Any] | None = None,
        service_role: str | None = None,
        update_policy: dict[str, Any] | None = None,
        context: str | None = None,
    ) -> dict[str, Any]:
        """Partial update: only the members given change (reference §5.1)."""
        with self.store.lock:
            document = self.require_compute_environment(ctx, compute_environment)
            if unmanagedv_cpus is not None:
                if document["type"] != "UNMANAGED":
                    raise errors.invalid(
                        "unmanagedvCpus is only supported for UNMANAGED compute environments"
                    )
                document["unmanagedvCpus"] = unmanagedv_cpus
            if compute_resources is not None:
                if document["type"] == "UNMANAGED":
                    raise errors.invalid(
                        "computeResources is not applicable for UNMANAGED compute environments"
                    )
                document["computeResources"] = _updated_resources(
                    document["computeResources"], compute_resources
                )
            if state is not None:
                document["state"] = state
            if service_role is not None:
                document["serviceRole"] = service_role_arn(ctx.account_id, service_role)
            if update_policy is not None:
                document["updatePolicy"] = {**document.get("updatePolicy", {}), **update_policy}
            if context is not None:
                document["context"] = context
            self._check_references(ctx, document)
            lifecycle.begin(document, lifecycle.UPDATING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, document["_arn"], document)
        self._publish_environment(document)
        return {
            "computeEnvironmentName": document["computeEnvironmentName"],
            "computeEnvironmentArn": document["computeEnvironmentArn"],
        }

    def delete_compute_environment(self, ctx: RequestContext, *, compute_environment: str) -> dict[str, Any]:
        """Needs state DISABLED, no queue referencing it, and no update in progress. Deleting a CE
        that is already being deleted succeeds and changes nothing."""
        from emulator.services.batch.queues import KIND as QUEUE_KIND

        with self.store.lock:
            arn = arns.arn_for(ctx, arns.COMPUTE_ENVIRONMENT, compute_environment)
            document = self.live_document(KIND, arn)
            if document is None:
                raise errors.compute_environment_not_found(compute_environment)
            if lifecycle.is_deleting(document):
                return {}
            if document["state"] != "DISABLED":
                raise errors.must_be_disabled("compute environment")
            if lifecycle.current_status(document, self.now_ms()) == lifecycle.UPDATING:
                raise errors.being_modified()
            for queue in self.live_documents(QUEUE_KIND, ctx):
                if any(
                    entry["computeEnvironment"] == arn for entry in queue.get("computeEnvironmentOrder", ())
                ):
                    raise errors.has_queue_relationship()
            lifecycle.begin(document, lifecycle.DELETING, self.now_ms(), self.transition_ms())
            self.store.put(KIND, arn, document)
        self.engine.remove_compute_environment(arn)
        self.clusters.remove(document["ecsClusterArn"])
        return {}

    def describe_compute_environments(
        self,
        ctx: RequestContext,
        *,
        compute_environments: list[str] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Unknown names and ARNs are silently left out; results come in creation order."""
        rules.check_describe_ids("compute environments", compute_environments)
        documents = self.live_documents(KIND, ctx)
        if compute_environments is not None:
            wanted = {arns.arn_for(ctx, arns.COMPUTE_ENVIRONMENT, given) for given in compute_environments}
            documents = [document for document in documents if document["_arn"] in wanted]
        page, token = tokens.paginate(
            "DescribeComputeEnvironments",
            documents,
            lambda document: document[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"computeEnvironments": [self.compute_environment_view(d) for d in page]}
        if token:
            result["nextToken"] = token
        return result

    # ---- shared with queues ----

    def require_compute_environment(self, ctx: RequestContext, given: str) -> dict[str, Any]:
        """A live, not-deleting CE named by name or ARN, or ClientException."""
        document = self.live_document(KIND, arns.arn_for(ctx, arns.COMPUTE_ENVIRONMENT, given))
        if document is None or lifecycle.is_deleting(document):
            raise errors.compute_environment_not_found(given)
        return document

    def compute_environment_view(self, document: dict[str, Any]) -> dict[str, Any]:
        view = lifecycle.public_view(document, self.now_ms())
        view["tags"] = get_tags(self.store, document["_arn"])
        if view["status"] == lifecycle.VALID:
            view["statusReason"] = HEALTHY
        elif view["status"] == lifecycle.INVALID:
            view["statusReason"] = document[lifecycle.INVALID_REASON]
        return view

    def _check_references(self, ctx: RequestContext, document: dict[str, Any]) -> None:
        """With --validate-references, record why the CE will settle INVALID (or that it will not:
        an update may repair it). Without, nothing is checked (services/batch/references.py)."""
        if self.references is None:
            return
        problem = compute_environment_problem(self.references, ctx.account_id, ctx.region, document)
        if problem is None:
            document.pop(lifecycle.INVALID_REASON, None)
        else:
            document[lifecycle.INVALID_REASON] = problem

    def _check_type_members(
        self, ce_type: str, resources: dict[str, Any] | None, unmanaged: int | None
    ) -> None:
        if ce_type == "MANAGED":
            if resources is None:
                raise errors.invalid("computeResources must be specified for MANAGED compute environments")
            if unmanaged is not None:
                raise errors.invalid("unmanagedvCpus is only supported for UNMANAGED compute environments")
        elif resources is not None:
            raise errors.invalid("computeResources is not applicable for UNMANAGED compute environments")
        if unmanaged is not None and unmanaged < 0:
            raise errors.invalid("unmanagedvCpus must be at least 0")

    def _publish_environment(self, document: dict[str, Any]) -> None:
        status = lifecycle.current_status(document, self.now_ms())
        resources = document.get("computeResources") or {}
        self.engine.put_compute_environment(
            ComputeEnvironment(
                arn=document["_arn"],
                name=document["computeEnvironmentName"],
                is_enabled=document["state"] == "ENABLED",
                # CREATING/UPDATING count as usable: the engine is told once, not at each settle;
                # unless the CE is bound to settle INVALID.
                is_valid=status != lifecycle.INVALID and not document.get(lifecycle.INVALID_REASON),
                max_vcpus=resources.get("maxvCpus") if document["type"] == "MANAGED" else None,
                is_fargate=is_fargate(document),
            )
        )


def _check_eks_configuration(configuration: dict[str, Any]) -> None:
    namespace = configuration.get("kubernetesNamespace", "")
    valid = re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace) and len(namespace) < 64
    if not valid or namespace == "default" or namespace.startswith("kube"):
        raise errors.invalid("kubernetesNamespace should match valid pattern")


def _updated_resources(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    if current["type"] in FARGATE_TYPES:
        for member, value in update.items():
            if member not in FARGATE_UPDATABLE:
                raise errors.not_applicable_for_fargate(member)
            if member in ("subnets", "securityGroupIds") and not value:
                continue  # an empty list means "no change" on Fargate (reference §5.1)
            merged[member] = value
        return merged
    if "type" in update and update["type"] in FARGATE_TYPES:
        raise errors.invalid("Cannot change the compute resource type between EC2 and Fargate")
    if update.get("instanceTypes"):
        _check_instance_types(update["instanceTypes"])
    merged.update(update)
    merged.pop("updateToLatestImageVersion", None)
    _check_vcpu_bounds(merged.get("minvCpus"), merged.get("desiredvCpus"), merged.get("maxvCpus"))
    if "desiredvCpus" in update and update["desiredvCpus"] < current.get("desiredvCpus", 0):
        raise errors.invalid("desiredvCpus cannot be decreased")
    return merged
