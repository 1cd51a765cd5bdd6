"""HTTP request -> {member name: value}, following the operation's input shape.

Only members that were sent appear in the result. Wire names (`locationName`) are mapped back to
member names at every level; JSON members the shape does not declare are dropped, as AWS's JSON
front end ignores them (reference §1.6). Values keep their JSON types: checking them is
`validation.py`'s job, so a wrong type is reported there with the member's path.

The JSON front end also refuses what no model could accept, before anything walks the document:
bodies over `MAX_BODY_BYTES` (413, as AWS's front ends answer an oversized request), documents
nested deeper than `MAX_NESTING_DEPTH`, the non-standard tokens `NaN`/`Infinity`, and integers too
long to convert, and integers outside the 32- or 64-bit range of an `integer` or `long` member (all
`SerializationException`, as a Java JSON reader rejects them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from botocore.model import OperationModel, Shape

from emulator.protocol.errors import ServiceError

# An emulator choice, not a documented AWS number: well above any request the models allow (Logs'
# PutLogEvents batch is at most 1 MiB, a Batch job 30 KiB), and the same as API Gateway's 10 MB limit.
MAX_BODY_BYTES = 10 * 1024 * 1024
# The deepest input shape of either model is 14 levels (RegisterJobDefinition); the limit stays far
# below Python's recursion limit, so neither the decoder nor validation's value printer can overflow.
MAX_NESTING_DEPTH = 500

_INTEGER_BITS = {"integer": 32, "long": 64}

_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# `[`/`{` -> 2 and `]`/`}` -> 0, everything else deleted: each remaining byte minus one is the step.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


class SerializationException(ServiceError):
    """The body is not the JSON object the protocol requires (AWS's JSON front-end error)."""

    def __init__(self, message: str) -> None:
        super().__init__("SerializationException", message)


class RequestEntityTooLargeException(ServiceError):
    """The body is larger than the front end reads."""

    def __init__(self, size: int) -> None:
        super().__init__(
            "RequestEntityTooLargeException",
            f"Request body of {size} bytes exceeds the maximum of {MAX_BODY_BYTES} bytes.",
            status=413,
        )


def parse_request(
    operation: OperationModel,
    *,
    body: bytes,
    path_labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise RequestEntityTooLargeException(len(body))
    shape = operation.input_shape
    if shape is None:
        return {}
    document = _load_body(body)
    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in path_labels:
                params[name] = _from_text(member, path_labels[wire_name])
        elif location == "querystring":
            values = query.get(wire_name)
            if values:
                params[name] = (
                    [_from_text(member.member, v) for v in values]
                    if member.type_name == "list"
                    else _from_text(member, values[0])
                )
        elif location == "header":
            if wire_name in headers:
                params[name] = _from_text(member, headers[wire_name])
        elif document.get(wire_name) is not None:  # JSON null means absent, as on AWS
            params[name] = _from_json(member, document[wire_name])
    return params


def _load_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}  # botocore always sends `{}`, other SDKs may send nothing (reference §1.2)
    depth = _nesting_depth(body)
    if depth > MAX_NESTING_DEPTH:
        raise SerializationException(
            f"The request body is nested {depth} levels deep; at most {MAX_NESTING_DEPTH} are accepted."
        )
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # decode errors, bad UTF-8, over-long integers
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object.")
    return document


def _nesting_depth(body: bytes) -> int:
    """How deep the brackets outside string literals go, computed without recursion."""
    brackets = _STRING_LITERAL.sub(b"", body).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(accumulate(map((1).__rsub__, brackets)), default=0)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _from_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        result = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if value.get(wire_name) is not None:
                result[name] = _from_json(member, value[wire_name])
        return result
    if kind == "list" and isinstance(value, list):
        return [_from_json(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {_well_formed(key): _from_json(shape.value, item) for key, item in value.items()}
    if isinstance(value, str):
        return _well_formed(value)
    return _in_range(kind, value)


def _well_formed(text: str) -> str:
    """JSON's `\\u` escapes can spell a lone UTF-16 surrogate, which no UTF-8 text can hold and which
    fails wherever the value is encoded later (a stored log message, a payload's size). It becomes
    `?`, what Java's UTF-8 encoder writes for it where AWS stores the value."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _in_range(kind: str, value: Any) -> Any:
    bits = _INTEGER_BITS.get(kind)
    if bits and isinstance(value, int) and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise SerializationException(
            f"Numeric value ({value}) out of range of {kind} ({-(2 ** (bits - 1))} - {2 ** (bits - 1) - 1})."
        )
    return value


def _from_text(shape: Shape, text: str) -> Any:
    """Path, query and header values arrive as text; convert the scalar kinds the model uses there."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return _in_range(kind, int(text))
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        return text  # left as text so validation reports the member and the expected type
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text
