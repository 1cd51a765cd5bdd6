"""Job definitions: Register/Deregister/DescribeJobDefinitions (reference §4.4, §5.3, §17), and the
lookup SubmitJob uses (`resolve_definition_for_submit`).

Every registration creates a new revision (numbers are never reused); deregistering makes a revision
INACTIVE but keeps it describable. The stored document is the JobDefinition as DescribeJobDefinitions
shows it, with AWS's echoed defaults already filled in (Appendix C.3).
"""

from __future__ import annotations

import re
from typing import Any

from emulator.engine import numeric_text
from emulator.protocol.dispatch import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.batch import arns, errors, rules, tokens
from emulator.services.batch.host_access import check_host_access
from emulator.services.batch.references import check_definition_roles
from emulator.services.batch.resources import SEQUENCE, ResourceAccess
from emulator.services.batch.tags import get_tags, set_tags
from emulator.stores.resources import ResourceStore

KIND = "job-definition"
ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
_CONTAINER_LISTS = (
    "command",
    "volumes",
    "environment",
    "mountPoints",
    "ulimits",
    "resourceRequirements",
    "secrets",
)
_FARGATE_FORBIDDEN_LINUX = ("devices", "sharedMemorySize", "tmpfs", "maxSwap", "swappiness")
_FARGATE_ONLY = (
    "networkConfiguration",
    "fargatePlatformConfiguration",
    "ephemeralStorage",
    "runtimePlatform",
)
_REVISION = re.compile(r"(?P<name>[^:/]+):(?P<revision>[^:/]+)")


def resolve_definition_for_submit(
    store: ResourceStore, ctx: RequestContext, identifier: str
) -> dict[str, Any]:
    """The definition SubmitJob runs: the latest ACTIVE revision for a bare name or a revisionless
    ARN, the exact revision for `name:revision` or a full ARN, which must be ACTIVE.

    Raises AWS's plain "JobDefinition name <name> does not exist or is not in ACTIVE status" (the
    obs wording for names; for `name:revision` and ARNs the identifier as given is used, which is
    unverified)."""
    name, revision = _split_identifier(ctx, identifier)
    if name is None:
        raise errors.job_definition_not_active(identifier)
    candidates = [
        document
        for document in store.scan(KIND, arns.build_arn(ctx, arns.JOB_DEFINITION, name + ":"))
        if document["jobDefinitionName"] == name and document["status"] == ACTIVE
    ]
    if revision is not None:
        candidates = [document for document in candidates if document["revision"] == revision]
    if not candidates:
        raise errors.job_definition_not_active(identifier if revision is not None else name)
    chosen = store.get(KIND, max(candidates, key=lambda document: document["revision"])["_arn"])
    if chosen is None:  # deregistered since the scan
        raise errors.job_definition_not_active(identifier if revision is not None else name)
    return _view(store, chosen)


def _split_identifier(ctx: RequestContext, identifier: str) -> tuple[str | None, int | None]:
    """(name, revision or None) from `name`, `name:rev`, or an ARN with or without revision;
    (None, None) when it names no definition that can exist (a revision that is not one)."""
    if arns.is_arn(identifier):
        prefix = arns.tenant_prefix(ctx) + arns.JOB_DEFINITION + "/"
        if not identifier.startswith(prefix):
            return None, None
        identifier = identifier[len(prefix) :]
    match = _REVISION.fullmatch(identifier)
    if match:
        try:
            return match["name"], numeric_text.revision(match["revision"])
        except numeric_text.NumericTextError:
            return None, None
    if rules.RESOURCE_NAME.match(identifier):
        return identifier, None
    return None, None


def _view(store: ResourceStore, document: dict[str, Any]) -> dict[str, Any]:
    view = {key: value for key, value in document.items() if not key.startswith("_")}
    view["tags"] = get_tags(store, document["_arn"])
    return view


class JobDefinitionOperations(ResourceAccess):
    def register_job_definition(
        self,
        ctx: RequestContext,
        *,
        job_definition_name: str,
        type: str,
        parameters: dict[str, str] | None = None,
        scheduling_priority: int | None = None,
        container_properties: dict[str, Any] | None = None,
        node_properties: dict[str, Any] | None = None,
        retry_strategy: dict[str, Any] | None = None,
        propagate_tags: bool | None = None,
        timeout: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        platform_capabilities: list[str] | None = None,
        eks_properties: dict[str, Any] | None = None,
        ecs_properties: dict[str, Any] | None = None,
        consumable_resource_properties: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = {
            "jobDefinitionName": job_definition_name,
            "type": type,
            "parameters": parameters,
            "schedulingPriority": scheduling_priority,
            "containerProperties": container_properties,
            "nodeProperties": node_properties,
            "retryStrategy": retry_strategy,
            "propagateTags": propagate_tags,
            "timeout": timeout,
            "tags": tags,
            "platformCapabilities": platform_capabilities,
            "eksProperties": eks_properties,
            "ecsProperties": ecs_properties,
            "consumableResourceProperties": consumable_resource_properties,
        }
        request = {key: value for key, value in request.items() if value is not None}
        self._check_definition(ctx, request)
        check_host_access(request, self.settings)
        if self.references is not None:  # --validate-references
            check_definition_roles(self.references, ctx.account_id, request)
        with self.store.lock:
            revisions = [
                document["revision"]
                for document in self.store.list(
                    KIND, arns.build_arn(ctx, arns.JOB_DEFINITION, job_definition_name + ":")
                )
                if document["jobDefinitionName"] == job_definition_name
            ]
            revision = max(revisions, default=0) + 1
            arn = arns.build_arn(ctx, arns.JOB_DEFINITION, f"{job_definition_name}:{revision}")
            document = _described(request)
            document.update(
                {
                    "_arn": arn,
                    SEQUENCE: self.next_sequence(),
                    "jobDefinitionArn": arn,
                    "revision": revision,
                    "status": ACTIVE,
                }
            )
            self.store.put(KIND, arn, document)
            set_tags(self.store, arn, tags)
        return {"jobDefinitionName": job_definition_name, "jobDefinitionArn": arn, "revision": revision}

    def deregister_job_definition(self, ctx: RequestContext, *, job_definition: str) -> dict[str, Any]:
        """Unknown identifiers and already-INACTIVE revisions succeed and change nothing (a 2017
        observation, reference §5.3). A bare name deregisters its latest ACTIVE revision (AWS's own
        example passes a bare name; unverified which revision it affects)."""
        with self.store.lock:
            try:
                document = resolve_definition_for_submit(self.store, ctx, job_definition)
            except ServiceError:  # unknown or inactive: a no-op, as observed
                return {}
            stored = self.store.get(KIND, document["jobDefinitionArn"])
            stored["status"] = INACTIVE
            self.store.put(KIND, stored["_arn"], stored)
        return {}

    def describe_job_definitions(
        self,
        ctx: RequestContext,
        *,
        job_definitions: list[str] | None = None,
        max_results: int | None = None,
        job_definition_name: str | None = None,
        status: str | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Newest registration first, so revisions of one name come newest first (observed).
        `jobDefinitions` entries may be `name:revision`, ARNs, or bare names (all revisions)."""
        rules.check_describe_ids("job definitions", job_definitions)
        if job_definitions is not None and (job_definition_name is not None or status is not None):
            raise errors.invalid("jobDefinitions cannot be combined with jobDefinitionName or status")
        # Not copied: the documents are only filtered, sorted and serialized.
        if job_definition_name is not None:
            prefix = arns.build_arn(ctx, arns.JOB_DEFINITION, job_definition_name + ":")
        else:
            prefix = arns.tenant_prefix(ctx)
        documents = self.store.scan(KIND, prefix)
        if job_definitions is not None:
            wanted = [_split_identifier(ctx, given) for given in job_definitions]
            documents = [d for d in documents if any(_matches(d, name, rev) for name, rev in wanted)]
        if job_definition_name is not None:
            documents = [d for d in documents if d["jobDefinitionName"] == job_definition_name]
        if status is not None:
            documents = [d for d in documents if d["status"] == status]
        documents.sort(key=lambda d: -d[SEQUENCE])
        page, token = tokens.paginate(
            "DescribeJobDefinitions",
            documents,
            lambda d: -d[SEQUENCE],
            max_results=max_results,
            next_token=next_token,
        )
        result: dict[str, Any] = {"jobDefinitions": [_view(self.store, document) for document in page]}
        if token:
            result["nextToken"] = token
        return result

    # ---- validation (reference §5.3) ----

    def _check_definition(self, ctx: RequestContext, request: dict[str, Any]) -> None:
        rules.check_name("Job definition", request["jobDefinitionName"])
        if rules.json_size_bytes(request) > rules.MAX_JOB_DEFINITION_BYTES:
            size_kib = -(-rules.json_size_bytes(request) // 1024)
            raise errors.invalid(f"Job definition size must be less than 24 KiB, got {size_kib} KiB")
        rules.check_tags(request.get("tags"))
        rules.check_range(
            "schedulingPriority", request.get("schedulingPriority"), 0, rules.MAX_SCHEDULING_PRIORITY
        )
        rules.check_retry_strategy(request.get("retryStrategy"))
        attempt_seconds = (request.get("timeout") or {}).get("attemptDurationSeconds")
        if attempt_seconds is not None and attempt_seconds < self.settings.min_timeout_seconds:
            raise errors.invalid(
                f"timeout.attemptDurationSeconds must be at least {self.settings.min_timeout_seconds}"
            )
        is_fargate = "FARGATE" in (request.get("platformCapabilities") or ())
        if request["type"] == "container":
            _check_container_definition(request, is_fargate)
        else:
            _check_multinode_definition(request, is_fargate)
        self._check_consumables(ctx, request.get("consumableResourceProperties"))

    def _check_consumables(self, ctx: RequestContext, properties: dict[str, Any] | None) -> None:
        from emulator.services.batch.consumables import KIND as CONSUMABLE_KIND

        for requirement in (properties or {}).get("consumableResourceList") or ():
            given = requirement.get("consumableResource", "")
            arn = arns.arn_for(ctx, arns.CONSUMABLE_RESOURCE, given)
            if self.live_document(CONSUMABLE_KIND, arn) is None:
                raise errors.invalid(f"Consumable resource {given} does not exist")
            rules.check_range("quantity", requirement.get("quantity"), 1)


def _matches(document: dict[str, Any], name: str | None, revision: int | None) -> bool:
    return document["jobDefinitionName"] == name and (revision is None or document["revision"] == revision)


def _check_container_definition(request: dict[str, Any], is_fargate: bool) -> None:
    given = [
        member for member in ("containerProperties", "ecsProperties", "eksProperties") if member in request
    ]
    if "nodeProperties" in request:
        raise errors.invalid("nodeProperties is only valid for multinode job definitions")
    if len(given) != 1:
        raise errors.invalid(
            "Exactly one of containerProperties, ecsProperties or eksProperties must be specified for container "
            "job definitions"
        )
    if "eksProperties" in request:
        # `propagateTags: false` only restates the default: the Terraform AWS provider sends it with
        # every definition, EKS ones included, and AWS registers them.
        for member in ("platformCapabilities", "propagateTags"):
            if member in request and request[member] is not False:
                raise errors.invalid(f"{member} is not applicable for EKS job definitions")
        _check_eks_properties(request["eksProperties"])
    elif "ecsProperties" in request:
        _check_ecs_properties(request["ecsProperties"], is_fargate)
    else:
        check_container(request["containerProperties"], is_fargate)


def _check_multinode_definition(request: dict[str, Any], is_fargate: bool) -> None:
    if is_fargate:
        raise errors.invalid("multinode job definitions are not supported on FARGATE")
    for member in ("containerProperties", "ecsProperties", "eksProperties"):
        if member in request:
            raise errors.invalid(
                f"{member} is not applicable for multinode job definitions; use nodeProperties"
            )
    properties = request.get("nodeProperties")
    if properties is None:
        raise errors.invalid("nodeProperties must be specified for multinode job definitions")
    num_nodes, main_node = properties["numNodes"], properties["mainNode"]
    rules.check_range("numNodes", num_nodes, 1, rules.MAX_NODES)
    if not 0 <= main_node < num_nodes:
        raise errors.invalid("mainNode must be less than numNodes")
    covered = [0] * num_nodes
    for node_range in properties["nodeRangeProperties"]:
        start, end = _target_range(node_range["targetNodes"], num_nodes)
        for index in range(start, end + 1):
            covered[index] += 1
        if len(node_range.get("instanceTypes") or ()) > 1:
            raise errors.invalid("instanceTypes in nodeRangeProperties can have at most 1 element")
        if sum(member in node_range for member in ("container", "ecsProperties", "eksProperties")) != 1:
            raise errors.invalid(
                "Exactly one of container, ecsProperties or eksProperties must be specified for each node range"
            )
        if "container" in node_range:
            check_container(node_range["container"], is_fargate=False)
        elif "ecsProperties" in node_range:
            _check_ecs_properties(node_range["ecsProperties"], is_fargate=False)
        elif "eksProperties" in node_range:
            _check_eks_properties(node_range["eksProperties"])
    if any(count != 1 for count in covered):
        raise errors.invalid("targetNodes in nodeRangeProperties must cover every node exactly once")


def _target_range(target: str, num_nodes: int) -> tuple[int, int]:
    """`n`, `a:b`, `:b` or `a:` (reference §11), inside `0..num_nodes-1`."""
    start_text, separator, end_text = target.partition(":")
    try:
        start = numeric_text.node_index(start_text) if start_text else 0
        if not separator:
            end = start
        else:
            end = numeric_text.node_index(end_text) if end_text else num_nodes - 1
    except numeric_text.NumericTextError:
        raise errors.invalid(f"Invalid targetNodes: {target}") from None
    if target in ("", ":") or start > end or end >= num_nodes:
        raise errors.invalid(f"Invalid targetNodes: {target}")
    return start, end


def check_container(container: dict[str, Any], is_fargate: bool) -> None:
    """ContainerProperties rules for EC2 and Fargate (reference §5.3, §17)."""
    if not container.get("image"):
        raise errors.invalid("image must be specified in containerProperties")
    rules.check_environment(container.get("environment"))
    requirements = _requirements(container.get("resourceRequirements") or [])
    for legacy, kind in (("vcpus", "VCPU"), ("memory", "MEMORY")):
        if legacy in container and kind in requirements:
            raise errors.invalid(f"{legacy} and resourceRequirements {kind} cannot both be specified")
    if is_fargate:
        _check_fargate_container(container, requirements)
    else:
        for member in _FARGATE_ONLY:
            if member in container:
                raise errors.not_applicable_for_ec2(member)
        rules.check_legacy_figures(container)
        _check_ec2_requirements(requirements)


def _requirements(entries: list[dict[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for entry in entries:
        kind, value = entry["type"], entry["value"]
        if kind in found:
            raise errors.invalid(f"resourceRequirements can contain only one {kind} entry")
        found[kind] = rules.read_requirement(kind, value)
    return found


def _check_ec2_requirements(requirements: dict[str, float]) -> None:
    if requirements.get("VCPU", 1) < 1:
        raise errors.invalid("VCPU must be at least 1 for EC2 resources")
    if requirements.get("MEMORY", 4) < 4:
        raise errors.invalid("MEMORY must be at least 4 MiB")
    if requirements.get("GPU", 0) < 0 or requirements.get("GPU", 0) != int(requirements.get("GPU", 0)):
        raise errors.invalid("GPU must be a non-negative integer")


def _check_fargate_container(container: dict[str, Any], requirements: dict[str, float]) -> None:
    if not container.get("executionRoleArn"):
        raise errors.invalid("Execution role is required for Fargate.")
    for member in ("vcpus", "memory", "ulimits", "instanceType"):
        if container.get(member):
            raise errors.not_applicable_for_fargate(member)
    if container.get("privileged"):
        raise errors.not_applicable_for_fargate("privileged")
    for member in _FARGATE_FORBIDDEN_LINUX:
        if (container.get("linuxParameters") or {}).get(member):
            raise errors.not_applicable_for_fargate(member)
    if any("host" in volume for volume in container.get("volumes") or ()):
        raise errors.not_applicable_for_fargate("host")
    if "GPU" in requirements:
        raise errors.not_applicable_for_fargate("GPU")
    vcpus, memory = requirements.get("VCPU"), requirements.get("MEMORY")
    if vcpus is None or memory is None or not rules.fargate_size_is_valid(vcpus, int(memory)):
        raise errors.invalid(
            f"Fargate resource requirements VCPU={vcpus} MEMORY={memory} are not a supported combination"
        )


def _check_ecs_properties(properties: dict[str, Any], is_fargate: bool) -> None:
    tasks = properties["taskProperties"]
    if len(tasks) != 1:
        raise errors.invalid("taskProperties must contain exactly 1 element")
    containers = tasks[0]["containers"]
    if not 1 <= len(containers) <= 10:
        raise errors.invalid("taskProperties containers must contain between 1 and 10 elements")
    if all(container.get("essential") is False for container in containers):
        raise errors.invalid("At least one container must be essential")
    names = [container.get("name") for container in containers if container.get("name")]
    if len(set(names)) != len(names):
        raise errors.invalid("Container names in taskProperties must be unique")
    for container in containers:
        rules.check_environment(container.get("environment"))
        _requirements(container.get("resourceRequirements") or [])


def _check_eks_properties(properties: dict[str, Any]) -> None:
    pod = properties.get("podProperties") or {}
    for member in ("containers", "initContainers"):
        containers = pod.get(member) or []
        if len(containers) > 10:
            raise errors.invalid(f"{member} can contain at most 10 elements")
        names = [container.get("name") for container in containers if container.get("name")]
        if len(set(names)) != len(names):
            raise errors.invalid(f"Container names in {member} must be unique")
    if not pod.get("containers"):
        raise errors.invalid("podProperties must contain at least one container")
    for container in [*(pod.get("initContainers") or ()), *pod["containers"]]:
        rules.check_simulation_variables(container.get("env"))
        resources = container.get("resources") or {}
        for figures in (resources.get("limits") or {}, resources.get("requests") or {}):
            for name, value in figures.items():
                rules.read_kubernetes_quantity(name, value)


# ---- describe defaults (Appendix C.3) ----


def _described(request: dict[str, Any]) -> dict[str, Any]:
    document = {key: value for key, value in request.items() if key != "tags"}
    document.setdefault("parameters", {})
    if "containerProperties" in document:
        document["containerProperties"] = _described_container(document["containerProperties"])
    if "nodeProperties" in document:
        ranges = [
            {**node_range, "container": _described_container(node_range["container"])}
            if "container" in node_range
            else node_range
            for node_range in document["nodeProperties"]["nodeRangeProperties"]
        ]
        document["nodeProperties"] = {**document["nodeProperties"], "nodeRangeProperties": ranges}
    if "retryStrategy" in document:
        document["retryStrategy"] = {"evaluateOnExit": [], **document["retryStrategy"]}
    ranges = (document.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    is_eks = "eksProperties" in document or any("eksProperties" in node_range for node_range in ranges)
    document["containerOrchestrationType"] = "EKS" if is_eks else "ECS"
    return document


def _described_container(container: dict[str, Any]) -> dict[str, Any]:
    described = dict(container)
    for member in _CONTAINER_LISTS:
        described.setdefault(member, [])
    if "logConfiguration" in described:
        described["logConfiguration"] = {"secretOptions": [], **described["logConfiguration"]}
    return described
