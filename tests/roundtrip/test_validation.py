"""The validator's sentences, one constraint at a time, and no false alarms on valid input."""

from __future__ import annotations

import pytest

from emulator.protocol.errors import ServiceError
from emulator.protocol.validation import find_violations, validate

from .values import SEEDS, VARIANTS, generate_input
from .wire import BATCH_MODEL, LOGS_MODEL, all_operations


def _input(model, name):
    return model.operation_model(name).input_shape


SUBMIT_JOB = _input(BATCH_MODEL, "SubmitJob")
LIST_JOBS = _input(BATCH_MODEL, "ListJobs")
PUT_LOG_EVENTS = _input(LOGS_MODEL, "PutLogEvents")
FILTER_LOG_EVENTS = _input(LOGS_MODEL, "FilterLogEvents")
PUT_QUERY_DEFINITION = _input(LOGS_MODEL, "PutQueryDefinition")
CREATE_LOG_GROUP = _input(LOGS_MODEL, "CreateLogGroup")
DESCRIBE_TEMPLATES = _input(LOGS_MODEL, "DescribeConfigurationTemplates")

JOB = {"jobName": "j", "jobQueue": "q", "jobDefinition": "d"}
STREAM = {"logGroupName": "g", "logStreamName": "s"}
EVENT = {"timestamp": 1, "message": "m"}


def _truncated(text: str) -> str:
    """Long values are shown as their first 64 characters and `...`."""
    return text[:64] + "..."


def _sentence(value: str, path: str, constraint: str) -> str:
    return f"{value} at '{path}' failed to satisfy constraint: {constraint}"


@pytest.mark.parametrize("variant, seed", [("full", s) for s in SEEDS] + [(v, 0) for v in VARIANTS[1:]])
@pytest.mark.parametrize("model, operation", all_operations())
def test_generated_valid_input_has_no_violations(model, operation, variant, seed):
    params = generate_input(operation.input_shape, variant, seed)
    assert find_violations(operation.input_shape, params) == []


def test_missing_required_members_in_model_order():
    assert find_violations(SUBMIT_JOB, {}) == [
        _sentence("Value null", name, "Member must not be null")
        for name in ("jobName", "jobQueue", "jobDefinition")
    ]


def test_json_null_counts_as_missing():
    assert find_violations(SUBMIT_JOB, {**JOB, "jobName": None, "shareIdentifier": None}) == [
        "Value null at 'jobName' failed to satisfy constraint: Member must not be null"
    ]


CASES = [
    # (shape, params, expected sentence)
    pytest.param(
        PUT_LOG_EVENTS,
        {**STREAM, "logEvents": [EVENT, {"message": "m"}]},
        "Value null at 'logEvents.2.member.timestamp' failed to satisfy constraint: Member must not be null",
        id="nested-required",
    ),
    pytest.param(
        PUT_LOG_EVENTS,
        {**STREAM, "logEvents": [None]},
        "Value null at 'logEvents.1.member' failed to satisfy constraint: Member must not be null",
        id="null-list-item",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "schedulingPriorityOverride": "5"},
        "Value '5' at 'schedulingPriorityOverride' failed to satisfy constraint: Member must be of type integer",
        id="string-for-int",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "jobName": 5},
        "Value '5' at 'jobName' failed to satisfy constraint: Member must be of type string",
        id="int-for-string",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "schedulingPriorityOverride": True},
        "Value 'true' at 'schedulingPriorityOverride' failed to satisfy constraint: Member must be of type integer",
        id="bool-for-int",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "schedulingPriorityOverride": 1.5},
        "Value '1.5' at 'schedulingPriorityOverride' failed to satisfy constraint: Member must be of type integer",
        id="float-for-int",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "propagateTags": "true"},
        "Value 'true' at 'propagateTags' failed to satisfy constraint: Member must be a boolean",
        id="string-for-bool",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "timeout": [1, "a"]},
        "Value '[1, a]' at 'timeout' failed to satisfy constraint: Member must be an object",
        id="list-for-structure",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "containerOverrides": {"command": "echo hi"}},
        "Value 'echo hi' at 'containerOverrides.command' failed to satisfy constraint: Member must be a list",
        id="string-for-nested-list",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "parameters": ["a"]},
        "Value '[a]' at 'parameters' failed to satisfy constraint: Member must be an object",
        id="list-for-map",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "dependsOn": [{"jobId": "x", "type": "PARALLEL"}]},
        "Value 'PARALLEL' at 'dependsOn.1.member.type' failed to satisfy constraint: "
        "Member must satisfy enum value set: [N_TO_N, SEQUENTIAL]",
        id="nested-enum",
    ),
    pytest.param(
        PUT_QUERY_DEFINITION,
        {"name": "", "queryString": "fields @message"},
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
        id="string-min",
    ),
    pytest.param(
        PUT_QUERY_DEFINITION,
        {"name": "n" * 256, "queryString": "q"},
        f"Value '{'n' * 64}...' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 255",
        id="string-max-value-truncated",
    ),
    pytest.param(
        PUT_LOG_EVENTS,
        {**STREAM, "logEvents": []},
        "Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
        id="list-min",
    ),
    pytest.param(
        PUT_QUERY_DEFINITION,
        {"name": "n", "queryString": "q", "parameters": [{"name": "p"}] * 21},
        f"Value '{_truncated('[' + ', '.join(['{name=p}'] * 21) + ']')}' at 'parameters' failed to satisfy constraint: Member must have length less than or equal to 20",
        id="list-max",
    ),
    pytest.param(
        CREATE_LOG_GROUP,
        {"logGroupName": "g", "tags": {}},
        "Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
        id="map-min",
    ),
    pytest.param(
        SUBMIT_JOB,
        {**JOB, "tags": {f"k{i}": "v" for i in range(51)}},
        f"Value '{_truncated('{' + ', '.join(f'k{i}=v' for i in range(51)) + '}')}' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
        id="map-max",
    ),
    pytest.param(
        FILTER_LOG_EVENTS,
        {"limit": 0},
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        id="int-min",
    ),
    pytest.param(
        FILTER_LOG_EVENTS,
        {"limit": 10001},
        "Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
        id="int-max",
    ),
    pytest.param(
        FILTER_LOG_EVENTS,
        {"startTime": -1},
        "Value '-1' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0",
        id="long-min",
    ),
    pytest.param(
        PUT_LOG_EVENTS,
        {**STREAM, "logStreamName": "a:b", "logEvents": [EVENT]},
        "Value 'a:b' at 'logStreamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [^:*]*",
        id="pattern-is-a-full-match",
    ),
    pytest.param(
        CREATE_LOG_GROUP,
        {"logGroupName": "my group"},
        "Value 'my group' at 'logGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        id="pattern-rejects-inner-space",
    ),
    pytest.param(
        DESCRIBE_TEMPLATES,
        {"resourceTypes": ["a b"]},
        "Value 'a b' at 'resourceTypes.1.member' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w-_]*",
        id="java-class-before-dash",
    ),
]


@pytest.mark.parametrize("shape, params, expected", CASES)
def test_one_violation(shape, params, expected):
    assert find_violations(shape, params) == [expected]


@pytest.mark.parametrize(
    "shape, params",
    [
        pytest.param(
            CREATE_LOG_GROUP, {"logGroupName": "g", "tags": {"Ünï cødé_1": "värde 中文 ٣"}}, id="unicode-tags"
        ),
        pytest.param(CREATE_LOG_GROUP, {"logGroupName": "g", "tags": {"k": ""}}, id="empty-tag-value"),
        pytest.param(DESCRIBE_TEMPLATES, {"resourceTypes": ["a-b_c", "_"]}, id="java-class-before-dash"),
        pytest.param(
            FILTER_LOG_EVENTS, {"limit": 1, "startTime": 0, "endTime": 2**63 - 1}, id="number-bounds"
        ),
        pytest.param(SUBMIT_JOB, {**JOB, "unknownMember": {"x": 1}}, id="undeclared-members-ignored"),
        pytest.param(LIST_JOBS, {"jobQueue": "q", "jobStatus": "RUNNING"}, id="enum"),
    ],
)
def test_valid_edge_values(shape, params):
    """`\\p{L}`-style classes crashed `re` and `[\\w-_]` did not compile: both must now validate."""
    assert find_violations(shape, params) == []


def test_unicode_tag_key_outside_the_class_is_rejected():
    violations = find_violations(CREATE_LOG_GROUP, {"logGroupName": "g", "tags": {"bad!": "v"}})
    assert len(violations) == 1
    assert violations[0].startswith(
        "Value 'bad!' at 'tags.key' failed to satisfy constraint: Member must satisfy"
    )


def test_enum_sentence_lists_the_model_values():
    enum = LIST_JOBS.members["jobStatus"].enum
    assert find_violations(LIST_JOBS, {"jobStatus": "DONE"}) == [
        "Value 'DONE' at 'jobStatus' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{', '.join(enum)}]"
    ]


def test_validate_counts_and_joins_violations():
    with pytest.raises(ServiceError) as caught:
        validate(SUBMIT_JOB, {"jobName": "j"}, error_code="ClientException", wrapped=False)
    error = caught.value
    assert (error.code, error.status, error.wrapped) == ("ClientException", 400, False)
    assert error.message == (
        "2 validation errors detected: "
        "Value null at 'jobQueue' failed to satisfy constraint: Member must not be null; "
        "Value null at 'jobDefinition' failed to satisfy constraint: Member must not be null"
    )


def test_validate_single_violation_wrapped_for_batch():
    with pytest.raises(ServiceError) as caught:
        validate(SUBMIT_JOB, {**JOB, "jobName": None}, error_code="ClientException", wrapped=True)
    assert caught.value.render_message("rid-1") == (
        "Error executing request, Exception : 1 validation error detected: "
        "Value null at 'jobName' failed to satisfy constraint: Member must not be null, RequestId: rid-1"
    )


def test_validate_passes_valid_input_and_missing_shape():
    validate(SUBMIT_JOB, JOB, error_code="ClientException", wrapped=True)
    validate(None, {}, error_code="InvalidParameterException", wrapped=False)
    assert find_violations(None, {"anything": 1}) == []
