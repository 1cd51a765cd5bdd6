"""CloudWatch Logs errors, with the codes and wording AWS sends.

The not-found and already-exists sentences are CloudWatch Logs' own (note the missing full stop on
the already-exists ones); the provider maps the store's internal errors onto them.
"""

from __future__ import annotations

from emulator.protocol.errors import ServiceError


def log_group_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log group does not exist.")


def log_stream_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log stream does not exist.")


def log_group_exists() -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", "The specified log group already exists")


def log_stream_exists() -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists")


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def invalid_next_token() -> ServiceError:
    return invalid_parameter("The specified nextToken is invalid.")


def too_many_tags() -> ServiceError:
    return ServiceError("TooManyTagsException", "A resource can have no more than 50 tags.")
