"""Job definition `secrets`, read from the account's SSM Parameter Store and Secrets Manager: moto's
backends in this process (the engine's SecretResolver, engine/job_account.py).

`valueFrom` names, as ECS reads it:
- an SSM parameter by name (`/app/db-host`, `token`, `name:3` for a version), in the job's
  account and region, or by ARN (`arn:aws:ssm:<region>:<account>:parameter/app/db-host`), in
  the ARN's; SecureString values are decrypted;
- a Secrets Manager secret by ARN (full, or without the random suffix), optionally followed by
  `:<json-key>:<version-stage>:<version-id>` (each part may be empty), as ECS allows: the value
  of one key of a JSON secret, of a staged or specific version.

A reference that cannot be read fails the attempt with the reason the ECS agent gives:
`ResourceInitializationError: unable to pull secrets or registry auth: execution resource
retrieval failed: unable to retrieve secrets from ssm: ... invalid parameters: <names>`, or
`... unable to retrieve secret from asm: ... failed to fetch secret <arn> from secrets manager:
ResourceNotFoundException: ...`.

Reads run on the engine's pass, under its lock. A moto backend module that was never imported
holds nothing (nobody created a parameter or a secret), so it is not imported here just to say
so: importing moto's SSM takes seconds, which would hold up every job.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from emulator.engine.job_account import SecretUnavailableError

log = logging.getLogger(__name__)

RETRIEVAL_FAILED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: "
    "execution resource retrieval failed: "
)
RETRIED = "service call has been retried 1 time(s): "
SSM_FAILED = RETRIEVAL_FAILED + "unable to retrieve secrets from ssm: " + RETRIED
ASM_FAILED = RETRIEVAL_FAILED + "unable to retrieve secret from asm: " + RETRIED
INVALID_ASM_ARN = (
    "an invalid ARN format for the AWS Secrets Manager secret was specified. "
    "Specify a valid ARN and try again."
)
SSM_MODULE = "moto.ssm.models"
SECRETS_MANAGER_MODULE = "moto.secretsmanager.models"
_ASM_ARN_PARTS = 7  # arn:partition:secretsmanager:region:account:secret:<id>
_ASM_ARN_WITH_KEY_PARTS = 10  # ... :<json-key>:<version-stage>:<version-id>


def resolve_secrets(account_id: str, region: str, references: tuple[str, ...]) -> Mapping[str, str]:
    """{valueFrom: value} for every reference; SecretUnavailableError naming what is missing."""
    parameters = [ref for ref in references if not _is_secrets_manager_arn(ref)]
    values = _read_parameters(account_id, region, parameters)
    for reference in references:
        if _is_secrets_manager_arn(reference):
            values[reference] = _read_secret(reference)
    return values


def _is_secrets_manager_arn(reference: str) -> bool:
    return reference.startswith("arn:") and reference.split(":")[2:3] == ["secretsmanager"]


# ---- SSM Parameter Store -----------------------------------------------------------------------


def _read_parameters(account_id: str, region: str, references: list[str]) -> dict[str, str]:
    """The agent asks for all of a task's parameters at once and names every one it did not get."""
    values, missing = {}, []
    for reference in references:
        value = _parameter_value(*_parameter_location(account_id, region, reference))
        if value is None:
            missing.append(reference)
        else:
            values[reference] = value
    if missing:
        raise SecretUnavailableError(f"{SSM_FAILED}invalid parameters: {','.join(missing)}")
    return values


def _parameter_location(account_id: str, region: str, reference: str) -> tuple[str, str, str]:
    """(account, region, parameter name): an ARN's own, else the job's. In an ARN a hierarchical
    name loses its leading slash (`parameter/app/db-host` is `/app/db-host`)."""
    parts = reference.split(":", 5)
    if reference.startswith("arn:") and len(parts) == 6 and parts[2] == "ssm":
        resource = parts[5].removeprefix("parameter/")
        name = resource if "/" not in resource.split(":")[0] else "/" + resource
        return parts[4], parts[3], name
    return account_id, region, reference


def _parameter_value(account_id: str, region: str, name: str) -> str | None:
    if SSM_MODULE not in sys.modules:
        return None  # nobody ever created a parameter
    from moto.ssm.models import ssm_backends

    try:
        parameter = ssm_backends[account_id][region].get_parameter(name)
    except Exception as error:  # a version that does not exist, a region moto does not know
        log.debug("SSM parameter %s in %s/%s unreadable: %s", name, account_id, region, error)
        return None
    return None if parameter is None else parameter.decrypt(parameter.value)


# ---- Secrets Manager ---------------------------------------------------------------------------


def _read_secret(reference: str) -> str:
    secret_id, json_key, version_stage, version_id = _secret_request(reference)
    parts = secret_id.split(":")
    try:
        if SECRETS_MANAGER_MODULE not in sys.modules:  # nobody ever created a secret
            raise _NoSuchSecretError(
                "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
            )
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[parts[4]][parts[3]]
        answer = backend.get_secret_value(secret_id, version_id, version_stage)
    except Exception as error:
        raise SecretUnavailableError(
            f"{ASM_FAILED}failed to fetch secret {secret_id} from secrets manager: {_described(error)}"
        ) from None
    text = answer.get("SecretString") or ""
    return text if not json_key else _json_value(secret_id, text, json_key)


def _secret_request(reference: str) -> tuple[str, str, str | None, str | None]:
    """(secret id, json key, version stage, version id) from `arn:...:secret:<id>[:key:stage:id]`."""
    parts = reference.split(":")
    if len(parts) == _ASM_ARN_PARTS and parts[5] == "secret":
        return reference, "", None, None
    if len(parts) != _ASM_ARN_WITH_KEY_PARTS or parts[5] != "secret":
        raise SecretUnavailableError(
            f"{ASM_FAILED}trying to retrieve secret with value {reference} resulted in error: {INVALID_ASM_ARN}"
        )
    secret_id = ":".join(parts[:_ASM_ARN_PARTS])
    return secret_id, parts[7], parts[8] or None, parts[9] or None


def _json_value(secret_id: str, text: str, json_key: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SecretUnavailableError(
            f"{ASM_FAILED}failed to fetch secret {secret_id} from secrets manager: "
            "the secret value is not a JSON object"
        )
    if json_key not in document:
        raise SecretUnavailableError(
            f"{ASM_FAILED}retrieved secret from Secrets Manager did not contain json key {json_key}"
        )
    return _as_text(document[json_key])


def _as_text(value: Any) -> str:
    """A JSON value as the agent prints it (Go's %v): strings bare, other values as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


class _NoSuchSecretError(Exception):
    """What moto's Secrets Manager raises for a secret it does not hold, where it was never loaded."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type, self.message = error_type, message


def _described(error: Exception) -> str:
    """`<Code>: <message>` for moto's client errors; the exception's text otherwise."""
    code = getattr(error, "error_type", None)
    message = getattr(error, "message", None)
    return f"{code}: {message}" if code and message else f"{type(error).__name__}: {error}"
