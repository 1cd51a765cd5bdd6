"""SubmitJob's translation: a job definition plus the submit-time overrides -> JobSubmission.

Pure functions over wire-shaped dicts (the definition document and the request members). They
apply AWS's rules for parameters (reference §14.1), container overrides (§14.2), resource
requirements (§17), retry strategy (§12) and timeouts (§13), and produce both the engine's
snake_case ContainerSpec and the wire fragments DescribeJobs echoes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.engine import numeric_text
from emulator.engine.records import (
    ContainerSpec,
    Device,
    ExitRule,
    Mount,
    MultiNode,
    NodeSpec,
    RetryPolicy,
    TaskContainer,
    TaskSpec,
    Tmpfs,
    Ulimit,
    Volume,
)
from emulator.protocol.errors import ServiceError
from emulator.services.batch import rules

REF_PREFIX = "Ref::"
DEFAULT_LOG_GROUP = "/aws/batch/job"
MAX_STREAM_PREFIX = 200  # AWS keeps the first 200 characters of the definition name (§15)
_DEFAULT_VCPUS = 1.0
_DEFAULT_MEMORY_MIB = 2048
DEPRECATED_KEY = (
    "This value was submitted in a deprecated key and may conflict with the value provided by the "
    "job definition's resource requirements."
)


def client_error(message: str, *, wrapped: bool = False) -> ServiceError:
    return ServiceError("ClientException", message, wrapped=wrapped)


def merged_parameters(definition: Mapping[str, Any], submitted: Mapping[str, str] | None) -> dict[str, str]:
    """Submit-time values win over the definition's defaults (§14.1)."""
    return {**(definition.get("parameters") or {}), **(submitted or {})}


def substitute(command: list[str], parameters: Mapping[str, str]) -> list[str]:
    """Replace whole `Ref::name` elements; strings that merely contain `Ref::` stay as they are
    (AWS's documented examples only use whole elements; reference §14.1, Appendix D.3)."""
    result = []
    for element in command:
        if element.startswith(REF_PREFIX):
            name = element[len(REF_PREFIX) :]
            if name not in parameters:
                raise client_error(f"Unable to substitute value. No parameter found for reference {name}")
            result.append(parameters[name])
        else:
            result.append(element)
    return result


def merge_environment(
    base: list[Mapping[str, Any]], overrides: list[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Overrides replace variables of the same name in place and add new ones at the end (§14.2);
    names starting with AWS_BATCH are refused. Container overrides (`environment`) and EKS pod
    container overrides (`env`, whose model documentation says the same) share this rule."""
    if overrides:
        rules.check_environment(overrides)
    merged = {v["name"]: dict(v) for v in base if "name" in v}
    for variable in overrides or []:
        if "name" in variable:
            merged[variable["name"]] = dict(variable)
    return list(merged.values())


def merge_requirements(
    base: list[Mapping[str, Any]], overrides: list[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """An override entry replaces the definition's entry of the same type (§14.2)."""
    merged = {r["type"]: dict(r) for r in base if "type" in r}
    for requirement in overrides or []:
        merged[requirement["type"]] = dict(requirement)
    return list(merged.values())


def effective_container(
    properties: Mapping[str, Any], overrides: Mapping[str, Any] | None, parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The container as DescribeJobs shows it: the definition's properties after overrides and
    parameter substitution, with AWS's always-present empty collections."""
    overrides = overrides or {}
    container = {key: value for key, value in properties.items()}
    command = overrides.get("command")
    if command is not None:
        if any(element == "" for element in command):
            raise client_error("Container override command must not contain an empty string.", wrapped=True)
    else:
        command = properties.get("command") or []
    container["command"] = substitute(list(command), parameters)

    container["environment"] = merge_environment(
        properties.get("environment") or [], overrides.get("environment")
    )

    uses_requirements = bool(properties.get("resourceRequirements"))
    for legacy in ("vcpus", "memory"):
        if legacy in overrides:
            if uses_requirements:
                raise client_error(DEPRECATED_KEY)
            container[legacy] = overrides[legacy]
    rules.check_legacy_figures(
        container
    )  # also a definition stored before RegisterJobDefinition checked them
    container["resourceRequirements"] = merge_requirements(
        properties.get("resourceRequirements") or [], overrides.get("resourceRequirements")
    )
    if "instanceType" in overrides:
        container["instanceType"] = overrides["instanceType"]
    for key in ("volumes", "mountPoints", "ulimits", "secrets", "networkInterfaces"):
        container.setdefault(key, [])
    return container


def requirement_value(container: Mapping[str, Any], kind: str) -> str | None:
    for requirement in container.get("resourceRequirements") or []:
        if requirement.get("type") == kind:
            return requirement.get("value")
    return None


def container_spec(
    container: Mapping[str, Any], *, definition_name: str, with_defaults: bool = True
) -> ContainerSpec:
    """The engine's view of what to run. Without any vCPU or memory figure the emulator assumes
    1 vCPU and 2048 MiB rather than rejecting the job (AWS's behaviour is unverified, Appendix D.15);
    `with_defaults=False` (a task's containers) leaves them 0: no limit of their own."""
    vcpus = _requirement(container, "VCPU")
    memory = _requirement(container, "MEMORY")
    gpus = _requirement(container, "GPU")
    if vcpus is None and container.get("vcpus") is not None:
        vcpus = float(container["vcpus"])
    if memory is None and container.get("memory") is not None:
        memory = float(container["memory"])
    linux = container.get("linuxParameters") or {}
    log_options = (container.get("logConfiguration") or {}).get("options") or {}
    return ContainerSpec(
        image=container.get("image", ""),
        command=tuple(container.get("command") or ()),
        environment=tuple((v["name"], str(v.get("value", ""))) for v in container.get("environment") or []),
        vcpus=vcpus if vcpus is not None else (_DEFAULT_VCPUS if with_defaults else 0.0),
        memory_mib=int(memory) if memory is not None else (_DEFAULT_MEMORY_MIB if with_defaults else 0),
        gpus=int(gpus or 0),
        user=container.get("user"),
        privileged=bool(container.get("privileged", False)),
        readonly_root_filesystem=bool(container.get("readonlyRootFilesystem", False)),
        volumes=tuple(
            Volume(v.get("name", ""), (v.get("host") or {}).get("sourcePath"))
            for v in container.get("volumes") or []
        ),
        mounts=tuple(
            Mount(m.get("sourceVolume", ""), m.get("containerPath", ""), bool(m.get("readOnly", False)))
            for m in container.get("mountPoints") or []
        ),
        ulimits=tuple(
            Ulimit(u["name"], int(u.get("softLimit", 0)), int(u.get("hardLimit", 0)))
            for u in container.get("ulimits") or []
        ),
        devices=tuple(
            Device(d["hostPath"], d.get("containerPath"), tuple(d.get("permissions") or ()))
            for d in linux.get("devices") or []
        ),
        init_process=bool(linux.get("initProcessEnabled", False)),
        shared_memory_mib=linux.get("sharedMemorySize"),
        tmpfs=tuple(
            Tmpfs(t["containerPath"], int(t.get("size", 0)), tuple(t.get("mountOptions") or ()))
            for t in linux.get("tmpfs") or []
        ),
        log_group=log_options.get("awslogs-group", DEFAULT_LOG_GROUP),
        log_stream_prefix=log_options.get("awslogs-stream-prefix", definition_name[:MAX_STREAM_PREFIX]),
        secrets=tuple((s.get("name", ""), s.get("valueFrom", "")) for s in container.get("secrets") or []),
    )


def _requirement(container: Mapping[str, Any], kind: str) -> float | None:
    text = requirement_value(container, kind)
    return None if text is None else rules.read_requirement(kind, text)


def check_simulation_variables(
    container: ContainerSpec, task: TaskSpec | None = None, multinode: MultiNode | None = None
) -> None:
    """`rules.check_simulation_variables` on the environment of every container the job runs, as
    the definition and the overrides merge it."""
    specs = [container, *(c.spec for c in task.containers)] if task is not None else [container]
    for node in multinode.nodes if multinode is not None else ():
        specs += [node.container, *(c.spec for c in node.task.containers)] if node.task else [node.container]
    for spec in specs:
        rules.check_simulation_variables([{"name": name, "value": value} for name, value in spec.environment])


def retry_policy(strategy: Mapping[str, Any] | None) -> RetryPolicy:
    if not strategy:
        return RetryPolicy()
    rules = tuple(
        ExitRule(
            action=str(rule.get("action", "")),
            on_exit_code=rule.get("onExitCode"),
            on_reason=rule.get("onReason"),
            on_status_reason=rule.get("onStatusReason"),
        )
        for rule in strategy.get("evaluateOnExit") or []
    )
    return RetryPolicy(attempts=int(strategy.get("attempts", 1)), rules=rules)


def echoed_retry_strategy(strategy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """DescribeJobs echoes `evaluateOnExit: []` when only `attempts` was given (Appendix C.3)."""
    if not strategy:
        return None
    return {"attempts": strategy["attempts"], "evaluateOnExit": list(strategy.get("evaluateOnExit") or [])}


# ---- ECS properties (reference §18) --------------------------------------------------------------


def ecs_task(
    properties: Mapping[str, Any],
    override: Mapping[str, Any] | None,
    parameters: Mapping[str, str],
    *,
    definition_name: str,
) -> tuple[TaskSpec, ContainerSpec, dict[str, Any]]:
    """The task to run, its totals for scheduling, and `ecsProperties` as DescribeJobs echoes it.
    Overrides (`taskProperties[0].containers[]`) match containers by name."""
    task = dict(properties["taskProperties"][0])
    overrides = _by_name(((override or {}).get("taskProperties") or [{}])[0].get("containers") or [])
    containers, specs = [], []
    for index, given in enumerate(task.get("containers") or []):
        name = given.get("name") or _default_name(index, len(task["containers"]))
        effective = effective_container(given, overrides.pop(name, None), parameters)
        effective["name"] = name
        if "volumes" not in given:  # a task-level member, not a container's
            effective.pop("volumes", None)
        containers.append(effective)
        spec = container_spec(effective, definition_name=definition_name, with_defaults=False)
        specs.append(
            TaskContainer(
                name=name,
                spec=spec,
                essential=bool(given.get("essential", True)),
                depends_on=tuple(
                    (d.get("containerName", ""), str(d.get("condition", "START")).upper())
                    for d in given.get("dependsOn") or []
                ),
            )
        )
    if overrides:
        raise client_error(f"Container override names {sorted(overrides)} do not match the job definition.")
    task["containers"] = containers
    task_spec = TaskSpec("ecs", tuple(specs))
    return task_spec, task_totals(task_spec, definition_name), {"taskProperties": [task]}


# ---- EKS properties (reference §19) --------------------------------------------------------------


def eks_task(
    properties: Mapping[str, Any],
    override: Mapping[str, Any] | None,
    *,
    definition_name: str,
    namespace: str,
) -> tuple[TaskSpec, ContainerSpec, dict[str, Any]]:
    """The pod to run (init containers first, in order), its totals, and `eksProperties` as
    DescribeJobs echoes it. Overrides (`podProperties.containers[]`/`initContainers[]`) match by name."""
    pod = dict(properties.get("podProperties") or {})
    pod_override = (override or {}).get("podProperties") or {}
    members: list[TaskContainer] = []
    previous_init: str | None = None
    for member in ("initContainers", "containers"):
        given_list = pod.get(member) or []
        overrides = _by_name(pod_override.get(member) or [], single=given_list)
        effective_list = []
        for index, given in enumerate(given_list):
            name = given.get("name") or _default_name(index, len(given_list))
            effective = eks_effective_container(given, overrides.pop(name, None), name)
            effective_list.append(effective)
            is_init = member == "initContainers"
            depends_on = ((previous_init, "SUCCESS"),) if previous_init else ()
            members.append(
                TaskContainer(
                    name, eks_container_spec(effective, definition_name), False, depends_on, is_init
                )
            )
            if is_init:
                previous_init = name
        if overrides:
            raise client_error(
                f"Container override names {sorted(overrides)} do not match the job definition."
            )
        if given_list or member == "containers":
            pod[member] = effective_list
    if pod_override.get("metadata"):
        pod["metadata"] = {**(pod.get("metadata") or {}), **pod_override["metadata"]}
    task_spec = TaskSpec("eks", tuple(members), pod_namespace=namespace)
    return task_spec, task_totals(task_spec, definition_name), {"podProperties": pod}


def eks_effective_container(
    given: Mapping[str, Any], override: Mapping[str, Any] | None, name: str
) -> dict[str, Any]:
    """A pod container after its override: `env` merges by name, as a container override's
    `environment` does (§14.2); the other members given (`image`, `command`, `args`, `resources`)
    replace the definition's, as the model documents them."""
    override = {key: value for key, value in (override or {}).items() if key != "name"}
    effective = {**given, **override, "name": name}
    if "env" in override:
        effective["env"] = merge_environment(given.get("env") or [], override["env"])
    return effective


def eks_container_spec(container: Mapping[str, Any], definition_name: str) -> ContainerSpec:
    """`command` replaces the image's entrypoint and `args` are its arguments, as in Kubernetes."""
    resources = container.get("resources") or {}
    figures = {**(resources.get("requests") or {}), **(resources.get("limits") or {})}
    command = container.get("command")
    return ContainerSpec(
        image=container.get("image", ""),
        entrypoint=tuple(command) if command else None,
        command=tuple(container.get("args") or ()),
        environment=tuple((v["name"], str(v.get("value", ""))) for v in container.get("env") or []),
        vcpus=float(_quantity(figures, "cpu")),
        memory_mib=int(_quantity(figures, "memory")),
        gpus=int(_quantity(figures, "nvidia.com/gpu")),
        privileged=bool((container.get("securityContext") or {}).get("privileged", False)),
        log_stream_prefix=definition_name[:MAX_STREAM_PREFIX],
    )


def _quantity(figures: Mapping[str, str], name: str) -> float:
    """A Kubernetes quantity in the emulator's units (vCPUs, MiB, a count); 0 when not given."""
    text = figures.get(name)
    return rules.read_kubernetes_quantity(name, text) if text else 0


def task_totals(task: TaskSpec, definition_name: str) -> ContainerSpec:
    """What the task holds while placed: the sum of its containers' figures, with the single-
    container defaults when none gives any."""
    vcpus = sum(c.spec.vcpus for c in task.containers if not c.is_init)
    memory = sum(c.spec.memory_mib for c in task.containers if not c.is_init)
    gpus = sum(c.spec.gpus for c in task.containers)
    first = task.containers[0].spec
    return ContainerSpec(
        image=first.image,
        vcpus=vcpus or _DEFAULT_VCPUS,
        memory_mib=memory or _DEFAULT_MEMORY_MIB,
        gpus=gpus,
        log_stream_prefix=definition_name[:MAX_STREAM_PREFIX],
    )


def _default_name(index: int, count: int) -> str:
    return "default" if count == 1 else f"container-{index}"


def _by_name(
    overrides: list[Mapping[str, Any]], single: list[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Overrides keyed by container name; an unnamed override applies to a lone unnamed container."""
    found = {}
    for override in overrides:
        name = override.get("name")
        if name is None and single is not None and len(single) == 1:
            name = single[0].get("name") or "default"
        found[name or "default"] = override
    return found


# ---- multi-node parallel (reference §11) ---------------------------------------------------------


def parse_target_nodes(target: str, num_nodes: int) -> tuple[int, int]:
    """`n`, `a:b`, `:b`, `a:` -> inclusive (start, end), clipped to the node count. The
    definition's ranges were checked when it was registered; a submit-time target must match one."""
    start_text, sep, end_text = target.partition(":")
    try:
        start = numeric_text.node_index(start_text) if start_text else 0
        end = (numeric_text.node_index(end_text) if end_text else num_nodes - 1) if sep else start
    except numeric_text.NumericTextError:
        raise client_error(f"Invalid targetNodes: {target}", wrapped=True) from None
    return start, min(end, num_nodes - 1)


# What a node range runs, and the member of a `nodePropertyOverrides` entry that overrides it.
NODE_RANGE_OVERRIDES = {
    "container": "containerOverrides",
    "ecsProperties": "ecsPropertiesOverride",
    "eksProperties": "eksPropertiesOverride",
}


def multinode_spec(
    properties: Mapping[str, Any],
    node_overrides: Mapping[str, Any] | None,
    parameters: Mapping[str, str],
    *,
    definition_name: str,
    node_detail: Mapping[str, Any],
    pod_namespace: str = "default",
) -> tuple[MultiNode, ContainerSpec, dict[str, Any]]:
    """The nodes to run, their totals, and the effective `nodeProperties` DescribeJobs echoes.
    A range runs one container (`container`) or a whole task (`ecsProperties`, `eksProperties`)
    on each of its nodes, resolved as a single-node job of that kind would be."""
    ranges = list(properties["nodeRangeProperties"])
    overrides = node_overrides or {}
    num_nodes = int(overrides.get("numNodes") or properties["numNodes"])
    rules.check_range("numNodes", num_nodes, 1, rules.MAX_NODES)
    main_node = int(properties["mainNode"])
    if num_nodes != properties["numNodes"]:
        is_open = any(r["targetNodes"].endswith(":") for r in ranges)
        lows = [parse_target_nodes(r["targetNodes"], num_nodes)[0] for r in ranges]
        if not is_open or main_node >= num_nodes or any(low >= num_nodes for low in lows):
            raise client_error(
                "numNodes can be overridden only when a node range has an open upper bound and every range "
                "starts, and the main node lies, below the new count.",
                wrapped=True,
            )
    by_target = {r["targetNodes"]: r for r in ranges}
    range_overrides: dict[str, Mapping[str, Any]] = {}
    for override in overrides.get("nodePropertyOverrides") or []:
        target = override.get("targetNodes", "")
        if target not in by_target:
            raise client_error(
                f"NodeOverride targets should match job definition. Non matching targets - {target}"
            )
        range_overrides[target] = override
    resolved = [
        _node_range(
            node_range,
            range_overrides.get(node_range["targetNodes"]) or {},
            parameters,
            definition_name=definition_name,
            node_detail=node_detail,
            pod_namespace=pod_namespace,
        )
        for node_range in ranges
    ]
    nodes = []
    for index in range(num_nodes):
        covering = [
            (end - start, node)
            for node_range, (_, node) in zip(ranges, resolved, strict=True)
            for start, end in [parse_target_nodes(node_range["targetNodes"], num_nodes)]
            if start <= index <= end
        ]
        if not covering:
            raise client_error(f"Node {index} is not covered by any node range.", wrapped=True)
        nodes.append(min(covering, key=lambda item: item[0])[1])  # the innermost range wins (§11)
    totals = ContainerSpec(
        image=nodes[main_node].container.image,
        vcpus=sum(n.container.vcpus for n in nodes),
        memory_mib=sum(n.container.memory_mib for n in nodes),
        gpus=sum(n.container.gpus for n in nodes),
        log_stream_prefix=nodes[main_node].container.log_stream_prefix,
    )
    effective = {
        "numNodes": num_nodes,
        "mainNode": main_node,
        "nodeRangeProperties": [echoed for echoed, _ in resolved],
    }
    return MultiNode(num_nodes, main_node, tuple(nodes)), totals, effective


def _node_range(
    node_range: Mapping[str, Any],
    override: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    definition_name: str,
    node_detail: Mapping[str, Any],
    pod_namespace: str,
) -> tuple[dict[str, Any], NodeSpec]:
    """One range after its override: the range as the parent's `nodeProperties` echoes it and the
    NodeSpec every node of the range runs, whose `detail` is what DescribeJobs of a node shows."""
    target = node_range["targetNodes"]
    kinds = [kind for kind in NODE_RANGE_OVERRIDES if kind in node_range]
    if len(kinds) != 1:
        raise client_error(
            f"Node range {target} must specify exactly one of container, ecsProperties or eksProperties."
        )
    kind = kinds[0]
    for member in NODE_RANGE_OVERRIDES.values():
        if member != NODE_RANGE_OVERRIDES[kind] and override.get(member):
            raise client_error(f"{member} does not apply to node range {target}, which uses {kind}.")
    if kind == "container":
        container = effective_container(
            node_range["container"], override.get("containerOverrides"), parameters
        )
        spec = container_spec(container, definition_name=definition_name)
        # ContainerProperties (the parent's nodeProperties) has no runtime members; node jobs show them.
        echoed = {k: v for k, v in container.items() if k != "networkInterfaces"}
        return {**node_range, "container": echoed}, NodeSpec(spec, {**node_detail, "container": container})
    if kind == "ecsProperties":
        task, totals, effective = ecs_task(
            node_range["ecsProperties"],
            override.get("ecsPropertiesOverride"),
            parameters,
            definition_name=definition_name,
        )
        echoed_task = {
            **effective["taskProperties"][0],
            "containers": [
                {k: v for k, v in c.items() if k != "networkInterfaces"}
                for c in effective["taskProperties"][0]["containers"]
            ],
        }
        echoed = {**node_range, "ecsProperties": {"taskProperties": [echoed_task]}}
        return echoed, NodeSpec(totals, {**node_detail, "ecsProperties": effective}, task)
    task, totals, effective = eks_task(
        node_range["eksProperties"],
        override.get("eksPropertiesOverride"),
        definition_name=definition_name,
        namespace=pod_namespace,
    )
    echoed = {**node_range, "eksProperties": effective}
    return echoed, NodeSpec(totals, {**node_detail, "eksProperties": effective}, task)
