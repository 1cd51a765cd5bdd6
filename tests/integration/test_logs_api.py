"""CloudWatch Logs through real clients on a real socket: boto3 `logs` clients and the AWS CLI v1.

The server is the pytest plugin's session emulator, reset before each test. Job output is written
the way executors write it (`LogStore.put_events` on the runtime's store) and read back the way
users read it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import boto3
import pytest
from botocore.config import Config

GROUP = "/aws/batch/job"
STREAM = "sleep-def/default/0123456789abcdef0123456789abcdef"
T0 = 1_700_000_000_000


@pytest.fixture
def logs(batch_emulator) -> Any:
    return boto3.client(
        "logs",
        endpoint_url=batch_emulator.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def job_output(batch_emulator) -> list[str]:
    """Lines a job wrote, stored the way an executor stores them."""
    lines = [f"line {i}" for i in range(25)]
    runtime = batch_emulator.runtime
    store = runtime.logs
    account, region = runtime.settings.account_id, runtime.settings.region
    store.ensure_stream(account, region, GROUP, STREAM)
    store.put_events(account, region, GROUP, STREAM, [(T0 + i, line) for i, line in enumerate(lines)])
    return lines


def test_put_and_get_log_events(logs) -> None:
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="s")
    token = logs.put_log_events(
        logGroupName="/app",
        logStreamName="s",
        logEvents=[{"timestamp": T0, "message": "hello"}, {"timestamp": T0 + 1, "message": "world"}],
    )["nextSequenceToken"]
    assert token

    page = logs.get_log_events(logGroupName="/app", logStreamName="s", startFromHead=True)
    assert [(e["timestamp"], e["message"]) for e in page["events"]] == [(T0, "hello"), (T0 + 1, "world")]
    assert page["nextForwardToken"].startswith("f/") and page["nextBackwardToken"].startswith("b/")


def test_reading_job_output_until_the_forward_token_repeats(logs, job_output: list[str]) -> None:
    """The loop boto3 users and log tailers write: stop when the forward token comes back unchanged."""
    seen: list[str] = []
    kwargs: dict[str, Any] = {
        "logGroupName": GROUP,
        "logStreamName": STREAM,
        "startFromHead": True,
        "limit": 10,
    }
    while True:
        page = logs.get_log_events(**kwargs)
        seen += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextForwardToken"]
    assert seen == job_output


def test_filter_log_events_paginator(logs, job_output: list[str]) -> None:
    paginator = logs.get_paginator("filter_log_events")
    pages = list(
        paginator.paginate(logGroupName=GROUP, filterPattern='"line 1"', PaginationConfig={"PageSize": 4})
    )
    found = [event["message"] for page in pages for event in page["events"]]
    assert found == [line for line in job_output if "line 1" in line]
    assert len(pages) == 3
    assert all(event["logStreamName"] == STREAM for page in pages for event in page["events"])


def test_describe_paginators(logs) -> None:
    logs.create_log_group(logGroupName=GROUP)
    names = [f"def/default/{i:03d}" for i in range(60)]
    for name in names:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=name)
    streams = logs.get_paginator("describe_log_streams").paginate(logGroupName=GROUP)
    assert [s["logStreamName"] for page in streams for s in page["logStreams"]] == names
    groups = logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 1})
    assert [g["logGroupName"] for page in groups for g in page["logGroups"]] == [GROUP]


def test_modeled_errors_come_back_as_boto3_exceptions(logs) -> None:
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing:
        logs.get_log_events(logGroupName=GROUP, logStreamName="nope")
    assert missing.value.response["Error"]["Message"] == "The specified log group does not exist."

    logs.create_log_group(logGroupName=GROUP)
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=GROUP)
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing_stream:
        logs.get_log_events(logGroupName=GROUP, logStreamName="nope")
    assert missing_stream.value.response["Error"]["Message"] == "The specified log stream does not exist."

    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    with pytest.raises(logs.exceptions.InvalidParameterException) as bad_token:
        logs.get_log_events(logGroupName=GROUP, logStreamName="s", nextToken="f/not-a-token")
    assert bad_token.value.response["Error"]["Message"] == "The specified nextToken is invalid."


def test_tags_retention_and_delete(logs) -> None:
    logs.create_log_group(logGroupName=GROUP, tags={"team": "batch"})
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]
    logs.tag_resource(resourceArn=group["logGroupArn"], tags={"env": "dev"})
    assert logs.list_tags_log_group(logGroupName=GROUP)["tags"] == {"team": "batch", "env": "dev"}
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=14)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 14
    logs.delete_log_group(logGroupName=GROUP)
    assert logs.describe_log_groups()["logGroups"] == []


def test_accounts_are_kept_apart_by_access_key(batch_emulator, logs, job_output: list[str]) -> None:
    other = boto3.client(
        "logs",
        endpoint_url=batch_emulator.url,
        region_name="us-east-1",
        aws_access_key_id="210987654321",  # twelve digits name the account
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    assert other.describe_log_groups()["logGroups"] == []
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == [GROUP]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI (`pip install awscli`) is not on PATH")
def test_aws_cli_reads_job_output(batch_emulator, job_output: list[str], tmp_path) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_PROFILE", None)

    def aws(*args: str) -> dict[str, Any]:
        command = ["aws", "logs", *args, "--endpoint-url", batch_emulator.url, "--output", "json"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    got = aws("get-log-events", "--log-group-name", GROUP, "--log-stream-name", STREAM, "--start-from-head")
    assert [event["message"] for event in got["events"]] == job_output
    assert got["nextForwardToken"].startswith("f/")

    filtered = aws(
        "filter-log-events", "--log-group-name", GROUP, "--filter-pattern", "line 2", "--page-size", "2"
    )
    assert [event["message"] for event in filtered["events"]] == [line for line in job_output if "2" in line]
