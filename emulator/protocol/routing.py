"""Map an HTTP request to (service model, operation model, path labels).

Two markers are enough to tell the served services apart: a json-protocol service (CloudWatch Logs)
is selected by `X-Amz-Target: <targetPrefix>.<Operation>`; everything else is matched against the
rest-json services' `requestUri` table, compiled once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel

from emulator.protocol.errors import UnknownOperationError

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass(frozen=True, slots=True)
class Route:
    service: ServiceModel
    operation: OperationModel
    path_labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class _RestPattern:
    method: str
    regex: re.Pattern[str]
    service: ServiceModel
    operation: OperationModel


def _compile_uri(request_uri: str) -> re.Pattern[str]:
    path = request_uri.split("?", 1)[0]
    parts: list[str] = []
    position = 0
    for label in _LABEL.finditer(path):
        parts.append(re.escape(path[position : label.start()]))
        # Labels may hold ARNs whose encoded slashes the server has already decoded (reference §1.2),
        # so every label matches across slashes; the literal prefixes keep routes unambiguous.
        parts.append(f"(?P<{label.group(1)}>.+)")
        position = label.end()
    parts.append(re.escape(path[position:]))
    return re.compile("^" + "".join(parts) + "/?$")


class Router:
    """Resolves requests for a fixed set of service models."""

    def __init__(self, services: list[ServiceModel]) -> None:
        self._targets: dict[str, tuple[ServiceModel, dict[str, OperationModel]]] = {}
        self._rest: list[_RestPattern] = []
        for service in services:
            if service.protocol == "json":
                operations = {name: service.operation_model(name) for name in service.operation_names}
                self._targets[service.metadata["targetPrefix"]] = (service, operations)
                continue
            for name in service.operation_names:
                operation = service.operation_model(name)
                http = operation.http
                self._rest.append(
                    _RestPattern(http["method"].upper(), _compile_uri(http["requestUri"]), service, operation)
                )
        # Literal-heavy patterns first, so `/v1/tags/{arn}` never shadows a longer literal path.
        self._rest.sort(key=lambda p: -len(p.regex.pattern))

    def route(self, method: str, path: str, target: str | None) -> Route:
        if target:
            return self._route_target(target)
        path_matched = False
        for pattern in self._rest:
            match = pattern.regex.match(path)
            if match is None:
                continue
            path_matched = True
            if pattern.method == method.upper():
                return Route(pattern.service, pattern.operation, match.groupdict())
        if path_matched:
            raise UnknownOperationError(f"Method {method} is not allowed on {path}.", status=405)
        raise UnknownOperationError(f"No operation matches {method} {path}.")

    def _route_target(self, target: str) -> Route:
        prefix, _, name = target.partition(".")
        entry = self._targets.get(prefix)
        if entry is None or name not in entry[1]:
            raise UnknownOperationError(f"Operation {target} is not recognized.", status=400)
        return Route(entry[0], entry[1][name], {})
