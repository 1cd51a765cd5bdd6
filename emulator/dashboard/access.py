"""Who may open the dashboard under --auth: HTTP Basic with one of the configured key pairs.

A browser cannot sign SigV4, so the dashboard takes the access key id as the user name and the
secret access key as the password, and the browser's own prompt asks for them. Every page, live
view, action and asset of the dashboard needs them; a request without them gets a 401 with a
`WWW-Authenticate: Basic` challenge and a body that says nothing about the server. Without --auth
the dashboard is open, as the API is.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from flask import Response

REALM = "batch-emulator"


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header; None when absent or garbled."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None


def is_authorized(keys: Mapping[str, str], authorization: str | None) -> bool:
    """True when the header names a configured key pair. Every pair is compared, each in constant
    time, so the answer's timing tells neither which key ids exist nor how much of a secret matched."""
    given = basic_credentials(authorization)
    if given is None:
        return False
    user, password = given[0].encode(), given[1].encode()
    matched = False
    for access_key_id, secret in keys.items():
        same_key = hmac.compare_digest(user, access_key_id.encode())
        same_secret = hmac.compare_digest(password, secret.encode())
        matched |= same_key & same_secret
    return matched


def challenge() -> Response:
    """The 401 a browser answers with its login prompt."""
    return Response(
        "The dashboard needs an access key id and secret access key of this emulator (--auth).\n",
        status=401,
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        mimetype="text/plain",
    )
