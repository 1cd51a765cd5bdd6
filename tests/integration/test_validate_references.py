"""--validate-references: compute environments and job definitions name roles, instance profiles,
subnets and security groups that must exist in the account (moto's IAM and EC2 on the same
endpoint). A compute environment with a missing one settles INVALID with AWS's CLIENT_ERROR
reason; a job definition with a missing role is refused. Off by default."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from kit import eventually

from emulator.__main__ import parse_args, settings_from
from emulator.config import Settings
from emulator.testing import Emulator, running_emulator

ACCOUNT = "123456789012"
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "batch.amazonaws.com"}}]})


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated", validate_references=True, transition_seconds=0.05) as running:
        yield running


@pytest.fixture
def account(emulator: Emulator) -> dict[str, str]:
    """A fresh account holding a service role, an instance profile, a subnet and a security group."""
    emulator.reset()
    iam, ec2 = emulator.client("iam"), emulator.client("ec2")
    service_role = iam.create_role(RoleName="batch-service", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.create_role(RoleName="ecsInstanceRole", AssumeRolePolicyDocument=TRUST)
    profile = iam.create_instance_profile(InstanceProfileName="ecsInstanceRole")["InstanceProfile"]["Arn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
    yield {"serviceRole": service_role, "instanceRole": profile, "subnet": subnet, "securityGroup": group}
    emulator.reset()


def create_managed(batch, name: str, account: dict[str, str], **changes) -> None:
    resources = {
        "type": "EC2",
        "minvCpus": 0,
        "maxvCpus": 4,
        "instanceTypes": ["optimal"],
        "instanceRole": account["instanceRole"],
        "subnets": [account["subnet"]],
        "securityGroupIds": [account["securityGroup"]],
    }
    service_role = changes.pop("serviceRole", account["serviceRole"])
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        serviceRole=service_role,
        computeResources={**resources, **changes},
    )


def settled(batch, name: str) -> dict:
    def describe() -> dict | None:
        (environment,) = batch.describe_compute_environments(computeEnvironments=[name])[
            "computeEnvironments"
        ]
        return environment if environment["status"] in ("VALID", "INVALID") else None

    return eventually(describe, timeout_seconds=10, what=f"{name} to settle")


def test_a_compute_environment_whose_references_exist_is_valid(emulator, account):
    batch = emulator.client("batch")
    create_managed(batch, "ok", account)

    environment = settled(batch, "ok")
    assert (environment["status"], environment["statusReason"]) == ("VALID", "ComputeEnvironment Healthy")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"instanceRole": "missingProfile"},
            f"CLIENT_ERROR - Instance profile arn:aws:iam::{ACCOUNT}:instance-profile/missingProfile does not exist",
        ),
        (
            {"serviceRole": f"arn:aws:iam::{ACCOUNT}:role/no-such-role"},
            "CLIENT_ERROR - Not authorized to perform sts:AssumeRole (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; Request ID: ",
        ),
        (
            {"subnets": ["subnet-0123456789abcdef0"]},
            "CLIENT_ERROR - The subnet ID 'subnet-0123456789abcdef0' does not exist (Service: AmazonEC2; "
            "Status Code: 400; Error Code: InvalidSubnetID.NotFound; Request ID: ",
        ),
        (
            {"securityGroupIds": ["sg-0123456789abcdef0"]},
            "CLIENT_ERROR - The security group 'sg-0123456789abcdef0' does not exist (Service: AmazonEC2; "
            "Status Code: 400; Error Code: InvalidGroup.NotFound; Request ID: ",
        ),
    ],
    ids=["instance-profile", "service-role", "subnet", "security-group"],
)
def test_a_missing_reference_makes_the_compute_environment_invalid(emulator, account, change, reason):
    batch = emulator.client("batch")
    create_managed(batch, "broken", account, **change)

    environment = settled(batch, "broken")
    assert environment["status"] == "INVALID"
    assert environment["statusReason"].startswith(reason)
    with pytest.raises(ClientError):  # an INVALID compute environment takes no queue
        batch.create_job_queue(
            jobQueueName="q",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "broken"}],
        )


def test_an_update_that_repairs_the_references_makes_it_valid_again(emulator, account):
    batch = emulator.client("batch")
    create_managed(batch, "repaired", account, subnets=["subnet-0123456789abcdef0"])
    assert settled(batch, "repaired")["status"] == "INVALID"

    batch.update_compute_environment(
        computeEnvironment="repaired", computeResources={"subnets": [account["subnet"]]}
    )

    assert settled(batch, "repaired")["status"] == "VALID"


def test_a_job_definition_naming_a_missing_role_is_refused(emulator, account):
    batch = emulator.client("batch")
    missing = f"arn:aws:iam::{ACCOUNT}:role/no-such-job-role"
    container = {
        "image": "busybox",
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
    }

    with pytest.raises(ClientError) as caught:
        batch.register_job_definition(
            jobDefinitionName="jd", type="container", containerProperties={**container, "jobRoleArn": missing}
        )

    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ClientException",
        f"Role is not valid: jobRoleArn {missing}",
    )
    registered = batch.register_job_definition(
        jobDefinitionName="jd",
        type="container",
        containerProperties={**container, "jobRoleArn": account["serviceRole"]},
    )
    assert registered["revision"] == 1


def test_an_ecs_task_execution_role_is_checked_too(emulator, account):
    batch = emulator.client("batch")
    missing = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
    task = {
        "executionRoleArn": missing,
        "containers": [{"name": "app", "image": "busybox", "essential": True}],
    }

    with pytest.raises(ClientError, match=f"Role is not valid: executionRoleArn {missing}"):
        batch.register_job_definition(
            jobDefinitionName="task", type="container", ecsProperties={"taskProperties": [task]}
        )


def test_references_are_not_checked_by_default(batch_client):
    batch_client.create_compute_environment(
        computeEnvironmentName="made-up",
        type="MANAGED",
        serviceRole="arn:aws:iam::123456789012:role/made-up",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 4,
            "instanceTypes": ["optimal"],
            "instanceRole": "made-up",
            "subnets": ["subnet-made-up"],
            "securityGroupIds": ["sg-made-up"],
        },
    )

    assert settled(batch_client, "made-up")["status"] == "VALID"


def test_the_flag_and_the_variable_turn_it_on():
    assert settings_from(parse_args(["--validate-references"])).validate_references is True
    assert Settings.from_environment({"EMULATOR_VALIDATE_REFERENCES": "true"}).validate_references is True
    assert Settings().validate_references is False


def test_the_bootstrap_environment_is_valid_with_the_checks_on():
    """--bootstrap's placeholder subnet, security group and instance role are not checked."""
    with running_emulator(executor="simulated", validate_references=True, bootstrap=True) as emulator:
        assert settled(emulator.client("batch"), "default")["status"] == "VALID"
