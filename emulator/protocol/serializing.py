"""Result dict -> HTTP response, and ServiceError -> AWS error response.

The output is walked against the operation's output shape: absent or `None` members are omitted
(AWS sends no nulls, reference §1.3), wire names are applied, and a member the shape does not
declare raises `UndeclaredMemberError`, so a typo in a provider fails a test instead of vanishing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
    # check_circular: a provider's answer is a tree; looking for cycles cost 15% of encoding one.
    body = json.dumps(document, separators=(",", ":"), check_circular=False).encode()
    return WireResponse(status, body, headers)


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
    if not value.keys() <= _declared(shape):
        unknown = set(value) - _declared(shape)
        raise UndeclaredMemberError(f"{path} returned members {sorted(unknown)} not in {shape.name}")


# Kinds whose JSON form is the value itself; everything else is walked.
_SCALARS = frozenset({"string", "integer", "long", "float", "double", "boolean", "timestamp", "blob"})
# A walker turns a value into its JSON form; None for a scalar shape, whose value is its JSON form.
Walker = Callable[[Any], Any] | None
# id(shape) -> (shape, its walker); the shape itself is kept, so its id is never reused.
_WALKERS: dict[int, tuple[Shape, Walker]] = {}


def _declared(shape: Shape) -> frozenset[str]:
    return frozenset(shape.members)


class _Undeclared(Exception):
    """Raised deep in a walk with the member's path so far; the top of the walk words the error.
    Building each member's path up front cost more than the rest of the walk."""

    def __init__(self, unknown: set[str], shape: Shape) -> None:
        self.unknown, self.shape, self.path = unknown, shape, ""

    def prefixed(self, step: str) -> _Undeclared:
        self.path = step + self.path
        return self


def _to_json(shape: Shape, value: Any, path: str) -> Any:
    walker = _walker_of(shape)
    if walker is None:
        return value
    try:
        return walker(value)
    except _Undeclared as error:
        raise UndeclaredMemberError(
            f"{path}{error.path} returned members {sorted(error.unknown)} not in {error.shape.name}"
        ) from None


def _walker_of(shape: Shape) -> Walker:
    """The walker of a shape, planned once per shape: a DescribeJobs answer holds 100 JobDetails,
    and deciding at every value what its shape declares and how each member is named was most of
    the cost of serializing one."""
    entry = _WALKERS.get(id(shape))
    if entry is None or entry[0] is not shape:
        entry = (shape, _plan_walker(shape))
        _WALKERS[id(shape)] = entry
    return entry[1]


def _plan_walker(shape: Shape) -> Walker:
    kind = shape.type_name
    if kind == "structure":
        return _structure_walker(shape)
    if kind == "list":
        return _list_walker(shape)
    if kind == "map":
        return _map_walker(shape)
    return None


def _structure_walker(shape: Shape) -> Walker:
    """Absent and None members are left out (AWS sends no nulls); a member the shape does not
    declare raises, so a typo in a provider fails a test instead of vanishing. The walk costs
    what the value holds, not what the shape declares (JobDetail declares ~40 members)."""
    members = shape.members
    declared = frozenset(members)
    is_flat = all(
        member.type_name in _SCALARS and member.serialization.get("name", name) == name
        for name, member in members.items()
    )
    if is_flat:  # key-value pairs, resource requirements, network interfaces, ...

        def walk_flat(value: dict[str, Any]) -> dict[str, Any]:
            if not value.keys() <= declared:
                raise _Undeclared(set(value) - declared, shape)
            return {name: item for name, item in value.items() if item is not None}

        return walk_flat
    table: dict[str, tuple[str, Walker]] = {}  # filled on first use: shapes may nest themselves

    def walk(value: dict[str, Any]) -> dict[str, Any]:
        if not table:
            table.update(
                (name, (member.serialization.get("name", name), _walker_of(member)))
                for name, member in members.items()
            )
        if not value.keys() <= declared:
            raise _Undeclared(set(value) - declared, shape)
        document = {}
        for name, item in value.items():
            if item is None:
                continue
            wire_name, walker = table[name]
            if walker is None:
                document[wire_name] = item
                continue
            try:
                document[wire_name] = walker(item)
            except _Undeclared as error:
                raise error.prefixed(f".{name}") from None
        return document

    return walk


def _list_walker(shape: Shape) -> Walker:
    member = shape.member
    walker = _walker_of(member) if member.type_name not in _SCALARS else None
    if walker is None:
        return list

    def walk(value: list[Any]) -> list[Any]:
        try:
            return [walker(item) for item in value]
        except _Undeclared as error:
            raise error.prefixed("[]") from None

    return walk


def _map_walker(shape: Shape) -> Walker:
    member = shape.value
    walker = _walker_of(member) if member.type_name not in _SCALARS else None
    if walker is None:
        return dict

    def walk(value: dict[str, Any]) -> dict[str, Any]:
        walked = {}
        for key, item in value.items():
            try:
                walked[key] = walker(item)
            except _Undeclared as error:
                raise error.prefixed(f".{key}") from None
        return walked

    return walk
