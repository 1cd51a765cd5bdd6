"""Jobs live in the account their queue is in: their own SDK calls land there, and their
definition's `secrets` are read from that account's SSM Parameter Store and Secrets Manager when
an attempt starts (local processes here; tests/docker/test_jobs_in_account_docker.py in
containers)."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from kit import REQUIREMENTS, create_queue, log_lines, submit

from emulator.account.secret_store import ASM_FAILED, SSM_FAILED
from emulator.testing import running_emulator
from emulator.testing.waiting import wait_for_job

OTHER_ACCOUNT = "111122223333"
# The job creates its own bucket (owned by whoever calls) and says who it is.
WRITE_RESULTS = """
import boto3
account = boto3.client("sts").get_caller_identity()["Account"]
s3 = boto3.client("s3")
s3.create_bucket(Bucket="results")
s3.put_object(Bucket="results", Key="out.txt", Body=f"written by {account}".encode())
"""


def define(batch, name: str, command: list[str], **container) -> str:
    properties = {"image": "busybox", "command": command, "resourceRequirements": REQUIREMENTS, **container}
    batch.register_job_definition(jobDefinitionName=name, type="container", containerProperties=properties)
    return name


def run(batch, logs, definition: str, status: str = "SUCCEEDED") -> dict:
    job_id = submit(batch, "q", definition)
    return wait_for_job(batch, job_id, status, timeout_seconds=30, logs_client=logs)


@pytest.fixture
def other_account(aws_client):
    """Clients of account 111122223333 (a twelve-digit access key id names the account)."""
    return lambda service: aws_client(service, aws_access_key_id=OTHER_ACCOUNT, aws_secret_access_key="x")


def test_a_job_of_another_account_writes_to_that_accounts_bucket(aws_client, other_account):
    batch, s3 = other_account("batch"), other_account("s3")
    create_queue(batch, "q", "ce")
    define(batch, "writer", [sys.executable, "-c", WRITE_RESULTS])

    run(batch, other_account("logs"), "writer")

    assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["results"]
    assert s3.get_object(Bucket="results", Key="out.txt")["Body"].read() == b"written by 111122223333"
    assert aws_client("s3").list_buckets()["Buckets"] == []  # the default account owns none


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, "q", "ce")


def test_secrets_from_ssm_and_secrets_manager_become_the_jobs_variables(
    batch_client, logs_client, aws_client, queue, caplog
):
    caplog.set_level(logging.DEBUG, logger="emulator")
    ssm, secrets = aws_client("ssm"), aws_client("secretsmanager")
    ssm.put_parameter(Name="/app/db-host", Value="db.internal", Type="String")
    ssm.put_parameter(Name="/app/password", Value="pa55-w0rd", Type="SecureString")
    ssm.put_parameter(Name="plain", Value="flat name", Type="String")
    creds = secrets.create_secret(Name="app/creds", SecretString=json.dumps({"user": "alice", "port": 5432}))
    arn = creds["ARN"]
    references = [
        {"name": "DB_HOST", "valueFrom": "/app/db-host"},
        {"name": "PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/app/password"},
        {"name": "PLAIN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/plain"},
        {"name": "DB_USER", "valueFrom": f"{arn}:user::"},
        {"name": "DB_PORT", "valueFrom": f"{arn}:port::"},
        {"name": "CREDS", "valueFrom": arn},
    ]
    command = ["sh", "-c", 'echo "$DB_HOST|$PASSWORD|$PLAIN|$DB_USER|$DB_PORT|$CREDS"']
    define(batch_client, "with-secrets", command, secrets=references)

    detail = run(batch_client, logs_client, "with-secrets")

    expected = 'db.internal|pa55-w0rd|flat name|alice|5432|{"user": "alice", "port": 5432}'
    assert log_lines(logs_client, detail) == [expected]
    assert detail["container"]["secrets"] == references  # references, as on AWS, never values
    assert "pa55-w0rd" not in json.dumps(detail["container"], default=str)
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("emulator"))
    assert "pa55-w0rd" not in server_log and "alice" not in server_log


def test_a_missing_parameter_fails_the_attempt_with_the_agents_reason(batch_client, logs_client, queue):
    secrets = [{"name": "A", "valueFrom": "/nowhere"}, {"name": "B", "valueFrom": "also-missing"}]
    define(batch_client, "missing-parameter", ["true"], secrets=secrets)

    detail = run(batch_client, logs_client, "missing-parameter", "FAILED")

    assert detail["statusReason"] == "Task failed to start"
    assert detail["container"]["reason"] == f"{SSM_FAILED}invalid parameters: /nowhere,also-missing"
    assert "exitCode" not in detail["container"] and "startedAt" not in detail


def test_a_missing_secret_fails_the_attempt_with_the_agents_reason(batch_client, logs_client, queue):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    define(batch_client, "missing-secret", ["true"], secrets=[{"name": "A", "valueFrom": arn}])

    detail = run(batch_client, logs_client, "missing-secret", "FAILED")

    assert detail["container"]["reason"] == (
        f"{ASM_FAILED}failed to fetch secret {arn} from secrets manager: "
        "ResourceNotFoundException: Secrets Manager can't find the specified secret."
    )


def test_a_json_key_the_secret_lacks_fails_the_attempt(batch_client, logs_client, aws_client, queue):
    arn = aws_client("secretsmanager").create_secret(Name="creds", SecretString='{"user": "bob"}')["ARN"]
    define(batch_client, "no-such-key", ["true"], secrets=[{"name": "P", "valueFrom": f"{arn}:password::"}])

    detail = run(batch_client, logs_client, "no-such-key", "FAILED")

    assert detail["container"]["reason"] == (
        f"{ASM_FAILED}retrieved secret from Secrets Manager did not contain json key password"
    )


def test_a_job_reads_the_parameters_of_its_own_account(aws_client, other_account):
    aws_client("ssm").put_parameter(Name="/stage", Value="default account", Type="String")
    other_account("ssm").put_parameter(Name="/stage", Value="other account", Type="String")
    batch = other_account("batch")
    create_queue(batch, "q", "ce")
    define(batch, "stage", ["sh", "-c", "echo $STAGE"], secrets=[{"name": "STAGE", "valueFrom": "/stage"}])

    logs = other_account("logs")
    assert log_lines(logs, run(batch, logs, "stage")) == ["other account"]


WHO_AM_I = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"


def test_under_auth_jobs_call_back_signed_with_their_accounts_key():
    """--auth: a job gets the configured key pair whose id is its account id, else the first one."""
    keys = f"AKIDEMULATOR:first-secret,{OTHER_ACCOUNT}:other-secret"
    with running_emulator(executor="process", auth_keys=keys) as emulator:
        for key, secret, expected in (
            ("AKIDEMULATOR", "first-secret", "123456789012"),
            (OTHER_ACCOUNT, "other-secret", OTHER_ACCOUNT),
        ):
            batch = emulator.client("batch", aws_access_key_id=key, aws_secret_access_key=secret)
            logs = emulator.client("logs", aws_access_key_id=key, aws_secret_access_key=secret)
            create_queue(batch, "q", "ce")
            define(batch, "who", [sys.executable, "-c", WHO_AM_I])

            assert log_lines(logs, run(batch, logs, "who")) == [expected]
