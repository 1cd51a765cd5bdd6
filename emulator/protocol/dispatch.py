"""Operation -> provider method, with the request's account, region and id.

A provider exposes one method per operation, named as botocore names it in Python
(`SubmitJob` -> `submit_job`), taking the `RequestContext` first and the request members as
keyword-only snake_case arguments. Nested structures stay as wire-shaped dicts.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.model import ServiceModel

from emulator.protocol.errors import ServiceError
from emulator.protocol.routing import Route
from emulator.protocol.validation import in_model_spelling, validate

log = logging.getLogger(__name__)

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/")
_ACCOUNT_KEY = re.compile(r"\d{12}")


@dataclass(frozen=True, slots=True)
class RequestContext:
    account_id: str
    region: str
    request_id: str


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """How one served model maps onto its provider and its error vocabulary."""

    model: ServiceModel
    provider: object
    validation_error_code: str
    wrap_validation_messages: bool
    server_error_code: str


def request_context(
    authorization: str | None,
    credential_query: str | None,
    *,
    default_account_id: str,
    default_region: str,
    request_id: str,
) -> RequestContext:
    """Region from the SigV4 credential scope (reference §1.1). An access key id of twelve digits
    names the account, so tests can isolate accounts with nothing but credentials."""
    scope = None
    if authorization:
        scope = _CREDENTIAL.search(authorization)
    elif credential_query:
        scope = _CREDENTIAL.search("Credential=" + credential_query)
    if scope is None:
        return RequestContext(default_account_id, default_region, request_id)
    access_key, region = scope.group(1), scope.group(2)
    account = access_key if _ACCOUNT_KEY.fullmatch(access_key) else default_account_id
    return RequestContext(account, region, request_id)


class Dispatcher:
    def __init__(self, bindings: list[ServiceBinding]) -> None:
        self._bindings = {binding.model.service_name: binding for binding in bindings}

    def binding(self, service: ServiceModel) -> ServiceBinding:
        return self._bindings[service.service_name]

    def dispatch(self, route: Route, params: dict[str, Any], context: RequestContext) -> dict[str, Any]:
        binding = self.binding(route.service)
        operation = route.operation
        validate(
            operation.input_shape,
            params,
            error_code=binding.validation_error_code,
            wrapped=binding.wrap_validation_messages,
        )
        params = in_model_spelling(operation.input_shape, params)
        method = getattr(binding.provider, xform_name(operation.name), None)
        if method is None:
            raise ServiceError(
                "UnknownOperationException",
                f"batch-emulator does not implement {route.service.service_name} {operation.name}.",
            )
        arguments = {xform_name(name): value for name, value in params.items()}
        accepted = _accepted_arguments(method)
        if accepted is not None:
            ignored = arguments.keys() - accepted
            if ignored:
                # A newer botocore model than the provider knows: AWS ignores members it does not
                # use, and so does the emulator (logged, so the gap is visible).
                log.debug(
                    "%s: ignoring members the emulator does not support: %s", operation.name, sorted(ignored)
                )
                arguments = {name: value for name, value in arguments.items() if name in accepted}
        result = method(context, **arguments)
        return result or {}

    def call(
        self, service: ServiceModel, operation: str, params: dict[str, Any], context: RequestContext
    ) -> dict[str, Any]:
        """An operation asked for from inside the process (CloudFormation's Batch resources): the
        same validation and provider method as a request on the wire, without the HTTP."""
        route = Route(service, service.operation_model(operation), {})
        return self.dispatch(route, params, context)


@functools.cache
def _parameters_of(function: Any) -> frozenset[str] | None:
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def _accepted_arguments(method: Any) -> frozenset[str] | None:
    """The keyword arguments a provider method takes; None when it takes any (**kwargs)."""
    return _parameters_of(getattr(method, "__func__", method))
