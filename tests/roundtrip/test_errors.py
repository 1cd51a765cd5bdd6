"""Every modeled error comes back through botocore's parser with its code, message and status."""

from __future__ import annotations

import pytest

from emulator.protocol.errors import ServiceError, UnknownOperationError
from emulator.protocol.parsing import SerializationException
from emulator.protocol.serializing import serialize_error

from .wire import BATCH_MODEL, LOGS_MODEL, receive

REQUEST_ID = "0b7c4a8e-2f1d-4e6a-8c3b-fedcba987654"
MESSAGE = "Ünïcødé \"quoted\" message: jobQueue 'q/1' not found 𝄞"
# An operation whose response is being parsed; errors parse the same for any of them.
BATCH_OPERATION = BATCH_MODEL.operation_model("SubmitJob")
LOGS_OPERATION = LOGS_MODEL.operation_model("CreateLogGroup")

LOGS_ERRORS = ("ResourceNotFoundException", "InvalidParameterException", "ResourceAlreadyExistsException")


def _modeled(model, names=None):
    return [
        pytest.param(model, shape, id=f"{model.service_name}.{shape.name}")
        for shape in model.error_shapes
        if names is None or shape.name in names
    ]


def _status(shape) -> int:
    return shape.metadata.get("error", {}).get("httpStatusCode", 400)


def test_batch_models_two_errors():
    assert sorted(shape.name for shape in BATCH_MODEL.error_shapes) == ["ClientException", "ServerException"]


@pytest.mark.parametrize("model, shape", _modeled(BATCH_MODEL) + _modeled(LOGS_MODEL, LOGS_ERRORS))
def test_modeled_error_round_trips(model, shape):
    operation = BATCH_OPERATION if model is BATCH_MODEL else LOGS_OPERATION
    status = _status(shape)
    wire = serialize_error(model, ServiceError(shape.name, MESSAGE, status=status), REQUEST_ID)
    parsed = receive(model, operation, wire)
    assert parsed["Error"]["Code"] == shape.name
    assert parsed["Error"]["Message"] == MESSAGE
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    if "message" in shape.members:
        assert parsed["message"] == MESSAGE  # the modeled member, from botocore's second pass


def test_batch_error_statuses_follow_the_model():
    assert {shape.name: _status(shape) for shape in BATCH_MODEL.error_shapes} == {
        "ClientException": 400,
        "ServerException": 500,
    }


@pytest.mark.parametrize(
    "model, operation", [(BATCH_MODEL, BATCH_OPERATION), (LOGS_MODEL, LOGS_OPERATION)], ids=["batch", "logs"]
)
def test_wrapped_message_carries_the_response_request_id(model, operation):
    error = ServiceError("ClientException", "jobQueue is required", wrapped=True)
    wire = serialize_error(model, error, REQUEST_ID)
    parsed = receive(model, operation, wire)
    assert parsed["Error"]["Message"] == (
        f"Error executing request, Exception : jobQueue is required, RequestId: {REQUEST_ID}"
    )
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert wire.headers["x-amzn-RequestId"] == REQUEST_ID


def test_unwrapped_message_is_verbatim():
    assert ServiceError("X", "plain").render_message(REQUEST_ID) == "plain"


@pytest.mark.parametrize(
    "error",
    [UnknownOperationError("No operation matches GET /nope."), SerializationException("bad body")],
    ids=["unknown-operation", "serialization"],
)
@pytest.mark.parametrize(
    "model, operation", [(BATCH_MODEL, BATCH_OPERATION), (LOGS_MODEL, LOGS_OPERATION)], ids=["batch", "logs"]
)
def test_unmodeled_errors_before_routing_parse_for_either_client(model, operation, error):
    """Raised before a service is known (`service=None`): both protocols' parsers must still read them."""
    wire = serialize_error(None, error, REQUEST_ID)
    assert wire.headers["Content-Type"] == "application/json"
    parsed = receive(model, operation, wire)
    assert parsed["Error"] == {"Code": error.code, "Message": error.message}
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == error.status


def test_logs_errors_use_the_json_content_type():
    wire = serialize_error(LOGS_MODEL, ServiceError("ResourceNotFoundException", "gone"), REQUEST_ID)
    assert wire.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert wire.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
