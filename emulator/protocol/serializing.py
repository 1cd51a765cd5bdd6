"""Result dict -> HTTP response, and ServiceError -> AWS error response.

The output is walked against the operation's output shape: absent or `None` members are omitted
(AWS sends no nulls, reference §1.3), wire names are applied, and a member the shape does not
declare raises `UndeclaredMemberError`, so a typo in a provider fails a test instead of vanishing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from emulator.protocol.errors import ServiceError


class UndeclaredMemberError(Exception):
    """A provider returned a member its output shape does not declare (a bug in the provider)."""


@dataclass(slots=True)
class WireResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def content_type(service: ServiceModel) -> str:
    if service.protocol == "json":
        return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.1')}"
    return "application/json"


def serialize_result(
    service: ServiceModel, operation: OperationModel, result: dict[str, Any], request_id: str
) -> WireResponse:
    headers = {"Content-Type": content_type(service), "x-amzn-RequestId": request_id}
    shape = operation.output_shape
    status = 200
    document: dict[str, Any] = {}
    if shape is None and result:
        raise UndeclaredMemberError(
            f"{operation.name} returned members {sorted(result)} but has no output shape"
        )
    if shape is not None:
        _reject_undeclared(shape, result, operation.name)
        for name, member in shape.members.items():
            value = result.get(name)
            if value is None:
                continue
            location = member.serialization.get("location")
            if location == "header":
                headers[member.serialization.get("name", name)] = str(value)
            elif location == "statusCode":
                status = int(value)
            else:
                document[member.serialization.get("name", name)] = _to_json(member, value, name)
    return WireResponse(status, json.dumps(document, separators=(",", ":")).encode(), headers)


def serialize_error(service: ServiceModel | None, error: ServiceError, request_id: str) -> WireResponse:
    message = error.render_message(request_id)
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code}
    if service is not None and service.protocol == "json":
        headers["Content-Type"] = content_type(service)
    else:
        headers["Content-Type"] = "application/json"
    body = {"__type": error.code, "message": message}
    return WireResponse(error.status, json.dumps(body).encode(), headers)


def _reject_undeclared(shape: Shape, value: dict[str, Any], path: str) -> None:
    declared = _members_of(shape)[0]
    if not declared.issuperset(value):
        unknown = set(value) - declared
        raise UndeclaredMemberError(f"{path} returned members {sorted(unknown)} not in {shape.name}")


# Kinds whose JSON form is the value itself; everything else is walked.
_SCALARS = frozenset({"string", "integer", "long", "float", "double", "boolean", "timestamp", "blob"})
_MemberPlan = tuple[str, str, Shape, bool]
_PLANS: dict[int, tuple[Shape, frozenset[str], tuple[_MemberPlan, ...]]] = {}


def _members_of(shape: Shape) -> tuple[frozenset[str], tuple[_MemberPlan, ...]]:
    """(declared member names, [(name, wire name, member shape, is scalar)]) of a structure, built
    once per shape: a DescribeJobs answer walks JobDetail's ~40 members for each of 100 jobs, and
    looking up each member's serialization dict every time was most of the serializer's cost."""
    entry = _PLANS.get(id(shape))
    if entry is None or entry[0] is not shape:  # the shape itself is kept, so its id is never reused
        members = shape.members
        plan = tuple(
            (name, member.serialization.get("name", name), member, member.type_name in _SCALARS)
            for name, member in members.items()
        )
        entry = (shape, frozenset(members), plan)
        _PLANS[id(shape)] = entry
    return entry[1], entry[2]


def _to_json(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        _reject_undeclared(shape, value, path)
        document = {}
        for name, wire_name, member, is_scalar in _members_of(shape)[1]:
            item = value.get(name)
            if item is None:
                continue
            document[wire_name] = item if is_scalar else _to_json(member, item, f"{path}.{name}")
        return document
    if kind == "list":
        member = shape.member
        if member.type_name in _SCALARS:
            return list(value)
        return [_to_json(member, item, f"{path}[]") for item in value]
    if kind == "map":
        member = shape.value
        if member.type_name in _SCALARS:
            return dict(value)
        return {key: _to_json(member, item, f"{path}.{key}") for key, item in value.items()}
    return value
