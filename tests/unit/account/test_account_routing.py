"""Who serves a request on the one endpoint (emulator/account/routing.py), decided without moto:
what moto would serve and which names are AWS services are stand-ins here."""

from __future__ import annotations

import pytest

from emulator.account.routing import (
    CredentialScope,
    OurServices,
    Served,
    credential_scope,
    decide,
    sigv2_s3_scope,
)
from emulator.protocol.specs import BATCH, LOGS, load_service_model

OURS = OurServices.of([load_service_model(BATCH), load_service_model(LOGS)])
MOTO_SIGNED = {"s3": "s3", "sqs": "sqs", "events": "events", "states": "stepfunctions"}
AWS_SERVICES = {"s3", "sqs", "events", "states", "cloudsearch", "pricing", "batch", "logs"}


def signed(service: str, key: str = "AKID") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={key}/20260101/eu-west-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )


def route(path: str = "/", *, authorization: str | None = None, target: str | None = None, unsigned=None):
    scope = credential_scope(authorization, None)
    return decide(
        path=path,
        scope=scope,
        target=target,
        ours=OURS,
        moto_backend=lambda is_signed: MOTO_SIGNED.get(scope.service) if is_signed and scope else unsigned,
        is_aws_service=lambda name: name in AWS_SERVICES,
    )


def test_our_markers_come_from_the_models():
    assert OURS.signing_names == {"batch", "logs"}
    assert OURS.target_prefixes == {"Logs_20140328"}
    assert OURS.path_prefixes == ("/v1/",)


@pytest.mark.parametrize(
    ("request_kwargs", "served_by", "backend"),
    [
        ({"path": "/v1/submitjob", "authorization": signed("batch")}, Served.OURS, None),
        ({"target": "Logs_20140328.PutLogEvents", "authorization": signed("logs")}, Served.OURS, None),
        ({"path": "/v1/submitjob"}, Served.OURS, None),
        ({"target": "Logs_20140328.PutLogEvents"}, Served.OURS, None),
        ({"path": "/bucket/key", "authorization": signed("s3")}, Served.MOTO, "s3"),
        # A REST service whose paths look like Batch's: the scope wins.
        ({"path": "/v1/apis", "authorization": signed("sqs")}, Served.MOTO, "sqs"),
        (
            {"target": "AWSStepFunctions.StartExecution", "authorization": signed("states")},
            Served.MOTO,
            "stepfunctions",
        ),
        ({"authorization": signed("cloudsearch")}, Served.NOBODY, None),
        ({"path": "/v1/submitjob", "authorization": signed("pricing")}, Served.NOBODY, None),
        # A scope naming no AWS service is ignored, as before: the markers decide.
        ({"path": "/v1/submitjob", "authorization": signed("x")}, Served.OURS, None),
        ({"path": "/_emulator/reset", "authorization": signed("s3")}, Served.OURS, None),
        ({"path": "/_emulator"}, Served.OURS, None),
        ({"path": "/moto-api/reset", "unsigned": "moto_api"}, Served.MOTO, "moto_api"),
        ({"path": "/", "unsigned": "sts"}, Served.MOTO, "sts"),
        # Unsigned and unclaimed: ours (a JSON "no operation matches"), never moto's S3 default.
        ({"path": "/some-bucket/key"}, Served.OURS, None),
        ({"path": "/", "target": "DynamoDB_20120810.ListTables"}, Served.OURS, None),
    ],
    ids=[
        "batch-signed",
        "logs-signed",
        "batch-unsigned",
        "logs-unsigned",
        "s3",
        "scope-beats-batch-path",
        "stepfunctions-by-signing-name",
        "aws-service-moto-lacks",
        "aws-service-moto-lacks-on-batch-path",
        "bogus-scope-batch-path",
        "controls-whatever-the-scope",
        "controls-root",
        "moto-api",
        "moto-unsigned-convention",
        "unsigned-unclaimed-path",
        "unsigned-foreign-target",
    ],
)
def test_who_serves(request_kwargs, served_by, backend):
    decision = route(**request_kwargs)
    assert (decision.served_by, decision.moto_backend) == (served_by, backend)


def test_moto_is_not_consulted_for_our_requests():
    def no_moto(is_signed: bool) -> str | None:
        raise AssertionError("moto consulted")

    for kwargs in ({"path": "/v1/listjobs"}, {"target": "Logs_20140328.GetLogEvents"}):
        decision = decide(
            path=kwargs.get("path", "/"),
            scope=credential_scope(signed("batch"), None),
            target=kwargs.get("target"),
            ours=OURS,
            moto_backend=no_moto,
            is_aws_service=lambda name: True,
        )
        assert decision.served_by is Served.OURS


@pytest.mark.parametrize(
    ("authorization", "credential_query", "expected"),
    [
        (signed("SQS", key="111122223333"), None, CredentialScope("111122223333", "eu-west-1", "sqs")),
        (None, "AKID/20260101/us-west-2/s3/aws4_request", CredentialScope("AKID", "us-west-2", "s3")),
        ("AWS4-HMAC-SHA256 Credential=/", None, None),
        ("Bearer token", None, None),
        (None, None, None),
    ],
    ids=["header", "presigned", "malformed", "not-sigv4", "unsigned"],
)
def test_credential_scope(authorization, credential_query, expected):
    assert credential_scope(authorization, credential_query) == expected


@pytest.mark.parametrize(
    ("authorization", "query", "names_s3"),
    [
        ("AWS AKID:c2lnbmF0dXJl", "", True),
        (None, "AWSAccessKeyId=AKID&Signature=abc%3D&Expires=1", True),
        (None, "AWSAccessKeyId=AKID", False),
        (signed("s3"), "", False),
    ],
    ids=["sigv2-header", "sigv2-presigned", "no-signature", "sigv4"],
)
def test_sigv2_requests_name_s3(authorization, query, names_s3):
    scope = sigv2_s3_scope(authorization, query)
    assert (scope is not None and scope.service == "s3") == names_s3
