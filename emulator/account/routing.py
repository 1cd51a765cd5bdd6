"""Who serves a request on the one endpoint: our protocol layer, moto, or nobody.

AWS tells its services apart by host name; here every service shares one host and port, so the
request itself must say. A signed request says it in its SigV4 credential scope
(`Credential=AKID/date/region/SERVICE/aws4_request`, in the Authorization header or, presigned,
in `X-Amz-Credential`; a SigV2 signature, which only S3 still accepts, names S3, as the presigned
URLs boto3 makes by default are): `batch` and `logs` are ours, anything moto implements goes to moto, and
any other AWS service is refused in its own protocol. A scope naming no AWS service at all is
ignored, as it was before other services were served, and the request's markers decide.

An unsigned request is ours when it carries our markers (a CloudWatch Logs `X-Amz-Target`, a
Batch `/v1/` path), moto's when moto's own server conventions name a service for it (`/moto-api`,
instance metadata, an unsigned STS or Cognito action), and ours otherwise, which answers with
the JSON "no operation matches" error it always gave. moto's server would send such a request to
S3 by default; that is deliberately not kept, so a stray or hostile request never lands in S3.

The decision is pure: what moto would serve and which names are AWS services are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from botocore.model import ServiceModel

CONTROL_PREFIX = "/_emulator"
# Paths moto's server claims before looking at anything else (moto_server/werkzeug_app.py).
MOTO_PATH_PREFIXES = ("/moto-api", "/latest/meta-data/", "/latest/api/")

_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
)
_SIGV2_AUTHORIZATION = re.compile(r"AWS (?P<key>[^:\s]+):\S+$")
_SIGV2_QUERY = re.compile(r"(?:^|&)AWSAccessKeyId=(?P<key>[^&]+)")


class Served(Enum):
    OURS = "ours"
    MOTO = "moto"
    NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class CredentialScope:
    access_key: str
    region: str
    service: str  # the signing name, lower case


@dataclass(frozen=True, slots=True)
class Decision:
    served_by: Served
    signing_name: str | None = None  # the scope's service, when the request was signed
    moto_backend: str | None = None  # the moto backend that serves it (Served.MOTO only)


@dataclass(frozen=True, slots=True)
class OurServices:
    """What marks a request as one for the services our protocol layer serves."""

    signing_names: frozenset[str]
    target_prefixes: frozenset[str]
    path_prefixes: tuple[str, ...]

    @classmethod
    def of(cls, models: Iterable[ServiceModel]) -> OurServices:
        signing_names, targets, paths = set(), set(), set()
        for model in models:
            signing_names.add(model.signing_name.lower())
            if model.protocol == "json":
                targets.add(model.metadata["targetPrefix"])
                continue
            for name in model.operation_names:
                first_segment = model.operation_model(name).http["requestUri"].split("/")[1]
                paths.add(f"/{first_segment}/")
        return cls(frozenset(signing_names), frozenset(targets), tuple(sorted(paths)))

    def claims(self, path: str, target: str | None) -> bool:
        if target:
            return target.partition(".")[0] in self.target_prefixes
        return path.startswith(self.path_prefixes)


def credential_scope(authorization: str | None, credential_query: str | None) -> CredentialScope | None:
    """The SigV4 scope of a signed (Authorization) or presigned (X-Amz-Credential) request."""
    text = authorization if authorization else ("Credential=" + credential_query if credential_query else "")
    match = _CREDENTIAL.search(text)
    if match is None:
        return None
    return CredentialScope(match["key"], match["region"], match["service"].lower())


def sigv2_s3_scope(authorization: str | None, query_string: str) -> CredentialScope | None:
    """A SigV2-signed (`Authorization: AWS AKID:signature`) or SigV2-presigned (`AWSAccessKeyId`
    and `Signature` in the query) request: S3's, in no particular region."""
    match = _SIGV2_AUTHORIZATION.match(authorization or "")
    if match is None and "Signature=" in query_string:
        match = _SIGV2_QUERY.search(query_string)
    return CredentialScope(match["key"], "", "s3") if match else None


def decide(
    *,
    path: str,
    scope: CredentialScope | None,
    target: str | None,
    ours: OurServices,
    moto_backend: Callable[[bool], str | None],
    is_aws_service: Callable[[str], bool],
) -> Decision:
    """`moto_backend(signed)` names the moto backend for this request (by its scope when signed,
    by moto's unsigned conventions otherwise), or None; `is_aws_service(name)` says whether a
    signing name is any AWS service's."""
    if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
        return Decision(Served.OURS)
    if path.startswith(MOTO_PATH_PREFIXES):
        return Decision(Served.MOTO, scope.service if scope else None, moto_backend(scope is not None))
    if scope is not None:
        if scope.service in ours.signing_names:
            return Decision(Served.OURS, scope.service)
        backend = moto_backend(True)
        if backend is not None:
            return Decision(Served.MOTO, scope.service, backend)
        if is_aws_service(scope.service):
            return Decision(Served.NOBODY, scope.service)
    if ours.claims(path, target):
        return Decision(Served.OURS)
    backend = moto_backend(False)
    if backend is not None:
        return Decision(Served.MOTO, None, backend)
    return Decision(Served.OURS)
