"""--auth guards every service on the endpoint: what moto serves is reachable only with a valid
SigV4 signature, and refusals are worded in each service's own protocol."""

from __future__ import annotations

import urllib.error
import urllib.request

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.testing import running_emulator

KEY, SECRET = "AKIDACCOUNT", "account-secret"


@pytest.fixture(scope="module")
def secured():
    with running_emulator(executor="simulated", auth_keys=f"{KEY}:{SECRET}") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def fresh(secured):
    """moto's state is the process's: start each test from nothing, whatever ran before."""
    secured.reset()


def client(emulator, service: str, *, key: str = KEY, secret: str = SECRET, **config):
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


def test_signed_s3_put_and_get_succeed(secured):
    s3 = client(secured, "s3")
    s3.create_bucket(Bucket="secured")
    s3.put_object(Bucket="secured", Key="dir/a b+ü.txt", Body=b"payload")
    assert s3.get_object(Bucket="secured", Key="dir/a b+ü.txt")["Body"].read() == b"payload"


def test_signed_multipart_upload_succeeds(secured):
    s3 = client(secured, "s3")
    s3.create_bucket(Bucket="multipart")
    upload = s3.create_multipart_upload(Bucket="multipart", Key="big")["UploadId"]
    part = s3.upload_part(Bucket="multipart", Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    s3.complete_multipart_upload(
        Bucket="multipart",
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3.head_object(Bucket="multipart", Key="big")["ContentLength"] == 1024


def test_unsigned_s3_call_is_refused(secured):
    client(secured, "s3").create_bucket(Bucket="private")
    anonymous = client(secured, "s3", signature_version=botocore.UNSIGNED)
    with pytest.raises(ClientError) as caught:
        anonymous.list_objects_v2(Bucket="private")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("s3", lambda s3: s3.list_buckets(), ("SignatureDoesNotMatch", 403)),
        ("sts", lambda sts: sts.get_caller_identity(), ("SignatureDoesNotMatch", 403)),
        ("ec2", lambda ec2: ec2.describe_vpcs(), ("AuthFailure", 401)),
        ("sqs", lambda sqs: sqs.list_queues(), ("InvalidSignatureException", 403)),
    ],
    ids=["s3-rest-xml", "sts-query", "ec2", "sqs-json"],
)
def test_wrong_secret_is_refused_in_the_services_own_words(secured, service, call, expected):
    with pytest.raises(ClientError) as caught:
        call(client(secured, service, secret="not-the-secret"))
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == expected


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda s3: s3.list_buckets(), "InvalidAccessKeyId"),
        ("iam", lambda iam: iam.list_roles(), "InvalidClientTokenId"),
    ],
    ids=["s3", "iam"],
)
def test_unknown_access_key_is_refused(secured, service, call, code):
    with pytest.raises(ClientError) as caught:
        call(client(secured, service, key="AKIDUNKNOWN"))
    assert caught.value.response["Error"]["Code"] == code


def test_refused_request_creates_nothing(secured):
    with pytest.raises(ClientError):
        client(secured, "sqs", secret="wrong").create_queue(QueueName="intruder")
    assert client(secured, "sqs").list_queues().get("QueueUrls", []) == []


def test_presigned_url_works_until_tampered_with(secured):
    s3 = client(secured, "s3", signature_version="s3v4")
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="report.txt", Body=b"report")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report.txt"})

    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"report"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url.replace("report.txt", "other.txt"), timeout=30)
    assert caught.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in caught.value.read()


@pytest.mark.parametrize("path", ["/moto-api/reset", "/moto-api/data.json"])
def test_motos_control_api_needs_a_signature_too(secured, path):
    client(secured, "s3").create_bucket(Bucket="survivor")
    request = urllib.request.Request(secured.url + path, method="POST" if path.endswith("reset") else "GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 403
    assert "survivor" in [bucket["Name"] for bucket in client(secured, "s3").list_buckets()["Buckets"]]
