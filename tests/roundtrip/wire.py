"""botocore on one side, our protocol layer on the other, with no server in between.

`send` does what a client and werkzeug do to a request before our view sees it: botocore's own
serializer builds it, `prepare_request_dict` renders the URL (percent-encoding path labels and the
query), and the path is decoded once, as werkzeug hands `request.path` to the view. `receive` does
what botocore does with a response: its own parser, then the second pass for modeled error fields
that `Endpoint._add_modeled_error_fields` makes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from emulator.protocol.parsing import parse_request
from emulator.protocol.routing import Route, Router
from emulator.protocol.serializing import WireResponse
from emulator.protocol.specs import BATCH, LOGS, load_service_model

ENDPOINT = "http://127.0.0.1:4566"
BATCH_MODEL = load_service_model(BATCH)
LOGS_MODEL = load_service_model(LOGS)
MODELS = {BATCH: BATCH_MODEL, LOGS: LOGS_MODEL}
ROUTER = Router([BATCH_MODEL, LOGS_MODEL])


def all_operations() -> list[Any]:
    """One pytest param per operation of both models, with ids like `batch.SubmitJob`."""
    return [
        pytest.param(model, model.operation_model(name), id=f"{model.service_name}.{name}")
        for model in (BATCH_MODEL, LOGS_MODEL)
        for name in model.operation_names
    ]


def serialize_request(
    model: ServiceModel, operation: OperationModel, params: dict[str, Any]
) -> dict[str, Any]:
    request = create_serializer(model.protocol).serialize_to_request(params, operation)
    prepare_request_dict(request, ENDPOINT)
    return request


def send(
    model: ServiceModel, operation: OperationModel, params: dict[str, Any]
) -> tuple[Route, dict[str, Any]]:
    """botocore's request for `params`, routed and parsed by the emulator."""
    request = serialize_request(model, operation, params)
    url = urlsplit(request["url"])
    headers = HeadersDict(request["headers"])
    body = request["body"]
    if isinstance(body, str):
        body = body.encode()
    route = ROUTER.route(request["method"], unquote(url.path), headers.get("X-Amz-Target"))
    parsed = parse_request(
        route.operation,
        body=body or b"",
        path_labels=route.path_labels,
        # werkzeug's request.args keeps blank values, so the view sees them too.
        query=parse_qs(url.query, keep_blank_values=True),
        headers=headers,
    )
    return route, parsed


def receive(model: ServiceModel, operation: OperationModel, wire: WireResponse) -> dict[str, Any]:
    """What a botocore client makes of our response (headers are case-insensitive on the wire)."""
    response = {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}
    parser = create_parser(model.protocol)
    parsed = parser.parse(response, operation.output_shape)
    if wire.status >= 300:
        error_shape = model.shape_for_error_code(parsed.get("Error", {}).get("Code"))
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    return parsed


def without_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
