"""Errors that travel to the client as AWS-shaped error responses.

A `ServiceError` carries the AWS error code, HTTP status and message. Providers raise it (through
their service's `errors.py`); the serializer turns it into the wire form of the service's protocol.
Batch wraps many validation messages as
`Error executing request, Exception : <detail>, RequestId: <id>` (reference §1.4); `wrapped=True`
asks the serializer to do that with the response's own request id.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error the client should see, with AWS's code, status and wording."""

    def __init__(self, code: str, message: str, *, status: int = 400, wrapped: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.wrapped = wrapped

    def render_message(self, request_id: str) -> str:
        if self.wrapped:
            return f"Error executing request, Exception : {self.message}, RequestId: {request_id}"
        return self.message


class UnknownOperationError(ServiceError):
    """No operation of any served model matches the request's method, path or target."""

    def __init__(self, message: str, *, status: int = 404) -> None:
        super().__init__("UnknownOperationException", message, status=status)
