"""One endpoint for the whole account: every service moto implements answers on the emulator's
own endpoint, beside our Batch and Logs, with one rule for the account and one reset."""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kit import serving

from emulator.config import Settings
from emulator.testing.server import ServerThread

ACCOUNT_KEY = "111122223333"


def test_s3_bucket_and_object_round_trip(aws_client):
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="results")
    s3.put_object(Bucket="results", Key="runs/ü 1.txt", Body=b"42\n")

    assert s3.get_object(Bucket="results", Key="runs/ü 1.txt")["Body"].read() == b"42\n"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="results")["Contents"]] == ["runs/ü 1.txt"]


def test_sts_names_the_settings_account_for_ordinary_credentials(aws_client, batch_emulator):
    identity = aws_client("sts").get_caller_identity()
    assert identity["Account"] == batch_emulator.settings.account_id == "123456789012"


def test_iam_role_can_be_created_and_read_back(aws_client):
    iam = aws_client("iam")
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "batch.amazonaws.com"}}]}
    created = iam.create_role(RoleName="batch-service", AssumeRolePolicyDocument=json.dumps(policy))

    assert created["Role"]["Arn"] == "arn:aws:iam::123456789012:role/batch-service"
    assert iam.get_role(RoleName="batch-service")["Role"]["RoleName"] == "batch-service"


def test_ec2_default_subnets_and_a_new_security_group(aws_client):
    ec2 = aws_client("ec2")
    subnets = ec2.describe_subnets()["Subnets"]
    group_id = ec2.create_security_group(GroupName="jobs", Description="batch jobs")["GroupId"]

    assert subnets and all(subnet["SubnetId"].startswith("subnet-") for subnet in subnets)
    described = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert [group["GroupName"] for group in described] == ["jobs"]


def test_sqs_message_round_trip(aws_client):
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName="job-events")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello")

    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)["Messages"]
    assert [message["Body"] for message in messages] == ["hello"]


def test_unsigned_request_in_motos_conventions_reaches_moto(batch_emulator, aws_client):
    """An unsigned STS AssumeRoleWithWebIdentity (form body, no Authorization): moto's server
    recognises it by its action, and so does this endpoint."""
    role_arn = aws_client("iam").create_role(RoleName="web", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    form = urllib.parse.urlencode(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": "s",
            "WebIdentityToken": "token",
        }
    ).encode()
    request = urllib.request.Request(
        batch_emulator.url + "/", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()

    assert response.status == 200
    assert "<AssumeRoleWithWebIdentityResponse" in body
    assert "assumed-role/web/s" in body


def test_unsigned_batch_and_logs_requests_are_still_ours(batch_emulator):
    batch = urllib.request.Request(batch_emulator.url + "/v1/describejobqueues", data=b"{}")
    logs = urllib.request.Request(
        batch_emulator.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    with urllib.request.urlopen(batch, timeout=30) as answer:
        assert json.loads(answer.read()) == {"jobQueues": []}
    with urllib.request.urlopen(logs, timeout=30) as answer:
        assert json.loads(answer.read()) == {"logGroups": []}


def test_service_that_nobody_serves_is_refused_in_its_own_xml(batch_emulator):
    """CloudSearch's configuration API speaks the query protocol and moto does not implement it:
    the refusal must be XML botocore can parse, and name the service."""
    cloudsearch = batch_emulator.client("cloudsearch")
    with pytest.raises(ClientError) as caught:
        cloudsearch.describe_domains()

    error = caught.value.response
    assert error["Error"]["Code"] == "UnknownServiceException"
    assert "'cloudsearch'" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/xml"


def test_service_that_nobody_serves_is_refused_in_its_own_json(batch_emulator):
    pricing = batch_emulator.client("pricing")
    with pytest.raises(ClientError) as caught:
        pricing.describe_services()

    error = caught.value.response
    assert error["Error"]["Code"] == "UnknownServiceException"
    assert "'pricing'" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPHeaders"]["content-type"].startswith("application/x-amz-json-1.")


def test_operation_moto_lacks_is_a_client_error_not_a_500(aws_client):
    with pytest.raises(ClientError) as caught:
        aws_client("sts").decode_authorization_message(EncodedMessage="x")

    error = caught.value.response
    assert error["Error"]["Code"] == "UnknownOperationException"
    assert "decode_authorization_message" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_moto_api_reset_forgets_moto_and_batch_resources(batch_emulator, aws_client, batch_client):
    aws_client("s3").create_bucket(Bucket="before-reset")
    batch_client.create_compute_environment(computeEnvironmentName="before-reset", type="UNMANAGED")

    reset = urllib.request.Request(batch_emulator.url + "/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=30) as answer:
        assert json.loads(answer.read()) == {"status": "ok"}

    assert aws_client("s3").list_buckets()["Buckets"] == []
    assert batch_client.describe_compute_environments()["computeEnvironments"] == []


def test_emulator_reset_forgets_moto_resources(batch_emulator, aws_client):
    aws_client("sqs").create_queue(QueueName="before-reset")
    batch_emulator.controls.reset()
    assert aws_client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_twelve_digit_access_key_names_the_account_on_both_sides(aws_client):
    """The same rule on both sides: an ARN made by moto and one made by our Batch name the
    account of the credentials that made them."""
    credentials = {"aws_access_key_id": ACCOUNT_KEY, "aws_secret_access_key": "x"}
    queue_url = aws_client("sqs", **credentials).create_queue(QueueName="q")["QueueUrl"]
    queue_arn = aws_client("sqs", **credentials).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    role_arn = aws_client("iam", **credentials).create_role(RoleName="r", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    environment_arn = aws_client("batch", **credentials).create_compute_environment(
        computeEnvironmentName="ce", type="UNMANAGED"
    )["computeEnvironmentArn"]

    assert aws_client("sts", **credentials).get_caller_identity()["Account"] == ACCOUNT_KEY
    assert queue_arn == f"arn:aws:sqs:us-east-1:{ACCOUNT_KEY}:q"
    assert role_arn == f"arn:aws:iam::{ACCOUNT_KEY}:role/r"
    assert environment_arn == f"arn:aws:batch:us-east-1:{ACCOUNT_KEY}:compute-environment/ce"
    # Another account sees none of it.
    assert aws_client("sqs").list_queues().get("QueueUrls", []) == []


def test_batch_emulator_env_points_every_service_at_the_endpoint(batch_emulator_env):
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="from-env")
    assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["from-env"]


def test_a_job_calls_s3_on_the_endpoint_it_is_given(aws_client, batch_client, wait_for_job):
    """Jobs get the endpoint as AWS_ENDPOINT_URL, so their own boto3 reaches moto's S3 here."""
    aws_client("s3").create_bucket(Bucket="job-output")
    upload = "import boto3; boto3.client('s3').put_object(Bucket='job-output', Key='out.txt', Body=b'from the job')"
    batch_client.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
    batch_client.create_job_queue(
        jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
    )
    batch_client.register_job_definition(
        jobDefinitionName="upload",
        type="container",
        containerProperties={
            "image": "python",
            "command": [sys.executable, "-c", upload],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )
    job_id = batch_client.submit_job(jobName="upload", jobQueue="q", jobDefinition="upload")["jobId"]
    wait_for_job(job_id, "SUCCEEDED", timeout_seconds=60)

    body = aws_client("s3").get_object(Bucket="job-output", Key="out.txt")["Body"].read()
    assert body == b"from the job"


def test_cloudformation_batch_resources_are_in_our_batch(aws_client, batch_client):
    """CloudFormation is moto's, but the AWS::Batch::* resources it creates are ours, as a stack's
    resources are ordinary Batch resources on AWS (more in test_stack_resources.py)."""
    ec2 = aws_client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    role = aws_client("iam").create_role(RoleName="cfn-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = {
        "Resources": {
            "Environment": {
                "Type": "AWS::Batch::ComputeEnvironment",
                "Properties": {
                    "Type": "MANAGED",
                    "ComputeEnvironmentName": "from-cfn",
                    "ServiceRole": role,
                    "ComputeResources": {
                        "Type": "FARGATE",
                        "MaxvCpus": 4,
                        "Subnets": [subnet],
                        "SecurityGroupIds": [group],
                    },
                },
            }
        }
    }
    cloudformation = aws_client("cloudformation")
    cloudformation.create_stack(StackName="batch", TemplateBody=json.dumps(template))

    assert cloudformation.describe_stacks(StackName="batch")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    [environment] = batch_client.describe_compute_environments()["computeEnvironments"]
    assert environment["computeEnvironmentName"] == "from-cfn"
    assert environment["serviceRole"] == role
    assert environment["computeResources"]["subnets"] == [subnet]


# -- the default account comes from the settings ---------------------------------------------------


@pytest.fixture(scope="module")
def other_account_server() -> Iterator[ServerThread]:
    with serving(Settings(executor="simulated", account_id="210987654321")) as thread:
        yield thread


def test_default_account_is_the_settings_account_on_both_sides(other_account_server):
    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=other_account_server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )

    topic_arn = client("sns").create_topic(Name="events")["TopicArn"]
    environment_arn = client("batch").create_compute_environment(
        computeEnvironmentName="ce", type="UNMANAGED"
    )["computeEnvironmentArn"]

    assert client("sts").get_caller_identity()["Account"] == "210987654321"
    assert topic_arn == "arn:aws:sns:us-east-1:210987654321:events"
    assert environment_arn.startswith("arn:aws:batch:us-east-1:210987654321:")
