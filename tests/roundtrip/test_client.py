"""Real botocore clients against the protocol layer in process, through the `before-send` hook.

The serializer-level tests cover every operation; these cover what only a whole client does: it
fills idempotency tokens, renders the endpoint URL, and maps error codes to modeled exception
classes carrying the response's request id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config

from emulator.protocol.errors import ServiceError
from emulator.protocol.parsing import parse_request
from emulator.protocol.serializing import serialize_error, serialize_result
from emulator.protocol.validation import validate

from .wire import ENDPOINT, ROUTER

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
ODD_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/a/b c/ü?x=1&y#frag%2F+;:42"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


class InProcess:
    """Stands where the HTTP server would: route, parse, validate, answer with `handler`'s result."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.request_id = str(uuid.uuid4())

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = HeadersDict(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        service = None
        try:
            route = ROUTER.route(request.method, unquote(url.path), headers.get("X-Amz-Target"))
            service = route.service
            params = parse_request(
                route.operation,
                body=body,
                path_labels=route.path_labels,
                query=parse_qs(url.query, keep_blank_values=True),
                headers=headers,
            )
            code = "ClientException" if service.service_name == "batch" else "InvalidParameterException"
            validate(route.operation.input_shape, params, error_code=code, wrapped=code == "ClientException")
            self.calls.append((route.operation.name, params))
            result = self.handler(route.operation.name, params)
            wire = serialize_result(service, route.operation, result, self.request_id)
        except ServiceError as error:
            wire = serialize_error(service, error, self.request_id)
        return AWSResponse(request.url, wire.status, HeadersDict(wire.headers), _Body(wire.body))


def _client(service: str, handler: Handler) -> tuple[Any, InProcess]:
    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="123456789012",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    transport = InProcess(handler)
    client.meta.events.register("before-send", transport)
    return client, transport


def test_tags_on_an_arn_with_slashes_and_escapes():
    tags: dict[str, str] = {}

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        assert params["resourceArn"] == ODD_ARN
        if operation == "TagResource":
            tags.update(params["tags"])
        elif operation == "UntagResource":
            for key in params["tagKeys"]:
                tags.pop(key, None)
        return {"tags": dict(tags)} if operation == "ListTagsForResource" else {}

    client, transport = _client("batch", handler)
    client.tag_resource(resourceArn=ODD_ARN, tags={"a b": "ü", "c&d=e": "", "keep": "1"})
    client.untag_resource(resourceArn=ODD_ARN, tagKeys=["a b", "c&d=e"])
    assert client.list_tags_for_resource(resourceArn=ODD_ARN)["tags"] == {"keep": "1"}
    assert [name for name, _ in transport.calls] == ["TagResource", "UntagResource", "ListTagsForResource"]


def test_client_fills_the_idempotency_token():
    client, transport = _client("logs", lambda operation, params: {"queryDefinitionId": "qd-1"})
    assert client.put_query_definition(name="n", queryString="fields @message")["queryDefinitionId"] == "qd-1"
    ((_, params),) = transport.calls
    assert params["name"] == "n"
    uuid.UUID(params["clientToken"])


def test_submit_job_params_and_result_survive_the_client():
    sent = {
        "jobName": "ünïcødé-job",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "jobDefinition": "jd:1",
        "parameters": {"in": "s3://b/k?x=1", "empty": ""},
        "containerOverrides": {"command": ["echo", '"hi"\n'], "environment": [], "vcpus": 0},
        "propagateTags": False,
    }
    answer = {
        "jobArn": "arn:aws:batch:us-east-1:123456789012:job/1",
        "jobName": sent["jobName"],
        "jobId": "1",
    }
    client, transport = _client("batch", lambda operation, params: answer)
    response = client.submit_job(**sent)
    assert transport.calls == [("SubmitJob", sent)]
    assert {k: v for k, v in response.items() if k != "ResponseMetadata"} == answer
    assert response["ResponseMetadata"]["RequestId"] == transport.request_id


def test_batch_validation_error_is_a_modeled_client_exception():
    client, transport = _client("batch", lambda operation, params: {})
    with pytest.raises(client.exceptions.ClientException) as caught:
        client.submit_job(
            jobName="j", jobQueue="q", jobDefinition="d", dependsOn=[{"jobId": "x", "type": "PARALLEL"}]
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "ClientException"
    assert error["Error"]["Message"] == (
        "Error executing request, Exception : 1 validation error detected: Value 'PARALLEL' at "
        "'dependsOn.1.member.type' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[N_TO_N, SEQUENTIAL], RequestId: {transport.request_id}"
    )
    assert error["message"] == error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RequestId"] == transport.request_id


def test_batch_server_exception_status():
    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError("ServerException", "boom", status=500)

    client, _ = _client("batch", handler)
    with pytest.raises(client.exceptions.ServerException) as caught:
        client.describe_job_queues()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Message"] == "boom"


@pytest.mark.parametrize(
    "code", ["ResourceNotFoundException", "ResourceAlreadyExistsException", "InvalidParameterException"]
)
def test_logs_modeled_errors_map_to_exception_classes(code):
    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError(code, f"The specified log group {params['logGroupName']} failed.")

    client, transport = _client("logs", handler)
    with pytest.raises(getattr(client.exceptions, code)) as caught:
        client.create_log_group(logGroupName="/aws/batch/job")
    assert caught.value.response["Error"] == {
        "Code": code,
        "Message": "The specified log group /aws/batch/job failed.",
    }
    assert caught.value.response["ResponseMetadata"]["RequestId"] == transport.request_id
