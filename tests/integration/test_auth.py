"""SigV4 authentication (--auth) through real boto3 and AWS CLI calls, and the bind-safety rule."""

from __future__ import annotations

import os
import shutil
import subprocess

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.config import Settings
from emulator.testing import running_emulator

KEY, SECRET = "AKIDEMULATOR", "emulator-secret"


@pytest.fixture(scope="module")
def secured():
    with running_emulator(executor="simulated", auth_keys=f"{KEY}:{SECRET}") as emulator:
        yield emulator


def client(emulator, service: str = "batch", *, key: str = KEY, secret: str = SECRET):
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_correctly_signed_requests_succeed(secured):
    batch = client(secured)
    batch.create_compute_environment(computeEnvironmentName="signed", type="UNMANAGED")
    arn = batch.describe_compute_environments()["computeEnvironments"][0]["computeEnvironmentArn"]
    # The tags path carries a percent-encoded ARN: the signature covers the encoded form.
    batch.tag_resource(resourceArn=arn, tags={"team": "a"})
    batch.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    assert client(secured, "logs").describe_log_groups()["logGroups"] == []


def test_wrong_secret_is_refused_with_invalid_signature(secured):
    with pytest.raises(ClientError) as caught:
        client(secured, secret="not-the-secret").describe_job_queues()
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"].startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_refused(secured):
    with pytest.raises(ClientError) as caught:
        client(secured, key="AKIDUNKNOWN").describe_job_queues()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_request_is_refused(secured):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(f"{secured.url}/v1/describejobqueues", data=b"{}"))
    assert caught.value.code == 403
    assert caught.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_rejected_requests_change_nothing(secured):
    with pytest.raises(ClientError):
        client(secured, secret="wrong").create_compute_environment(
            computeEnvironmentName="intruder", type="UNMANAGED"
        )
    names = [
        ce["computeEnvironmentName"]
        for ce in client(secured).describe_compute_environments()["computeEnvironments"]
    ]
    assert "intruder" not in names


@pytest.mark.skipif(
    shutil.which("aws") is None and os.environ.get("CI") != "true", reason="AWS CLI not installed"
)
def test_aws_cli_signed_with_the_right_and_wrong_secret(secured):
    base = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": KEY}
    command = ["aws", "batch", "describe-job-queues", "--endpoint-url", secured.url]
    good = subprocess.run(
        command, env={**base, "AWS_SECRET_ACCESS_KEY": SECRET}, capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stderr
    bad = subprocess.run(
        command, env={**base, "AWS_SECRET_ACCESS_KEY": "wrong"}, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0
    assert "InvalidSignatureException" in bad.stderr


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        ({"host": "127.0.0.1"}, False),
        ({"host": "0.0.0.0"}, True),
        ({"host": "0.0.0.0", "insecure": True}, False),
        ({"host": "0.0.0.0", "auth_keys": f"{KEY}:{SECRET}"}, False),
    ],
    ids=["loopback", "any-address-unauthenticated", "any-address-insecure", "any-address-with-auth"],
)
def test_only_loopback_may_run_without_authentication(overrides, refused):
    assert (Settings(**overrides).bind_refusal() is not None) == refused
