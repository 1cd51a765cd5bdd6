"""Optional SigV4 verification of incoming requests against configured access keys.

The signature is recomputed with botocore's own SigV4 signer over exactly the headers the client
listed in `SignedHeaders`, the request line as sent, and the body, for the date, region and service
of the client's credential scope. Failures use the error codes and statuses AWS's front ends use.

The payload hash is the one the client declared in `x-amz-content-sha256` where it sent one, as
AWS does: S3 clients declare `UNSIGNED-PAYLOAD` or a streaming (aws-chunked) form instead of a
hash. A declared hash must still match the body. Per-chunk signatures of
`STREAMING-AWS4-HMAC-SHA256-PAYLOAD` uploads are not checked. SigV4 presigned URLs (the signature
in the query) are verified too, and refused once `X-Amz-Expires` has passed; SigV2 ones are not.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.protocol.errors import ServiceError

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

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

    @classmethod
    def of_environ(cls, environ: Mapping, headers: Mapping[str, str], body: bytes) -> SignedRequest:
        """The request as a WSGI server received it. The signature covers the path as the client
        sent it, still percent-encoded: the server's raw request line, when it keeps one."""
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not raw_path:
            query = environ.get("QUERY_STRING", "")
            raw_path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}{raw_path}"
        return cls(environ.get("REQUEST_METHOD", "GET"), url, headers, body)


def parse_keys(spec: str) -> dict[str, str]:
    """`AKID:SECRET,AKID2:SECRET2` -> {AKID: SECRET, ...}."""
    keys = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        access_key, separator, secret = pair.partition(":")
        if not separator or not access_key or not secret:
            raise ValueError(f"an auth key must look like ACCESS_KEY_ID:SECRET, got {pair!r}")
        keys[access_key] = secret
    return keys


@dataclass(frozen=True, slots=True)
class _Signature:
    """What the client signed with: from the Authorization header, or from a presigned URL's query."""

    key: str
    date: str
    region: str
    service: str
    signed_headers: str
    signature: str
    amz_date: str
    url: str  # the URL the signature covers (a presigned URL's own signature taken out)
    expires_seconds: int | None = None  # presigned URLs only


class SigV4Verifier:
    def __init__(self, keys: Mapping[str, str], *, now_seconds: Callable[[], float] = time.time) -> None:
        """`now_seconds` is only read to refuse expired presigned URLs."""
        self._keys = dict(keys)
        self._now_seconds = now_seconds

    def verify(self, request: SignedRequest) -> None:
        signed = _from_header(request) or _from_presigned_url(request)
        secret = self._keys.get(signed.key)
        if secret is None:
            raise ServiceError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                status=403,
            )
        if not signed.amz_date.startswith(signed.date):
            raise ServiceError("InvalidSignatureException", MISMATCH, status=403)
        expected = _signature(request, signed, secret)
        if not hmac.compare_digest(expected, signed.signature):
            raise ServiceError("InvalidSignatureException", MISMATCH, status=403)
        if signed.expires_seconds is not None:
            self._check_not_expired(signed)
        _check_declared_payload_hash(request)

    def _check_not_expired(self, signed: _Signature) -> None:
        try:
            signed_at = calendar.timegm(time.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise ServiceError("InvalidSignatureException", MISMATCH, status=403) from None
        if self._now_seconds() > signed_at + signed.expires_seconds:
            raise ServiceError("AccessDeniedException", "Request has expired", status=403)


def _from_header(request: SignedRequest) -> _Signature | None:
    authorization = request.headers.get("Authorization")
    if not authorization:
        return None
    match = _AUTHORIZATION.match(authorization)
    if match is None:
        raise ServiceError(
            "IncompleteSignatureException",
            f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. "
            f"Authorization={authorization}",
            status=400,
        )
    return _Signature(
        match["key"],
        match["date"],
        match["region"],
        match["service"],
        match["headers"],
        match["signature"],
        request.headers.get("X-Amz-Date", ""),
        request.url,
    )


def _from_presigned_url(request: SignedRequest) -> _Signature:
    """A presigned URL (`X-Amz-Credential`, `X-Amz-Signature`... in the query), as S3 accepts."""
    url = urlsplit(request.url)
    pairs = [pair.partition("=") for pair in url.query.split("&") if pair]
    query = {unquote(name): unquote(value) for name, _, value in pairs}
    if "X-Amz-Credential" not in query:
        raise ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token", status=403)
    scope = query["X-Amz-Credential"].split("/")
    if len(scope) != 5 or not {"X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} <= query.keys():
        raise ServiceError(
            "IncompleteSignatureException",
            "Presigned URLs require 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date' and "
            "'X-Amz-SignedHeaders' query parameters.",
            status=400,
        )
    unsigned_query = "&".join(f"{name}={value}" for name, _, value in pairs if name != "X-Amz-Signature")
    expires = query.get("X-Amz-Expires", "")
    return _Signature(
        scope[0],
        scope[1],
        scope[2],
        scope[3],
        query["X-Amz-SignedHeaders"],
        query["X-Amz-Signature"],
        query["X-Amz-Date"],
        urlunsplit(url._replace(query=unsigned_query)),
        int(expires) if expires.isdigit() else 604_800,  # AWS's longest validity: seven days
    )


def _check_declared_payload_hash(request: SignedRequest) -> None:
    declared = next((v for k, v in request.headers.items() if k.lower() == "x-amz-content-sha256"), "")
    if _SHA256_HEX.fullmatch(declared) and hashlib.sha256(request.body).hexdigest() != declared:
        raise ServiceError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            status=400,
        )


def _signature(request: SignedRequest, signed: _Signature, secret: str) -> str:
    names = {name.strip().lower() for name in signed.signed_headers.split(";")}
    headers = {name: value for name, value in request.headers.items() if name.lower() in names}
    aws_request = AWSRequest(method=request.method, url=signed.url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = signed.amz_date
    signer = _signer_class(signed)(Credentials(signed.key, secret), signed.service, signed.region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)


def _signer_class(signed: _Signature) -> type[SigV4Auth]:
    """S3 signs the path exactly as sent, every other service normalized; a presigned URL's
    payload is UNSIGNED-PAYLOAD for S3 and the body's hash elsewhere, as botocore presigns."""
    if signed.service == "s3":
        return S3SigV4QueryAuth if signed.expires_seconds is not None else S3SigV4Auth
    return SigV4QueryAuth if signed.expires_seconds is not None else SigV4Auth
