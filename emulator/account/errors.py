"""Errors in the wire protocol of whatever service a request was for, not only Batch's JSON.

What the emulator refuses before moto sees a request (a service nobody here serves, a failed
signature check, an operation moto lacks) must reach the client in the protocol its SDK parses:
query and EC2 XML, S3's REST-XML, JSON with `__type`, or CBOR. The protocol comes from botocore's
model for the credential scope's signing name (catalog.py); where several protocols are possible
(CloudWatch speaks CBOR, JSON and query) the request's own markers pick the one the client used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from emulator.account.catalog import services_signed_as
from emulator.protocol.auth import MISMATCH
from emulator.protocol.errors import ServiceError
from emulator.protocol.serializing import WireResponse

CBOR = "smithy-rpc-v2-cbor"


@dataclass(frozen=True, slots=True)
class WireProtocol:
    name: str  # botocore's protocol name: json, rest-json, query, ec2, rest-xml, smithy-rpc-v2-cbor
    json_version: str = "1.0"


def protocol_of(signing_name: str | None, headers: Mapping[str, str]) -> WireProtocol:
    """The protocol the client of `signing_name` spoke, from botocore's model and the request.
    An unknown service gets what its request looks like: form bodies query XML, anything else
    JSON, the emulator's own protocol family."""
    marker = _marker(headers)
    candidates = services_signed_as(signing_name) if signing_name else ()
    for service in candidates:
        spoken = _spoken(service.protocols, marker)
        if spoken is not None:
            return WireProtocol(spoken, service.json_version)
    if candidates:  # no marker, or one the model does not speak: the model's preferred protocol
        return WireProtocol(candidates[0].protocols[0], candidates[0].json_version)
    return WireProtocol("json" if marker == "rest" else marker)


def _spoken(protocols: tuple[str, ...], marker: str) -> str | None:
    """The protocol of `protocols` a request with `marker` was sent in, if any."""
    if marker == "rest":
        return next((protocol for protocol in protocols if protocol.startswith("rest-")), None)
    if marker == "query" and "ec2" in protocols:
        return "ec2"
    return marker if marker in protocols else None


def _marker(headers: Mapping[str, str]) -> str:
    if "rpc-v2-cbor" in headers.get("Smithy-Protocol", "") or "cbor" in headers.get("Content-Type", ""):
        return CBOR
    if headers.get("X-Amz-Target"):
        return "json"
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    return "rest"


def render_error(protocol: WireProtocol, error: ServiceError, request_id: str) -> WireResponse:
    message = error.render_message(request_id)
    if protocol.name in ("query", "ec2", "rest-xml"):
        return _xml_error(protocol.name, error.code, message, error.status, request_id)
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code}
    document = {"__type": error.code, "message": message}
    if protocol.name == CBOR:
        headers.update({"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"})
        return WireResponse(error.status, _cbor_text_map(document), headers)
    if protocol.name == "json":
        headers["Content-Type"] = f"application/x-amz-json-{protocol.json_version}"
    else:
        headers["Content-Type"] = "application/json"
    return WireResponse(error.status, json.dumps(document).encode(), headers)


def _xml_error(protocol: str, code: str, message: str, status: int, request_id: str) -> WireResponse:
    code, message, request_id = escape(code), escape(message), escape(request_id)
    if protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    elif protocol == "rest-xml":  # S3's form; botocore reads Route 53's and CloudFront's the same way
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    else:
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + body
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    return WireResponse(status, document.encode(), headers)


def _cbor_text_map(document: dict[str, str]) -> bytes:
    """RFC 8949 for the one shape needed here: a map of text strings to text strings."""
    encoded = bytearray(_cbor_head(5, len(document)))
    for key, value in document.items():
        for text in (key, value):
            data = text.encode("utf-8")
            encoded += _cbor_head(3, len(data)) + data
    return bytes(encoded)


def _cbor_head(major_type: int, length: int) -> bytes:
    if length < 24:
        return bytes([major_type << 5 | length])
    for additional, size in ((24, 1), (25, 2), (26, 4)):
        if length < 1 << (8 * size):
            return bytes([major_type << 5 | additional]) + length.to_bytes(size, "big")
    return bytes([major_type << 5 | 27]) + length.to_bytes(8, "big")


# The SigV4 verifier speaks the JSON services' vocabulary (protocol/auth.py). Query services,
# EC2 and S3 name the same failures differently, with statuses of their own.
_EC2_AUTH_FAILURE = ("AuthFailure", 401, "AWS was not able to validate the provided access credentials")
_AUTH_FAILURES: dict[str, dict[str, tuple[str, int, str]]] = {
    "MissingAuthenticationTokenException": {
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "ec2": ("MissingAuthenticationToken", 401, "Request is missing Authentication Token"),
        "rest-xml": ("AccessDenied", 403, "Access Denied"),
    },
    "UnrecognizedClientException": {
        "query": ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
        "ec2": _EC2_AUTH_FAILURE,
        "rest-xml": (
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    },
    "InvalidSignatureException": {
        "query": ("SignatureDoesNotMatch", 403, MISMATCH),
        "ec2": _EC2_AUTH_FAILURE,
        "rest-xml": (
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        ),
    },
    "AccessDeniedException": {  # an expired presigned URL
        "query": ("AccessDenied", 403, ""),
        "rest-xml": ("AccessDenied", 403, ""),
    },
    "IncompleteSignatureException": {
        "query": ("IncompleteSignature", 400, ""),
        "ec2": ("IncompleteSignature", 400, ""),
        "rest-xml": ("AuthorizationHeaderMalformed", 400, ""),
    },
}


def auth_failure_in(protocol: WireProtocol, error: ServiceError) -> ServiceError:
    """The verifier's refusal as the service of `protocol` words it."""
    translated = _AUTH_FAILURES.get(error.code, {}).get(protocol.name)
    if translated is None:
        return error
    code, status, message = translated
    return ServiceError(code, message or error.message, status=status)
