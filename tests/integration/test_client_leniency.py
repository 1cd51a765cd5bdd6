"""What widely used clients send that the model forbids and AWS accepts, through real boto3 against
the plugin's server with the process executor: empty tags maps (Airflow, Snakemake) and lower-case
retry actions (Terraform), which are kept as sent and still decide retries.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from kit import create_queue

QUEUE = "lenient-q"
CE = "lenient-ce"
SUCCEED_ON_SECOND_ATTEMPT = ["sh", "-c", 'test "$AWS_BATCH_JOB_ATTEMPT" = 2']


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, QUEUE, CE)


def test_submit_with_empty_tags_runs_the_job(batch_client, define, submit, wait_for_job):
    """Airflow's BatchOperator sends `tags: {}` on every SubmitJob when the user gives none."""
    job_id = submit(define("no-tags", ["true"]), tags={})
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert detail["tags"] == {}
    assert batch_client.list_tags_for_resource(resourceArn=detail["jobArn"])["tags"] == {}


def test_resources_created_with_empty_tags_have_none(batch_client):
    """Snakemake's plugin registers definitions with `tags: {}`; Airflow creates compute
    environments the same way."""
    environment = batch_client.create_compute_environment(
        computeEnvironmentName="tagless-ce", type="UNMANAGED", tags={}
    )["computeEnvironmentArn"]
    queue = batch_client.create_job_queue(
        jobQueueName="tagless-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        tags={},
    )["jobQueueArn"]
    policy = batch_client.create_scheduling_policy(name="tagless-policy", tags={})["arn"]
    definition = batch_client.register_job_definition(
        jobDefinitionName="tagless-jd",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"]},
        tags={},
    )["jobDefinitionArn"]
    for arn in (environment, queue, policy, definition):
        assert batch_client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_fifty_one_tags_are_still_refused(batch_client, define, queue):
    with pytest.raises(ClientError) as caught:
        batch_client.submit_job(
            jobName="many-tags",
            jobQueue=queue,
            jobDefinition=define("many-tags", ["true"]),
            tags={f"k{i}": "v" for i in range(51)},
        )
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert "Member must have length less than or equal to 50" in caught.value.response["Error"]["Message"]


def test_lower_case_exit_action_of_the_definition_stops_retries(batch_client, define, submit, wait_for_job):
    """The Terraform AWS provider always sends the action in lower case: it is kept as sent and
    matched case-insensitively."""
    strategy = {
        "attempts": 5,
        "evaluateOnExit": [{"action": "exit", "onExitCode": "7"}, {"action": "retry", "onExitCode": "*"}],
    }
    definition = define("tf-retry", ["sh", "-c", "exit 7"], retryStrategy=strategy)
    [registered] = batch_client.describe_job_definitions(jobDefinitionName=definition)["jobDefinitions"]
    assert [rule["action"] for rule in registered["retryStrategy"]["evaluateOnExit"]] == ["exit", "retry"]

    detail = wait_for_job(submit(definition), "FAILED")
    assert [attempt["container"]["exitCode"] for attempt in detail["attempts"]] == [7]
    assert [rule["action"] for rule in detail["retryStrategy"]["evaluateOnExit"]] == ["exit", "retry"]


def test_mixed_case_retry_action_at_submit_retries(define, submit, wait_for_job):
    job_id = submit(
        define("mixed-retry", SUCCEED_ON_SECOND_ATTEMPT),
        retryStrategy={"attempts": 3, "evaluateOnExit": [{"action": "Retry", "onExitCode": "1"}]},
    )
    detail = wait_for_job(job_id, "SUCCEEDED")
    assert [attempt["container"]["exitCode"] for attempt in detail["attempts"]] == [1, 0]
    assert detail["retryStrategy"]["evaluateOnExit"] == [{"action": "Retry", "onExitCode": "1"}]


def test_compute_environment_written_in_lower_case_is_described_in_upper_case(batch_client):
    """The AWS CDK sends `type: managed` and the Terraform provider sends what its user wrote; AWS
    answers in the model's spelling, which is what the provider compares its state with."""
    batch_client.create_compute_environment(
        computeEnvironmentName="lower-ce",
        type="managed",
        state="enabled",
        computeResources={
            "type": "ec2",
            "allocationStrategy": "Best_Fit_Progressive",
            "minvCpus": 0,
            "maxvCpus": 4,
            "instanceTypes": ["optimal"],
            "instanceRole": "ecsInstanceRole",
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
        },
    )
    batch_client.update_compute_environment(computeEnvironment="lower-ce", state="disabled")
    [environment] = batch_client.describe_compute_environments(computeEnvironments=["lower-ce"])[
        "computeEnvironments"
    ]
    assert (environment["type"], environment["state"]) == ("MANAGED", "DISABLED")
    resources = environment["computeResources"]
    assert (resources["type"], resources["allocationStrategy"]) == ("EC2", "BEST_FIT_PROGRESSIVE")
