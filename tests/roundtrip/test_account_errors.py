"""Refusals for services other than ours (emulator/account/errors.py) parse with botocore's own
parser for the service's protocol into the code and message we sent."""

from __future__ import annotations

import pytest
from botocore.parsers import create_parser

from emulator.account.errors import WireProtocol, auth_failure_in, protocol_of, render_error
from emulator.protocol.errors import ServiceError

MESSAGE = 'batch-emulator does not serve <this> & "that" — ü'


@pytest.mark.parametrize(
    "protocol",
    [
        WireProtocol("query"),
        WireProtocol("ec2"),
        WireProtocol("rest-xml"),
        WireProtocol("json", "1.1"),
        WireProtocol("rest-json"),
        WireProtocol("smithy-rpc-v2-cbor"),
    ],
    ids=lambda protocol: protocol.name,
)
def test_botocore_reads_our_error_in_every_protocol(protocol):
    wire = render_error(protocol, ServiceError("UnknownServiceException", MESSAGE, status=400), "req-1")
    parsed = create_parser(protocol.name).parse(
        {"status_code": wire.status, "headers": wire.headers, "body": wire.body}, None
    )
    assert parsed["Error"]["Code"] == "UnknownServiceException"
    assert parsed["Error"]["Message"] == MESSAGE
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_long_cbor_strings_keep_their_length():
    message = "x" * 70_000
    wire = render_error(WireProtocol("smithy-rpc-v2-cbor"), ServiceError("Code", message), "req")
    parsed = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": 400, "headers": wire.headers, "body": wire.body}, None
    )
    assert parsed["Error"]["Message"] == message


@pytest.mark.parametrize(
    ("signing_name", "headers", "expected"),
    [
        ("s3", {}, "rest-xml"),
        ("cloudsearch", {"Content-Type": "application/x-www-form-urlencoded"}, "query"),
        ("cloudsearch", {"Content-Type": "application/json"}, "rest-json"),
        ("ec2", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, "ec2"),
        ("monitoring", {"Smithy-Protocol": "rpc-v2-cbor"}, "smithy-rpc-v2-cbor"),
        ("monitoring", {"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}, "json"),
        ("monitoring", {"Content-Type": "application/x-www-form-urlencoded"}, "query"),
        ("pricing", {"X-Amz-Target": "AWSPriceListService.DescribeServices"}, "json"),
        ("no-such-service", {}, "json"),
        (None, {"Content-Type": "application/x-www-form-urlencoded"}, "query"),
    ],
    ids=[
        "s3",
        "cloudsearch-query",
        "cloudsearchdomain-rest-json",
        "ec2",
        "cloudwatch-cbor",
        "cloudwatch-json",
        "cloudwatch-query",
        "pricing-json",
        "unknown",
        "unsigned-form",
    ],
)
def test_protocol_follows_the_model_and_the_request(signing_name, headers, expected):
    assert protocol_of(signing_name, headers).name == expected


@pytest.mark.parametrize(
    ("protocol", "code", "status"),
    [
        ("rest-xml", "SignatureDoesNotMatch", 403),
        ("query", "SignatureDoesNotMatch", 403),
        ("ec2", "AuthFailure", 401),
        ("json", "InvalidSignatureException", 403),
    ],
)
def test_signature_mismatch_is_worded_as_each_protocol_words_it(protocol, code, status):
    refusal = auth_failure_in(
        WireProtocol(protocol), ServiceError("InvalidSignatureException", "m", status=403)
    )
    assert (refusal.code, refusal.status) == (code, status)
