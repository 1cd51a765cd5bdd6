"""SigV4 presigned URLs under --auth (emulator/protocol/auth.py): valid until X-Amz-Expires has
passed, on the verifier's own clock."""

from __future__ import annotations

import calendar
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.protocol.auth import SignedRequest, SigV4Verifier
from emulator.protocol.errors import ServiceError

KEY, SECRET = "AKIDPRESIGN", "secret"


def presigned(expires_seconds: int = 300, secret: str = SECRET) -> SignedRequest:
    request = AWSRequest(method="GET", url="http://127.0.0.1:8734/bucket/a%20key.txt")
    S3SigV4QueryAuth(Credentials(KEY, secret), "s3", "us-east-1", expires=expires_seconds).add_auth(request)
    return SignedRequest("GET", request.url, {"Host": "127.0.0.1:8734"}, b"")


def verifier_at(seconds_after_signing: float, request: SignedRequest | None = None) -> SigV4Verifier:
    """A verifier whose clock reads `seconds_after_signing` after the request's X-Amz-Date."""
    query = parse_qs(urlsplit(request.url).query) if request is not None else {}
    signed_at = query.get("X-Amz-Date", [time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())])[0]
    signed_at_seconds = calendar.timegm(time.strptime(signed_at, "%Y%m%dT%H%M%SZ"))
    return SigV4Verifier({KEY: SECRET}, now_seconds=lambda: signed_at_seconds + seconds_after_signing)


def test_presigned_url_is_accepted_while_valid():
    request = presigned(expires_seconds=300)
    verifier_at(299, request).verify(request)


def test_presigned_url_is_refused_once_expired():
    request = presigned(expires_seconds=300)
    with pytest.raises(ServiceError) as caught:
        verifier_at(301, request).verify(request)
    assert (caught.value.code, caught.value.message) == ("AccessDeniedException", "Request has expired")


def test_presigned_url_signed_with_another_secret_is_refused():
    request = presigned(secret="other")
    with pytest.raises(ServiceError) as caught:
        verifier_at(0, request).verify(request)
    assert caught.value.code == "InvalidSignatureException"


def test_declared_payload_hash_must_match_the_body():
    """The signature covers the hash the client declared; the body must then have that hash."""
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8734/",
        headers={"X-Amz-Content-SHA256": hashlib.sha256(b"declared").hexdigest()},
        data=b"sent",
    )
    SigV4Auth(Credentials(KEY, SECRET), "sqs", "us-east-1").add_auth(request)
    signed = SignedRequest("POST", request.url, {"Host": "127.0.0.1:8734", **request.headers}, b"sent")
    with pytest.raises(ServiceError) as caught:
        verifier_at(0).verify(signed)
    assert caught.value.code == "XAmzContentSHA256Mismatch"
