"""The model constraints AWS does not enforce, one at a time, and the neighbours that stay enforced.

Each relaxation in `emulator/protocol/relaxations.py` stands for a request that a widely used client
sends and AWS accepts (docs/known-differences.md, "Where AWS is looser than its model").
"""

from __future__ import annotations

import pytest

from emulator.protocol.relaxations import ENUM_CANONICAL_CASE, ENUM_CASE, MIN, RELAXATIONS
from emulator.protocol.validation import find_violations, in_model_spelling

from .wire import BATCH_MODEL, LOGS_MODEL


def _input(model, name):
    return model.operation_model(name).input_shape


def _shape_names(model) -> set[str]:
    return set(model.shape_names)


JOB = {"jobName": "j", "jobQueue": "q", "jobDefinition": "d"}
DEFINITION = {"jobDefinitionName": "d", "type": "container", "containerProperties": {"image": "busybox"}}
SERVICE_JOB = {
    "jobName": "j",
    "jobQueue": "q",
    "serviceJobType": "SAGEMAKER_TRAINING",
    "serviceRequestPayload": "{}",
}


def _retry(action: str) -> dict:
    return {"retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": action, "onExitCode": "1"}]}}


def _operations_taking_batch_tags() -> list[str]:
    return [
        name
        for name in BATCH_MODEL.operation_names
        if (shape := _input(BATCH_MODEL, name)) is not None
        and "tags" in shape.members
        and shape.members["tags"].name == "TagrisTagsMap"
    ]


@pytest.mark.parametrize("operation", _operations_taking_batch_tags())
def test_empty_tags_map_is_accepted_by_every_batch_operation_that_takes_tags(operation):
    """Airflow's BatchOperator sends `tags: {}` on SubmitJob, Snakemake's plugin on
    RegisterJobDefinition; the model's `min: 1` is not enforced by AWS."""
    shape = _input(BATCH_MODEL, operation)
    violations = find_violations(shape, {"tags": {}})
    assert not any("at 'tags'" in violation for violation in violations)


def test_fifty_one_tags_are_still_rejected():
    tags = {f"k{i}": "v" for i in range(51)}
    [violation] = find_violations(_input(BATCH_MODEL, "SubmitJob"), {**JOB, "tags": tags})
    assert violation.endswith("Member must have length less than or equal to 50")


def test_empty_tag_key_is_still_rejected():
    [violation] = find_violations(_input(BATCH_MODEL, "SubmitJob"), {**JOB, "tags": {"": "v"}})
    assert violation == (
        "Value '' at 'tags.key' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )


def test_logs_tags_keep_their_minimum():
    """CloudWatch Logs' own `Tags` shape is not relaxed: no client sends it empty."""
    [violation] = find_violations(_input(LOGS_MODEL, "CreateLogGroup"), {"logGroupName": "g", "tags": {}})
    assert violation.startswith("Value '{}' at 'tags' failed to satisfy constraint: Member must have length")


@pytest.mark.parametrize("action", ["retry", "exit", "Retry", "eXiT", "RETRY", "EXIT"])
@pytest.mark.parametrize(
    "operation, request_members", [("SubmitJob", JOB), ("RegisterJobDefinition", DEFINITION)]
)
def test_retry_action_is_accepted_in_any_case(operation, request_members, action):
    """The model documents `action` as not case sensitive; Terraform sends `retry` / `exit`."""
    shape = _input(BATCH_MODEL, operation)
    assert find_violations(shape, {**request_members, **_retry(action)}) == []


def test_retry_action_outside_the_enum_is_still_rejected():
    shape = _input(BATCH_MODEL, "SubmitJob")
    assert find_violations(shape, {**JOB, **_retry("restart")}) == [
        "Value 'restart' at 'retryStrategy.evaluateOnExit.1.member.action' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RETRY, EXIT]"
    ]


def test_service_job_retry_action_keeps_its_case():
    """ServiceJobRetryAction's documentation lists RETRY and EXIT with no word on case."""
    shape = _input(BATCH_MODEL, "SubmitServiceJob")
    strategy = {"retryStrategy": {"attempts": 2, "evaluateOnExit": [{"action": "retry"}]}}
    [violation] = find_violations(shape, {**SERVICE_JOB, **strategy})
    assert "Member must satisfy enum value set: [RETRY, EXIT]" in violation


@pytest.mark.parametrize(
    "operation, request_members",
    [
        pytest.param("RegisterJobDefinition", {**DEFINITION, "type": "CONTAINER"}, id="job-definition-type"),
        pytest.param("ListJobs", {"jobQueue": "q", "jobStatus": "running"}, id="job-status"),
        pytest.param(
            "CreateJobQueue",
            {"jobQueueName": "q", "priority": 1, "state": "enabled", "computeEnvironmentOrder": []},
            id="job-queue-state",
        ),
        pytest.param(
            "RegisterJobDefinition", {**DEFINITION, "platformCapabilities": ["fargate"]}, id="platform"
        ),
    ],
)
def test_other_enums_stay_case_sensitive(operation, request_members):
    violations = find_violations(_input(BATCH_MODEL, operation), request_members)
    assert len(violations) == 1
    assert "Member must satisfy enum value set" in violations[0]


@pytest.mark.parametrize("shape_name, constraint", sorted(RELAXATIONS))
def test_every_relaxation_names_a_batch_shape_that_declares_the_constraint(shape_name, constraint):
    """A botocore update that renames a shape or drops the constraint must show here, not silently
    turn a relaxation into dead data; Logs must not declare a shape of the same name."""
    assert shape_name in _shape_names(BATCH_MODEL)
    assert shape_name not in _shape_names(LOGS_MODEL)
    shape = BATCH_MODEL.shape_for(shape_name)
    if constraint == MIN:
        assert "min" in shape.metadata
    else:
        assert constraint in (ENUM_CASE, ENUM_CANONICAL_CASE) and shape.enum


MANAGED_EC2 = {
    "computeEnvironmentName": "c",
    "type": "managed",
    "state": "enabled",
    "computeResources": {
        "type": "ec2",
        "allocationStrategy": "Best_Fit",
        "maxvCpus": 4,
        "subnets": ["s"],
        "instanceTypes": ["optimal"],
    },
}


def test_compute_environment_enums_are_accepted_in_any_case():
    """The AWS CDK sends `type: managed`; the Terraform provider sends `type`, `state`,
    `compute_resources.type` and `allocation_strategy` as written (its tests use `Best_Fit`)."""
    assert find_violations(_input(BATCH_MODEL, "CreateComputeEnvironment"), MANAGED_EC2) == []
    update = {"computeEnvironment": "c", "state": "disabled", "computeResources": {"type": "spot"}}
    update["computeResources"]["allocationStrategy"] = "spot_capacity_optimized"
    assert find_violations(_input(BATCH_MODEL, "UpdateComputeEnvironment"), update) == []


def test_compute_environment_enums_are_taken_in_the_model_spelling():
    """AWS describes a compute environment created as `managed` as MANAGED."""
    shape = _input(BATCH_MODEL, "CreateComputeEnvironment")
    respelled = in_model_spelling(shape, {**MANAGED_EC2, "tags": {"type": "managed"}})
    assert (respelled["type"], respelled["state"]) == ("MANAGED", "ENABLED")
    resources = respelled["computeResources"]
    assert (resources["type"], resources["allocationStrategy"]) == ("EC2", "BEST_FIT")
    assert resources["subnets"] == ["s"]
    assert respelled["tags"] == {"type": "managed"}


def test_retry_actions_keep_the_client_spelling():
    shape = _input(BATCH_MODEL, "SubmitJob")
    params = {**JOB, **_retry("retry")}
    assert in_model_spelling(shape, params) is params


def test_shapes_leading_to_model_spelled_enums_have_no_namesake_in_logs():
    """The walk memoizes by shape name: a Logs shape of the same name as a Batch shape that leads to
    such an enum would be walked as if it were the Batch one."""
    canonical = {name for name, constraint in RELAXATIONS if constraint == ENUM_CANONICAL_CASE}

    def leads(shape, seen=frozenset()) -> bool:
        if shape.name in canonical:
            return True
        if shape.name in seen:
            return False
        children = {
            "structure": lambda: list(shape.members.values()),
            "list": lambda: [shape.member],
            "map": lambda: [shape.value],
        }.get(shape.type_name, list)()
        return any(leads(child, seen | {shape.name}) for child in children)

    leading = {name for name in BATCH_MODEL.shape_names if leads(BATCH_MODEL.shape_for(name))}
    assert "CreateComputeEnvironmentRequest" in leading
    assert not leading & _shape_names(LOGS_MODEL)
