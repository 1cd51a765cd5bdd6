"""SigV4 authentication (--auth) through real boto3 and AWS CLI calls, on the AWS operations and the
test controls, with the pytest plugin, and the bind-safety rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kit import run_pytest

from emulator.config import Settings
from emulator.testing import running_emulator
from emulator.testing.client import ControlClient, ControlError

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


# ---- the test controls under /_emulator/ ---------------------------------------------------------

UNSIGNED_CONTROL_CALLS = [
    ("POST", "/reset", {}),
    ("GET", "/clock", None),
    ("POST", "/clock/pause", {}),
    ("POST", "/clock/advance", {"seconds": 30}),
    ("POST", "/outcomes", {"key": "job", "outcomes": [{"exitCode": 1}]}),
    ("POST", "/service-job-outcomes", {"key": "job", "outcomes": [{"succeeded": False}]}),
    ("POST", "/jobs/some-job/fault", {"fault": "oom"}),
    ("POST", "/images/unpullable", {"image": "busybox:latest"}),
    ("GET", "/jobs/some-job/history", None),
    ("GET", "/events", None),
]


def call_unsigned(emulator, method: str, path: str, document: dict | None = None):
    """(status, headers, JSON body) of an unsigned request to a test control."""
    data = json.dumps(document).encode() if document is not None else None
    request = urllib.request.Request(
        f"{emulator.url}/_emulator{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def compute_environment_names(emulator) -> list[str]:
    environments = client(emulator).describe_compute_environments()["computeEnvironments"]
    return [environment["computeEnvironmentName"] for environment in environments]


def test_unsigned_reset_is_refused_and_changes_nothing(secured):
    client(secured).create_compute_environment(computeEnvironmentName="kept", type="UNMANAGED")
    status, headers, body = call_unsigned(secured, "POST", "/reset", {})
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert body == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }
    assert "kept" in compute_environment_names(secured)


def test_signed_reset_empties_the_server(secured):
    client(secured).create_compute_environment(computeEnvironmentName="forgotten", type="UNMANAGED")
    ControlClient(secured.url, aws_access_key_id=KEY, aws_secret_access_key=SECRET).reset()
    assert compute_environment_names(secured) == []


@pytest.mark.parametrize(
    ("method", "path", "document"),
    UNSIGNED_CONTROL_CALLS,
    ids=[f"{m} {p}" for m, p, _ in UNSIGNED_CONTROL_CALLS],
)
def test_every_control_refuses_unsigned_calls(secured, method, path, document):
    status, headers, body = call_unsigned(secured, method, path, document)
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_an_unsigned_pause_leaves_the_clock_running(secured):
    call_unsigned(secured, "POST", "/clock/pause", {})
    assert secured.runtime.clock.is_paused is False


def test_controls_refuse_a_wrong_secret_and_an_unknown_key(secured):
    with pytest.raises(ControlError, match="InvalidSignatureException: The request signature we calculated"):
        ControlClient(secured.url, aws_access_key_id=KEY, aws_secret_access_key="wrong").reset()
    with pytest.raises(ControlError, match="UnrecognizedClientException: The security token included"):
        ControlClient(secured.url, aws_access_key_id="AKIDUNKNOWN", aws_secret_access_key=SECRET).events()


def test_control_client_signs_with_the_environments_credentials(secured, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert ControlClient(secured.url).events(job_id="none") == []


def test_unsigned_health_is_a_liveness_probe_that_tells_nothing_else(secured):
    status, _, body = call_unsigned(secured, "GET", "/health")
    assert (status, body) == (200, {"status": "ok"})
    assert secured.controls.health()["executor"] == "SimulatedExecutor"
    # A signature on a health check is verified like any other: a wrong one is refused.
    wrong = ControlClient(secured.url, aws_access_key_id=KEY, aws_secret_access_key="wrong")
    with pytest.raises(ControlError, match="InvalidSignatureException"):
        wrong.health()


def test_the_pytest_plugin_runs_against_an_emulator_with_auth(tmp_path):
    (tmp_path / "test_with_auth.py").write_text(
        textwrap.dedent(
            """
            import urllib.error
            import urllib.request

            import boto3
            import pytest

            def test_clients_are_signed_with_the_key(batch_client, logs_client):
                batch_client.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
                assert len(batch_client.describe_compute_environments()["computeEnvironments"]) == 1
                assert logs_client.describe_log_groups()["logGroups"] == []

            def test_each_test_starts_from_an_empty_emulator(batch_client):
                assert batch_client.describe_compute_environments()["computeEnvironments"] == []

            def test_controls_are_signed(batch_client, batch_emulator_controls, wait_for_job):
                batch_client.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
                batch_client.create_job_queue(
                    jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
                )
                batch_client.register_job_definition(
                    jobDefinitionName="d", type="container", containerProperties={"image": "busybox", "command": ["true"]}
                )
                batch_emulator_controls.script_outcome("d-job", exit_code=3, duration_seconds=60)
                batch_emulator_controls.pause_clock()
                job_id = batch_client.submit_job(jobName="d-job", jobQueue="q", jobDefinition="d")["jobId"]
                wait_for_job(job_id, "RUNNING")
                batch_emulator_controls.advance_clock(61)
                assert wait_for_job(job_id, "FAILED")["container"]["exitCode"] == 3
                assert batch_emulator_controls.events(job_id=job_id)
                batch_emulator_controls.reset()
                assert batch_client.describe_job_queues()["jobQueues"] == []

            def test_code_that_builds_its_own_client(batch_emulator_env):
                assert boto3.client("batch").describe_job_queues()["jobQueues"] == []

            def test_unsigned_calls_are_refused(batch_emulator):
                request = urllib.request.Request(f"{batch_emulator.url}/_emulator/reset", data=b"{}", method="POST")
                with pytest.raises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(request)
                assert caught.value.code == 403
            """
        )
    )
    run = run_pytest(tmp_path, f'{{"executor": "simulated", "auth_keys": "{KEY}:{SECRET}"}}')
    assert "5 passed" in run.stdout, run.stdout[-5000:] + run.stderr[-3000:]
