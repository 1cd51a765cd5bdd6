"""Raw HTTP for the fuzz tests, and the checks every response must pass.

Requests are built by hand from the service models, so no client validates, encodes or repairs
anything before the server sees it. Every request sent is counted in `TALLY`, which the
package's conftest reports at the end of the session.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel

from emulator.protocol.specs import BATCH, LOGS, load_service_model

BATCH_MODEL = load_service_model(BATCH)
LOGS_MODEL = load_service_model(LOGS)
MODELS = (BATCH_MODEL, LOGS_MODEL)
TIMEOUT_SECONDS = 60.0
MAX_REQUEST_TARGET = 60_000

# What a response may name besides the models' own error shapes: the JSON front end's errors
# (emulator/protocol/parsing.py, routing.py), the SigV4 verifier's (protocol/auth.py) and the HTTP
# layer's (emulator/testing/http_guard.py).
PROTOCOL_ERRORS = frozenset(
    {
        "SerializationException",
        "UnknownOperationException",
        "RequestEntityTooLargeException",
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "BadRequestException",
        "RequestURITooLongException",
        "RequestHeaderFieldsTooLargeException",
    }
)
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Error at 0x")

DEFAULT_AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


def client_error_codes(model: ServiceModel) -> frozenset[str]:
    """The model's error shapes that are the client's fault (4xx), by their declared status."""
    return frozenset(
        shape.name
        for shape in model.error_shapes
        if not shape.metadata.get("fault")
        and shape.metadata.get("error", {}).get("httpStatusCode", 400) < 500
    )


# The Logs model declares no statuses; these are its server-side failures.
SERVER_ERRORS = frozenset(
    {"InternalServerException", "InternalStreamingException", "ServiceUnavailableException"}
)
ALLOWED_ERRORS = (
    client_error_codes(BATCH_MODEL) | client_error_codes(LOGS_MODEL) | PROTOCOL_ERRORS
) - SERVER_ERRORS


@dataclass(frozen=True)
class Nested:
    """A value nested `depth` levels deep, written straight into the JSON text: json.dumps itself
    would recurse past Python's limit."""

    depth: int
    as_list: bool

    def json_text(self) -> str:
        if self.as_list:
            return "[" * self.depth + '"x"' + "]" * self.depth
        return '{"a":' * self.depth + '"x"' + "}" * self.depth


_NESTED_MARK = re.compile(r'"@@nested:(\d+):(list|object)@@"')


def encode_json(value: Any) -> bytes:
    """json.dumps, with `Nested` values expanded; NaN and infinities stay non-standard tokens."""

    def mark(item: Any) -> str:
        if isinstance(item, Nested):
            return f"@@nested:{item.depth}:{'list' if item.as_list else 'object'}@@"
        raise TypeError(f"cannot encode {type(item).__name__}")

    text = json.dumps(value, default=mark)
    if "@@nested:" in text:
        text = _NESTED_MARK.sub(lambda match: Nested(int(match[1]), match[2] == "list").json_text(), text)
    return text.encode()


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    state_checks: int = 0  # rejected requests after which the stored state was compared
    outcomes: Counter[str] = field(default_factory=Counter)  # "200", "400 ClientException", ...

    def summary(self) -> str:
        accepted = sum(count for outcome, count in self.outcomes.items() if outcome < "400")
        common = ", ".join(f"{outcome}: {count}" for outcome, count in self.outcomes.most_common(6))
        return (
            f"fuzz: {self.requests} requests, {self.server_errors} server errors "
            f"({accepted} accepted; {common}); state unchanged after {self.state_checks} rejected requests"
        )


TALLY = Tally()


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str  # percent-encoded ASCII, as it travels on the request line
    body: bytes = b""
    headers: tuple[tuple[str, str | bytes], ...] = ()

    def describe(self) -> str:
        shown = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        return f"{self.method} {self.path[:300]} headers={self.headers!r} body({len(self.body)})={shown!r}"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def send(base_url: str, request: RawRequest) -> RawResponse:
    """One request on its own connection; a hang shows as a timeout, not a stuck test run."""
    split = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.putrequest(request.method, request.path, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        if request.body or request.method not in ("GET", "HEAD"):
            connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body or None)
        response = connection.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
        TALLY.requests += 1
    if response.status >= 500:
        TALLY.server_errors += 1
    error_type = headers.get("x-amzn-errortype", "").split(":", 1)[0]
    TALLY.outcomes[f"{response.status} {error_type}".strip()] += 1
    return RawResponse(response.status, headers, body)


def check_response(request: RawRequest, response: RawResponse) -> None:
    """Never a 5xx or a traceback; every error names an AWS error type and says what is wrong."""
    where = f"{request.describe()} -> {response.status} {response.body[:500]!r}"
    assert response.status < 500, f"server error: {where}"
    if request.method == "HEAD":
        return
    text = response.body.decode("utf-8", errors="replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), f"traceback in body: {where}"
    try:
        document = json.loads(response.body)
    except ValueError:
        raise AssertionError(f"body is not JSON: {where}") from None
    assert isinstance(document, dict), f"body is not a JSON object: {where}"
    if response.status < 400:
        return
    code = response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
    assert code in ALLOWED_ERRORS, f"unexpected error type {code!r}: {where}"
    assert document.get("__type") == code, f"__type disagrees with x-amzn-ErrorType: {where}"
    message = document.get("message", document.get("Message"))
    assert isinstance(message, str) and message.strip(), f"error without a message: {where}"


def encode_label(value: Any) -> str:
    """A path label or query value as text, percent-encoded; surrogates travel as their UTF-8 bytes."""
    text = value if isinstance(value, str) else encode_json(value).decode()
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


def aws_request(
    model: ServiceModel,
    operation: OperationModel,
    params: dict[str, Any],
    *,
    headers: tuple[tuple[str, str | bytes], ...] | None = None,
    body: bytes | None = None,
) -> RawRequest:
    """The request a careless client would send for `params` (member names, any value types)."""
    authorization = (("Authorization", DEFAULT_AUTHORIZATION.format(service=model.signing_name)),)
    extra = authorization if headers is None else headers
    if model.protocol == "json":
        target = f"{model.metadata['targetPrefix']}.{operation.name}"
        return RawRequest(
            "POST",
            "/",
            encode_json(params) if body is None else body,
            (("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.1"), *extra),
        )
    path, query, document = _rest_parts(operation, params)
    if query:
        path += ("&" if "?" in path else "?") + "&".join(query)
    # The HTTP layer answers a request line over 64 KiB with a 414 before the app sees it (a
    # transport limit, as at AWS's front door), so huge labels are cut to fit.
    path = path[:MAX_REQUEST_TARGET]
    return RawRequest(
        operation.http["method"],
        path,
        encode_json(document) if body is None else body,
        (("Content-Type", "application/json"), *extra),
    )


def _rest_parts(operation: OperationModel, params: dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    path = operation.http["requestUri"]
    query: list[str] = []
    document: dict[str, Any] = {}
    members = operation.input_shape.members if operation.input_shape is not None else {}
    for name, value in params.items():
        member = members.get(name)
        location = member.serialization.get("location") if member is not None else None
        wire_name = member.serialization.get("name", name) if member is not None else name
        if location == "uri":
            path = path.replace("{" + wire_name + "}", encode_label(value))
        elif location == "querystring":
            values = value if isinstance(value, list) else [value]
            query.extend(f"{wire_name}={encode_label(item)}" for item in values)
        else:
            document[wire_name] = value
    # A required label left out still needs something on the request line.
    for name, member in members.items():
        if member.serialization.get("location") == "uri":
            path = path.replace("{" + member.serialization.get("name", name) + "}", "missing")
    return path, query, document
