"""Optional SigV4 verification of incoming requests against configured access keys.

The signature is recomputed with botocore's own SigV4 signer over exactly the headers the client
listed in `SignedHeaders`, the request line as sent, and the body, for the date, region and service
of the client's credential scope. Failures use the error codes and statuses AWS's front ends use.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.protocol.errors import ServiceError

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    url: str  # scheme://host/path?query exactly as sent (path still percent-encoded)
    headers: Mapping[str, str]
    body: bytes


def parse_keys(spec: str) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2` -> {AKID: SECRET, ...}."""
    keys = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        access_key, separator, secret = pair.partition(":")
        if not separator or not access_key or not secret:
            raise ValueError(f"an auth key must look like ACCESS_KEY_ID:SECRET, got {pair!r}")
        keys[access_key] = secret
    return keys


class SigV4Verifier:
    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = dict(keys)

    def verify(self, request: SignedRequest) -> None:
        authorization = request.headers.get("Authorization")
        if not authorization:
            raise ServiceError(
                "MissingAuthenticationTokenException", "Missing Authentication Token", status=403
            )
        match = _AUTHORIZATION.match(authorization)
        if match is None:
            raise ServiceError(
                "IncompleteSignatureException",
                f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. "
                f"Authorization={authorization}",
                status=400,
            )
        secret = self._keys.get(match["key"])
        if secret is None:
            raise ServiceError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                status=403,
            )
        amz_date = request.headers.get("X-Amz-Date", "")
        if not amz_date.startswith(match["date"]):
            raise ServiceError("InvalidSignatureException", MISMATCH, status=403)
        expected = _signature(request, match, secret, amz_date)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ServiceError("InvalidSignatureException", MISMATCH, status=403)


def _signature(request: SignedRequest, match: re.Match[str], secret: str, amz_date: str) -> str:
    signed = {name.strip().lower() for name in match["headers"].split(";")}
    headers = {name: value for name, value in request.headers.items() if name.lower() in signed}
    aws_request = AWSRequest(method=request.method, url=request.url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(match["key"], secret), match["service"], match["region"])
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
