"""Batch wired into the account's ECS: each compute environment's `ecsClusterArn` is a cluster that
ECS's ListClusters and DescribeClusters show (through boto3 and the AWS CLI on the same
endpoint), gone when the compute environment is deleted, after a reset, and back after a restart
on a state directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import boto3
import pytest
from botocore.config import Config
from kit import eventually, serving

from emulator.account.moto_gateway import reset_moto
from emulator.bootstrap import COMPUTE_RESOURCES
from emulator.config import Settings
from emulator.testing.emulator import DUMMY_CREDENTIALS


def create_environments(batch) -> list[str]:
    """A managed EC2 and an unmanaged compute environment; their ecsClusterArns."""
    batch.create_compute_environment(
        computeEnvironmentName="managed", type="MANAGED", computeResources=dict(COMPUTE_RESOURCES)
    )
    batch.create_compute_environment(computeEnvironmentName="unmanaged", type="UNMANAGED", unmanagedvCpus=4)
    return cluster_arns(batch, ["managed", "unmanaged"])


def cluster_arns(batch, names: list[str]) -> list[str]:
    environments = batch.describe_compute_environments(computeEnvironments=names)["computeEnvironments"]
    return [environment["ecsClusterArn"] for environment in environments]


def wait_until_valid(batch, name: str) -> None:
    eventually(
        lambda: (
            batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"][0][
                "status"
            ]
            == "VALID"
        ),
        what=f"{name} to be VALID",
    )


def test_every_compute_environment_is_an_active_cluster_in_ecs(batch_client, aws_client):
    arns = create_environments(batch_client)
    ecs = aws_client("ecs")

    assert sorted(ecs.list_clusters()["clusterArns"]) == sorted(arns)
    described = ecs.describe_clusters(clusters=arns)
    assert described["failures"] == []
    assert sorted((cluster["clusterArn"], cluster["status"]) for cluster in described["clusters"]) == sorted(
        (arn, "ACTIVE") for arn in arns
    )
    assert all(cluster["clusterName"].startswith("AWSBatch-") for cluster in described["clusters"])


def test_deleting_a_compute_environment_deletes_its_cluster(batch_client, aws_client):
    kept, deleted = create_environments(batch_client)
    batch_client.update_compute_environment(computeEnvironment="unmanaged", state="DISABLED")
    wait_until_valid(batch_client, "unmanaged")
    batch_client.delete_compute_environment(computeEnvironment="unmanaged")
    ecs = aws_client("ecs")

    assert ecs.list_clusters()["clusterArns"] == [kept]
    described = ecs.describe_clusters(clusters=[deleted])
    assert described["clusters"] == []
    assert [failure["reason"] for failure in described["failures"]] == ["MISSING"]


def test_reset_forgets_the_clusters_of_forgotten_environments(batch_emulator, batch_client, aws_client):
    create_environments(batch_client)
    aws_client("ecs").list_clusters()  # moto's ECS holds them now
    batch_emulator.reset()
    batch_client.create_compute_environment(computeEnvironmentName="after", type="UNMANAGED")

    assert aws_client("ecs").list_clusters()["clusterArns"] == cluster_arns(batch_client, ["after"])


def test_the_bootstrap_environment_is_a_cluster_in_ecs():
    """--bootstrap makes its compute environment at start, before any request reaches moto."""
    reset_moto()
    with serving(Settings(executor="simulated", bootstrap=True)) as server:
        arns = cluster_arns(_client("batch", server.url), ["default"])
        assert _client("ecs", server.url).list_clusters()["clusterArns"] == arns


def test_clusters_come_back_after_a_restart_on_a_state_directory(tmp_path):
    settings = Settings(executor="simulated", state_dir=str(tmp_path))
    with serving(settings) as server:
        _client("batch", server.url).create_compute_environment(
            computeEnvironmentName="kept", type="UNMANAGED"
        )
        arns = cluster_arns(_client("batch", server.url), ["kept"])
    reset_moto()  # moto's state lives in memory only: a new process starts with none
    with serving(settings) as server:
        assert _client("ecs", server.url).list_clusters()["clusterArns"] == arns


def test_aws_cli_lists_every_compute_environment_cluster(batch_emulator, batch_client, tmp_path):
    if shutil.which("aws") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the AWS CLI (`pip install awscli`) is not on PATH (CI=true: the CLI test must run)")
        pytest.skip("the AWS CLI (`pip install awscli`) is not on PATH")
    arns = create_environments(batch_client)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": batch_emulator.settings.region,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    command = ["aws", "ecs", "list-clusters", "--endpoint-url", batch_emulator.url, "--output", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["clusterArns"]) == sorted(arns)


def _client(service: str, url: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
        **DUMMY_CREDENTIALS,
    )
