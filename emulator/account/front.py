"""The endpoint's front door: each request goes to our Flask app or to moto (routing.decide).

A request moto serves gets what our own requests get: the SigV4 check when --auth is set, and
the account named by the same rule as ours (`request_context`: a 12-digit access key id names
the account, any other the default one), passed to moto in the `x-moto-account-id` header it
reads, so an ARN made on one side names the same account as one made on the other.

`POST /moto-api/reset`, moto's own reset, resets ours too, so suites written against moto's
server switch with no change. What moto cannot answer (a service it lacks, an operation it has
not implemented, a path none of its routes match) is answered here in the service's protocol.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from emulator.account import stack_resources
from emulator.account.catalog import services_signed_as
from emulator.account.errors import WireProtocol, auth_failure_in, protocol_of, render_error
from emulator.account.moto_gateway import MotoGateway, WSGIApp, moto_version
from emulator.account.routing import (
    CredentialScope,
    Decision,
    OurServices,
    Served,
    credential_scope,
    decide,
    sigv2_s3_scope,
)
from emulator.account.stack_resources import BatchCall
from emulator.config import Settings
from emulator.protocol.auth import SignedRequest, SigV4Verifier
from emulator.protocol.dispatch import request_context
from emulator.protocol.errors import ServiceError, UnknownOperationError
from emulator.protocol.serializing import WireResponse

log = logging.getLogger(__name__)

MOTO_RESET_PATH = "/moto-api/reset"


class AccountFront:
    def __init__(
        self,
        ours: WSGIApp,
        *,
        our_services: OurServices,
        settings: Settings,
        verifier: SigV4Verifier | None,
        reset_everything: Callable[[], None],
        on_error: Callable[[BaseException], None],
        before_moto: Callable[[str, int | None], None] | None = None,
        batch_for_stacks: BatchCall | None = None,
    ) -> None:
        """`ours` serves Batch, Logs and the test controls; `reset_everything` is the emulator's
        reset (ours and moto's); `on_error` records what moto raised, for the pytest plugin;
        `before_moto(backend, server_port)` runs before moto serves a request (account/wiring.py);
        `batch_for_stacks` is where moto's CloudFormation creates `AWS::Batch::*` resources
        (stack_resources.py)."""
        self._batch_for_stacks = batch_for_stacks
        self._ours = ours
        self._before_moto = before_moto
        self._our_services = our_services
        self._settings = settings
        self._verifier = verifier
        self._reset_everything = reset_everything
        self._on_error = on_error
        self.moto = MotoGateway(on_unrouted=_unrouted_in_moto)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        authorization = environ.get("HTTP_AUTHORIZATION")
        scope = credential_scope(authorization, _credential_query(environ)) or sigv2_s3_scope(
            authorization, environ.get("QUERY_STRING", "")
        )
        decision = decide(
            path=environ.get("PATH_INFO", ""),
            scope=scope,
            target=environ.get("HTTP_X_AMZ_TARGET"),
            ours=self._our_services,
            moto_backend=lambda signed: self.moto.backend_for(environ, scope if signed else None),
            is_aws_service=lambda name: bool(services_signed_as(name)),
        )
        if decision.served_by is Served.OURS:
            return self._ours(environ, start_response)
        request_id = str(uuid.uuid4())
        refusal = self._refusal(decision, environ)
        if refusal is None and decision.moto_backend is not None:
            return self._forward(decision, decision.moto_backend, scope, request_id, environ, start_response)
        refusal = refusal or _not_served(decision)
        return _respond(
            render_error(_protocol(decision, environ), refusal, request_id), environ, start_response
        )

    def _refusal(self, decision: Decision, environ: dict) -> ServiceError | None:
        """Why the request must not reach moto: a failed signature check (first, so that nothing
        is told to a caller without credentials), or a service nobody here serves."""
        try:
            self._verify(environ)
        except ServiceError as refusal:
            return auth_failure_in(_protocol(decision, environ), refusal)
        return _not_served(decision) if decision.served_by is Served.NOBODY else None

    def _verify(self, environ: dict) -> None:
        if self._verifier is None:
            return
        headers = dict(EnvironHeaders(environ))
        self._verifier.verify(SignedRequest.of_environ(environ, headers, _buffer_body(environ)))

    def _forward(
        self,
        decision: Decision,
        backend: str,
        scope: CredentialScope | None,
        request_id: str,
        environ: dict,
        start_response: Callable,
    ) -> Any:
        context = request_context(
            environ.get("HTTP_AUTHORIZATION"),
            _credential_query(environ),
            default_account_id=self._settings.account_id,
            default_region=self._settings.region,
            request_id=request_id,
        )
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = context.account_id
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO", "").rstrip("/") == MOTO_RESET_PATH
        ):
            self._reset_everything()  # ours and moto's; moto's own reset then finds nothing left
        try:
            if self._before_moto is not None:
                self._before_moto(backend, _server_port(environ))
            with stack_resources.serving(backend, self._batch_for_stacks):
                return self.moto.serve(backend, environ, start_response)
        except NotImplementedError as gap:
            service = scope.service if scope else backend
            error = UnknownOperationError(
                f"batch-emulator (through moto {moto_version()}) does not implement this {service} operation: {gap}",
                status=400,
            )
        except Exception as exc:  # moto failed: one AWS-shaped 500, logged once, re-raised in the test
            log.exception(
                "moto failed serving %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            self._on_error(exc)
            error = ServiceError("InternalFailure", "An internal error occurred.", status=500)
        return _respond(
            render_error(_protocol(decision, environ), error, request_id), environ, start_response
        )


def _protocol(decision: Decision, environ: dict) -> WireProtocol:
    """Looked up only for an error: the first lookup reads botocore's catalog (~0.3 s)."""
    return protocol_of(decision.signing_name, EnvironHeaders(environ))


def _server_port(environ: dict) -> int | None:
    port = environ.get("SERVER_PORT", "")
    return int(port) if port.isdigit() else None


def _credential_query(environ: dict) -> str | None:
    query = environ.get("QUERY_STRING", "")
    if "X-Amz-Credential" not in query:
        return None
    values = parse_qs(query).get("X-Amz-Credential")
    return values[0] if values else None


def _buffer_body(environ: dict) -> bytes:
    """Read the body for the signature check and put it back for moto to read again."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _not_served(decision: Decision) -> ServiceError:
    return ServiceError(
        "UnknownServiceException",
        f"batch-emulator does not serve the AWS service '{decision.signing_name}': it serves AWS Batch "
        f"and CloudWatch Logs itself, and through moto {moto_version()} the services moto implements, "
        "which do not include this one.",
    )


def _unrouted_in_moto(error: Any) -> Response:
    """moto's backend app has no route for the request's method and path."""
    from flask import request

    scope = credential_scope(request.headers.get("Authorization"), request.args.get("X-Amz-Credential"))
    protocol = protocol_of(scope.service if scope else None, request.headers)
    service = scope.service if scope else "this service"
    refusal = UnknownOperationError(
        f"No {service} operation matches {request.method} {request.path!r}.",
        status=getattr(error, "code", 404),
    )
    wire = render_error(protocol, refusal, str(uuid.uuid4()))
    return Response(wire.body, status=wire.status, headers=wire.headers)


def _respond(wire: WireResponse, environ: dict, start_response: Callable) -> Any:
    return Response(wire.body, status=wire.status, headers=wire.headers)(environ, start_response)
