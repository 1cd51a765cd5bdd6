"""Requests no operation accepts: the status and error code each one gets."""

from __future__ import annotations

import pytest

from emulator.protocol.errors import UnknownOperationError
from emulator.protocol.parsing import SerializationException, parse_request

from .wire import BATCH_MODEL, LOGS_MODEL, ROUTER

TARGET = LOGS_MODEL.metadata["targetPrefix"]
QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/q"


@pytest.mark.parametrize(
    "method, path, target, status",
    [
        pytest.param("POST", "/v1/nosuchoperation", None, 404, id="unknown-path"),
        pytest.param("POST", "/", None, 404, id="root-without-target"),
        pytest.param("POST", "/v2/submitjob", None, 404, id="wrong-version-prefix"),
        pytest.param("POST", "/v1/tags/", None, 404, id="empty-label"),
        pytest.param("GET", "/v1/submitjob", None, 405, id="get-on-post-path"),
        pytest.param("PUT", f"/v1/tags/{QUEUE_ARN}", None, 405, id="put-on-tags"),
        pytest.param("POST", "/", f"{TARGET}.NoSuchOperation", 400, id="unknown-logs-operation"),
        pytest.param("POST", "/", "Logs_20990101.CreateLogGroup", 400, id="unknown-target-prefix"),
        pytest.param("POST", "/", "CreateLogGroup", 400, id="target-without-prefix"),
    ],
)
def test_unroutable(method, path, target, status):
    with pytest.raises(UnknownOperationError) as caught:
        ROUTER.route(method, path, target)
    assert caught.value.status == status
    assert caught.value.code == "UnknownOperationException"


@pytest.mark.parametrize(
    "method, path, target, expected",
    [
        pytest.param("POST", "/v1/submitjob", None, "SubmitJob", id="batch"),
        pytest.param("POST", "/v1/submitjob/", None, "SubmitJob", id="batch-trailing-slash"),
        pytest.param("post", "/v1/listjobs", None, "ListJobs", id="method-case"),
        pytest.param("GET", f"/v1/tags/{QUEUE_ARN}", None, "ListTagsForResource", id="tags-get"),
        pytest.param("POST", f"/v1/tags/{QUEUE_ARN}", None, "TagResource", id="tags-post"),
        pytest.param("DELETE", f"/v1/tags/{QUEUE_ARN}", None, "UntagResource", id="tags-delete"),
        pytest.param("POST", "/", f"{TARGET}.CreateLogGroup", "CreateLogGroup", id="logs"),
    ],
)
def test_routes(method, path, target, expected):
    route = ROUTER.route(method, path, target)
    assert route.operation.name == expected
    if "/tags/" in path:
        assert route.path_labels == {"resourceArn": QUEUE_ARN}


def test_every_batch_operation_has_its_own_route():
    for name in BATCH_MODEL.operation_names:
        http = BATCH_MODEL.operation_model(name).http
        path = http["requestUri"].replace("{resourceArn}", QUEUE_ARN)
        assert ROUTER.route(http["method"], path, None).operation.name == name


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'a': 1}", id="single-quotes"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"logGroupName"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"42", id="number"),
    ],
)
@pytest.mark.parametrize(
    "operation",
    [BATCH_MODEL.operation_model("SubmitJob"), LOGS_MODEL.operation_model("CreateLogGroup")],
    ids=["batch", "logs"],
)
def test_body_that_is_not_a_json_object(operation, body):
    with pytest.raises(SerializationException) as caught:
        parse_request(operation, body=body, path_labels={}, query={}, headers={})
    assert (caught.value.code, caught.value.status) == ("SerializationException", 400)


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}"], ids=["empty", "whitespace", "empty-object"])
def test_empty_body_means_no_params(body):
    operation = LOGS_MODEL.operation_model("DescribeLogGroups")
    assert parse_request(operation, body=body, path_labels={}, query={}, headers={}) == {}


def test_undeclared_and_null_json_members_are_dropped():
    operation = LOGS_MODEL.operation_model("CreateLogGroup")
    body = b'{"logGroupName": "g", "kmsKeyId": null, "bogus": 1, "tags": {"k": "v"}}'
    assert parse_request(operation, body=body, path_labels={}, query={}, headers={}) == {
        "logGroupName": "g",
        "tags": {"k": "v"},
    }


def test_wrong_json_types_are_left_for_validation():
    operation = BATCH_MODEL.operation_model("SubmitJob")
    body = b'{"jobName": 5, "timeout": [], "containerOverrides": {"command": "x", "vcpus": "2"}}'
    assert parse_request(operation, body=body, path_labels={}, query={}, headers={}) == {
        "jobName": 5,
        "timeout": [],
        "containerOverrides": {"command": "x", "vcpus": "2"},
    }
