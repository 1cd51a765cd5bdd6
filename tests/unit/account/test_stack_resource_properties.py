"""CloudFormation properties of Batch resources become Batch requests (emulator/account/stack_resources.py)."""

from __future__ import annotations

import json

import boto3
import pytest

from emulator.account import stack_resources


def test_properties_become_request_members_through_the_model():
    request = stack_resources.request_from_properties(
        "RegisterJobDefinition",
        {
            "Type": "container",
            "Parameters": {"InputKey": "s3://in"},
            "PropagateTags": "true",
            "ContainerProperties": {
                "Image": "busybox",
                "ResourceRequirements": [{"Type": "VCPU", "Value": 2}],
                "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": "/jobs"}},
            },
            "Timeout": {"AttemptDurationSeconds": "120"},
            "ResourceRetentionPolicy": {"SkipDeregisterOnUpdate": True},
        },
    )

    assert request == {
        "type": "container",
        "parameters": {"InputKey": "s3://in"},
        "propagateTags": True,
        "containerProperties": {
            "image": "busybox",
            "resourceRequirements": [{"type": "VCPU", "value": "2"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/jobs"}},
        },
        "timeout": {"attemptDurationSeconds": 120},
    }


def test_compute_resources_members_match_regardless_of_case():
    request = stack_resources.request_from_properties(
        "CreateComputeEnvironment",
        {"Type": "MANAGED", "ComputeResources": {"MinvCpus": 0, "Ec2KeyPair": "key", "Tags": {"a": "b"}}},
    )
    assert request == {
        "type": "MANAGED",
        "computeResources": {"minvCpus": 0, "ec2KeyPair": "key", "tags": {"a": "b"}},
    }


def test_stacks_made_with_mock_aws_in_the_same_process_still_reach_motos_batch(monkeypatch):
    """A test that uses moto's in-process mock next to the emulator keeps moto's own behaviour."""
    moto = pytest.importorskip("moto")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDFORMATION"):
        monkeypatch.delenv(name, raising=False)
    stack_resources.install()
    template = {
        "Resources": {
            "Definition": {
                "Type": "AWS::Batch::JobDefinition",
                "Properties": {
                    "JobDefinitionName": "mocked",
                    "Type": "container",
                    "ContainerProperties": {"Image": "busybox", "Vcpus": 1, "Memory": 128},
                    "RetryStrategy": {"Attempts": 1},
                },
            }
        }
    }
    with moto.mock_aws():
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        session.client("cloudformation").create_stack(StackName="mocked", TemplateBody=json.dumps(template))
        definitions = session.client("batch").describe_job_definitions()["jobDefinitions"]

    assert [definition["jobDefinitionName"] for definition in definitions] == ["mocked"]
