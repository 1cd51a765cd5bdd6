"""botocore's request for every operation parses back to the params it was built from."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.handlers import generate_idempotent_uuid
from botocore.validate import ParamValidator

from emulator.protocol.validation import find_violations

from .values import SEEDS, generate_input
from .wire import BATCH_MODEL, LOGS_MODEL, MODELS, all_operations, send, serialize_request

CASES = [pytest.param("full", seed, id=f"full-{seed}") for seed in SEEDS] + [
    pytest.param(variant, 0, id=variant) for variant in ("required", "low", "high")
]

QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/my-queue"
# Slashes, a space, non-ASCII, an already-encoded slash and URL delimiters: botocore encodes all of
# them, werkzeug decodes once, and the label must come out as it went in.
ODD_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/a/b c/ü?x=1&y#frag%2F+;:42"

EDGE_CASES: list[Any] = [
    pytest.param(
        "batch", "TagResource", {"resourceArn": ODD_ARN, "tags": {"k": "v"}}, id="batch-tag-odd-arn"
    ),
    pytest.param("batch", "ListTagsForResource", {"resourceArn": QUEUE_ARN + "/"}, id="batch-trailing-slash"),
    pytest.param(
        "batch",
        "TagResource",
        {"resourceArn": QUEUE_ARN, "tags": {"Ünï cødé": "中文 𝄞", "a.b/c": "", "x=y&z": '"\\'}},
        id="batch-tag-unicode-map",
    ),
    pytest.param(
        "batch",
        "UntagResource",
        {"resourceArn": ODD_ARN, "tagKeys": ["a b", "c/d", "é", "x&y=z", "+", "%20", "k"]},
        id="batch-untag-query-escapes",
    ),
    pytest.param(
        "batch",
        "SubmitJob",
        {
            "jobName": "j",
            "jobQueue": QUEUE_ARN,
            "jobDefinition": "jd:1",
            "schedulingPriorityOverride": 0,
            "propagateTags": False,
            "arrayProperties": {"size": 2**31 - 1},
            "dependsOn": [],
            "parameters": {"p": "ünï\ncode", "empty": ""},
            "containerOverrides": {"command": [], "environment": [{"name": "E", "value": ""}]},
            "timeout": {"attemptDurationSeconds": 0},
        },
        id="batch-submit-falsy-and-large",
    ),
    pytest.param(
        "batch",
        "CreateSchedulingPolicy",
        {
            "name": "p",
            "fairsharePolicy": {
                "shareDecaySeconds": 604800,
                "computeReservation": 99,
                "shareDistribution": [
                    {"shareIdentifier": "a*", "weightFactor": 0.0001},
                    {"shareIdentifier": "b", "weightFactor": 999.9999},
                ],
            },
        },
        id="batch-floats",
    ),
    pytest.param(
        "logs",
        "PutLogEvents",
        {
            "logGroupName": "/aws/batch/job",
            "logStreamName": "jd/default/0123abcd",
            "logEvents": [
                {"timestamp": 2**63 - 1, "message": 'ünï\tcødé "quoted" \\ 𝄞\u2028'},
                {"timestamp": 0, "message": "{}"},
            ],
        },
        id="logs-put-events-unicode-large",
    ),
    pytest.param(
        "logs",
        "CreateLogGroup",
        {
            "logGroupName": "g",
            "tags": {"Ünï cødé_1": "värde 中文 ٣", "k": ""},
            "deletionProtectionEnabled": False,
        },
        id="logs-unicode-tags",
    ),
    pytest.param(
        "logs",
        "FilterLogEvents",
        {"logGroupName": "g", "startTime": 0, "endTime": 2**53 + 1, "limit": 1, "interleaved": False},
        id="logs-filter-bounds",
    ),
    pytest.param("logs", "DescribeLogGroups", {}, id="logs-no-params"),
    pytest.param("batch", "DescribeJobQueues", {}, id="batch-no-params"),
]


@pytest.mark.parametrize("variant, seed", CASES)
@pytest.mark.parametrize("model, operation", all_operations())
def test_generated_request_round_trips(model, operation, variant, seed):
    params = generate_input(operation.input_shape, variant, seed)
    route, parsed = send(model, operation, params)
    assert (route.service.service_name, route.operation.name) == (model.service_name, operation.name)
    assert parsed == params


@pytest.mark.parametrize("service, name, params", EDGE_CASES)
def test_edge_case_request_round_trips(service, name, params):
    model = MODELS[service]
    operation = model.operation_model(name)
    report = ParamValidator().validate(params, operation.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert find_violations(operation.input_shape, params) == []
    route, parsed = send(model, operation, params)
    assert route.operation.name == name
    assert parsed == params


def test_odd_arn_is_percent_encoded_on_the_wire():
    """The case the router's label regex exists for: the encoded path has no raw slash in the label."""
    operation = BATCH_MODEL.operation_model("ListTagsForResource")
    request = serialize_request(BATCH_MODEL, operation, {"resourceArn": ODD_ARN})
    path = request["url"].split("://", 1)[1].split("/", 1)[1]
    assert path.startswith("v1/tags/arn%3Aaws%3Abatch")
    assert "/" not in path.removeprefix("v1/tags/")


IDEMPOTENT = [
    pytest.param(model, model.operation_model(name), id=f"{model.service_name}.{name}")
    for model in (BATCH_MODEL, LOGS_MODEL)
    for name in model.operation_names
    if model.operation_model(name).idempotent_members
]


def test_models_declare_the_idempotency_tokens_we_cover():
    assert sorted(p.id for p in IDEMPOTENT) == [
        "batch.SubmitServiceJob",
        "batch.UpdateConsumableResource",
        "logs.PutQueryDefinition",
    ]


@pytest.mark.parametrize("model, operation", IDEMPOTENT)
def test_idempotency_token_filled_by_botocore_round_trips(model, operation):
    """A boto3 client fills a missing token before serializing (`generate_idempotent_uuid`); the
    parsed params must carry exactly that token, and everything else unchanged."""
    sent = generate_input(operation.input_shape, "required")
    for name in operation.idempotent_members:
        sent.pop(name, None)
    original = dict(sent)
    generate_idempotent_uuid(sent, operation)
    filled = set(sent) - set(original)
    assert filled == set(operation.idempotent_members)
    for name in filled:
        uuid.UUID(sent[name])
    _, parsed = send(model, operation, sent)
    assert parsed == sent
    assert find_violations(operation.input_shape, parsed) == []


def _shapes(shape, seen):
    if shape is None or shape.name in seen:
        return
    seen.add(shape.name)
    yield shape
    children = {
        "structure": lambda: shape.members.values(),
        "list": lambda: [shape.member],
        "map": lambda: [shape.key, shape.value],
    }.get(shape.type_name, lambda: [])()
    for child in children:
        yield from _shapes(child, seen)


def test_models_have_no_timestamps():
    """Both models carry times as epoch-millisecond longs, so neither parser nor serializer converts
    timestamps. If a botocore update adds one, the json protocols send it as epoch seconds (a number)
    and both sides need a conversion: this test is the reminder."""
    kinds = set()
    for model in (BATCH_MODEL, LOGS_MODEL):
        seen: set[str] = set()
        for name in model.operation_names:
            operation = model.operation_model(name)
            for root in (operation.input_shape, operation.output_shape):
                kinds.update(shape.type_name for shape in _shapes(root, seen))
    assert "timestamp" not in kinds
    assert kinds <= {
        "structure",
        "list",
        "map",
        "string",
        "integer",
        "long",
        "float",
        "double",
        "boolean",
        "blob",
    }


def test_operation_counts():
    # 45 in botocore 1.43; newer models add operations (1.44: CancelJobs, TerminateJobs,
    # TerminateServiceJobs). Every operation of the installed Batch model must have a provider.
    from botocore import xform_name

    from emulator.services.batch.provider import BatchProvider

    assert len(BATCH_MODEL.operation_names) >= 45
    assert len(LOGS_MODEL.operation_names) >= 100
    missing = [op for op in BATCH_MODEL.operation_names if not hasattr(BatchProvider, xform_name(op))]
    assert missing == []
