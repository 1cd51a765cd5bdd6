"""CloudFormation stacks on the endpoint create their AWS::Batch::* resources in our Batch, as a
stack on AWS creates ordinary Batch resources: the Batch API lists them and jobs run on them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

STACK = {
    "Resources": {
        "Environment": {
            "Type": "AWS::Batch::ComputeEnvironment",
            "Properties": {
                "ComputeEnvironmentName": "stack-ce",
                "Type": "MANAGED",
                "ComputeResources": {
                    "Type": "EC2",
                    "MinvCpus": 0,
                    "MaxvCpus": 4,
                    "InstanceTypes": ["optimal"],
                    "Subnets": ["subnet-1"],
                    "SecurityGroupIds": ["sg-1"],
                    "InstanceRole": "ecsInstanceRole",
                },
                "Tags": {"Team": "Genomics"},
            },
        },
        "Policy": {
            "Type": "AWS::Batch::SchedulingPolicy",
            "Properties": {"FairsharePolicy": {"ShareDecaySeconds": 3600}},
        },
        "Queue": {
            "Type": "AWS::Batch::JobQueue",
            "Properties": {
                "Priority": 1,
                "SchedulingPolicyArn": {"Ref": "Policy"},
                "ComputeEnvironmentOrder": [{"Order": 1, "ComputeEnvironment": {"Ref": "Environment"}}],
            },
        },
        "Definition": {
            "Type": "AWS::Batch::JobDefinition",
            "Properties": {
                "Type": "container",
                "Parameters": {"Greeting": "hello"},
                "ContainerProperties": {
                    "Image": "busybox",
                    "Command": ["echo", "Ref::Greeting"],
                    "ResourceRequirements": [{"Type": "VCPU", "Value": 1}, {"Type": "MEMORY", "Value": 128}],
                    "LinuxParameters": {"Devices": [{"HostPath": "/dev/null"}]},
                },
                "RetryStrategy": {"Attempts": 2},
            },
        },
    },
    "Outputs": {
        "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "JobQueueArn"]}},
        "DefinitionArn": {"Value": {"Ref": "Definition"}},
    },
}


def create_stack(aws_client, name: str, template: dict) -> dict:
    cloudformation = aws_client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return cloudformation.describe_stacks(StackName=name)["Stacks"][0]


def test_stack_resources_are_batch_resources(aws_client, batch_client, wait_for_job):
    stack = create_stack(aws_client, "pipeline", STACK)
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}

    [environment] = batch_client.describe_compute_environments(computeEnvironments=["stack-ce"])[
        "computeEnvironments"
    ]
    assert environment["computeResources"]["minvCpus"] == 0
    assert environment["tags"] == {"Team": "Genomics"}
    [queue] = batch_client.describe_job_queues(jobQueues=[outputs["QueueArn"]])["jobQueues"]
    assert queue["jobQueueName"].startswith("pipeline-Queue-")
    assert queue["computeEnvironmentOrder"] == [
        {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
    ]
    [policy] = batch_client.describe_scheduling_policies(arns=[queue["schedulingPolicyArn"]])[
        "schedulingPolicies"
    ]
    assert policy["fairsharePolicy"]["shareDecaySeconds"] == 3600
    [definition] = batch_client.describe_job_definitions(jobDefinitions=[outputs["DefinitionArn"]])[
        "jobDefinitions"
    ]
    container = definition["containerProperties"]
    assert container["resourceRequirements"] == [
        {"type": "VCPU", "value": "1"},
        {"type": "MEMORY", "value": "128"},
    ]
    assert container["linuxParameters"]["devices"] == [{"hostPath": "/dev/null"}]
    assert definition["parameters"] == {"Greeting": "hello"}

    job_id = batch_client.submit_job(
        jobName="from-stack",
        jobQueue=outputs["QueueArn"],
        jobDefinition=outputs["DefinitionArn"],
        shareIdentifier="A",
    )["jobId"]
    assert wait_for_job(job_id, "SUCCEEDED")["container"]["command"] == ["echo", "hello"]


def test_stack_resources_are_listed_by_the_stack_with_their_arns(aws_client, batch_client):
    create_stack(aws_client, "listed", STACK)
    summaries = aws_client("cloudformation").list_stack_resources(StackName="listed")[
        "StackResourceSummaries"
    ]
    physical = {summary["LogicalResourceId"]: summary["PhysicalResourceId"] for summary in summaries}

    [environment] = batch_client.describe_compute_environments(computeEnvironments=["stack-ce"])[
        "computeEnvironments"
    ]
    assert physical["Environment"] == environment["computeEnvironmentArn"]
    assert physical["Definition"].endswith(":1")
    assert ":job-definition/listed-Definition-" in physical["Definition"]


def test_a_resource_batch_refuses_fails_the_stack_with_batchs_reason(aws_client, batch_client):
    template = {
        "Resources": {
            "Environment": {
                "Type": "AWS::Batch::ComputeEnvironment",
                "Properties": {
                    "Type": "MANAGED",
                    "ComputeResources": {"Type": "EC2", "MaxvCpus": 4, "Subnets": ["subnet-1"]},
                },
            }
        }
    }
    with pytest.raises(ClientError) as refused:
        aws_client("cloudformation").create_stack(StackName="broken", TemplateBody=json.dumps(template))

    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "Instance role is required." in refused.value.response["Error"]["Message"]
    assert batch_client.describe_compute_environments()["computeEnvironments"] == []
