"""Resources the fuzz emulator starts with, and one valid request per operation that uses them.

Values generated from the shapes alone name resources that do not exist and break the cross-member
rules the providers enforce, so they rarely get past a lookup. Starting some examples from these
templates (still mutated) takes the fuzzer into the code behind the lookups: state changes,
lifecycles, conflicts, pagination. Operations the Logs provider does not implement have none.
"""

from __future__ import annotations

import time
from typing import Any

from emulator.testing import Emulator

ACCOUNT = "123456789012"
CE_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/fuzz-ce"
QUEUE_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/fuzz-queue"
DEFINITION_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/fuzz-def:1"
GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/fuzz/group"
COMPUTE_RESOURCES = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 16,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-1"],
    "securityGroupIds": ["sg-1"],
    "instanceRole": "ecsInstanceRole",
}
CONTAINER = {
    "image": "busybox",
    "command": ["echo", "fuzz"],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
}
CAPACITY = [{"maxCapacity": 4, "capacityUnit": "NUM_INSTANCES"}]


def seed_state(emulator: Emulator) -> dict[str, str]:
    """Create the resources the templates name; returns the names and ids worth reusing."""
    batch = emulator.client("batch")
    logs = emulator.client("logs")
    batch.create_compute_environment(
        computeEnvironmentName="fuzz-ce", type="MANAGED", computeResources=COMPUTE_RESOURCES
    )
    batch.create_job_queue(
        jobQueueName="fuzz-queue",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "fuzz-ce"}],
    )
    batch.register_job_definition(
        jobDefinitionName="fuzz-def", type="container", containerProperties=CONTAINER
    )
    job = batch.submit_job(jobName="fuzz-job", jobQueue="fuzz-queue", jobDefinition="fuzz-def")
    batch.create_scheduling_policy(name="fuzz-policy")
    batch.create_consumable_resource(consumableResourceName="fuzz-licenses", totalQuantity=4)
    batch.create_service_environment(
        serviceEnvironmentName="fuzz-se", serviceEnvironmentType="SAGEMAKER_TRAINING", capacityLimits=CAPACITY
    )
    share_policy = batch.create_scheduling_policy(
        name="fuzz-share-policy", quotaSharePolicy={"idleResourceAssignmentStrategy": "FIFO"}
    )["arn"]
    batch.create_job_queue(
        jobQueueName="fuzz-sq",
        priority=1,
        schedulingPolicyArn=share_policy,
        serviceEnvironmentOrder=[{"order": 1, "serviceEnvironment": "fuzz-se"}],
        jobQueueType="SAGEMAKER_TRAINING",
    )
    share = batch.create_quota_share(
        quotaShareName="fuzz-share",
        jobQueue="fuzz-sq",
        capacityLimits=[{"maxCapacity": 2, "capacityUnit": "ml.m5.large"}],
        resourceSharingConfiguration={"strategy": "RESERVE"},
        preemptionConfiguration={"inSharePreemption": "DISABLED"},
    )["quotaShareArn"]
    service_job = batch.submit_service_job(
        jobName="fuzz-train",
        jobQueue="fuzz-sq",
        serviceRequestPayload="{}",
        serviceJobType="SAGEMAKER_TRAINING",
        quotaShareName="fuzz-share",
    )
    logs.create_log_group(logGroupName="/fuzz/group")
    logs.create_log_stream(logGroupName="/fuzz/group", logStreamName="stream")
    logs.put_log_events(
        logGroupName="/fuzz/group",
        logStreamName="stream",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}],
    )
    return {
        "job_id": job["jobId"],
        "job_arn": job["jobArn"],
        "share_arn": share,
        "service_job_id": service_job["jobId"],
    }


def known_values(ids: dict[str, str]) -> tuple[str, ...]:
    return (
        "fuzz-ce",
        CE_ARN,
        "fuzz-queue",
        QUEUE_ARN,
        "fuzz-def",
        "fuzz-def:1",
        DEFINITION_ARN,
        "fuzz-policy",
        "fuzz-licenses",
        "fuzz-se",
        "fuzz-sq",
        "fuzz-share",
        "/fuzz/group",
        "stream",
        GROUP_ARN,
        *ids.values(),
    )


def templates(ids: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Valid requests by operation name. The names both models use (TagResource, UntagResource,
    ListTagsForResource) take the same members in both, so one entry serves either."""
    job_id, share, service_job = ids["job_id"], ids["share_arn"], ids["service_job_id"]
    now_ms = int(time.time() * 1000)
    order = [{"order": 1, "computeEnvironment": "fuzz-ce"}]
    return {
        # Batch
        "CreateComputeEnvironment": [
            {"computeEnvironmentName": "fz-ce2", "type": "MANAGED", "computeResources": COMPUTE_RESOURCES},
            {"computeEnvironmentName": "fz-ce3", "type": "UNMANAGED", "unmanagedvCpus": 4},
        ],
        "UpdateComputeEnvironment": [
            {"computeEnvironment": "fuzz-ce", "state": "ENABLED"},
            {"computeEnvironment": "fz-ce3", "state": "DISABLED"},
        ],
        "DeleteComputeEnvironment": [{"computeEnvironment": "fz-ce3"}],
        "DescribeComputeEnvironments": [{"computeEnvironments": ["fuzz-ce", CE_ARN], "maxResults": 1}],
        "CreateJobQueue": [{"jobQueueName": "fz-q2", "priority": 5, "computeEnvironmentOrder": order}],
        "UpdateJobQueue": [
            {"jobQueue": "fuzz-queue", "priority": 2, "state": "ENABLED"},
            {"jobQueue": "fz-q2", "state": "DISABLED"},
        ],
        "DeleteJobQueue": [{"jobQueue": "fz-q2"}],
        "DescribeJobQueues": [{"jobQueues": ["fuzz-queue"], "maxResults": 2}],
        "GetJobQueueSnapshot": [{"jobQueue": "fuzz-queue"}],
        "RegisterJobDefinition": [
            {"jobDefinitionName": "fuzz-def", "type": "container", "containerProperties": CONTAINER},
            {
                "jobDefinitionName": "fz-def2",
                "type": "container",
                "containerProperties": {**CONTAINER, "environment": [{"name": "A", "value": "b"}]},
                "retryStrategy": {"attempts": 2, "evaluateOnExit": [{"onExitCode": "1", "action": "RETRY"}]},
                "timeout": {"attemptDurationSeconds": 60},
                "parameters": {"p": "v"},
                "tags": {"k": "v"},
            },
        ],
        "DeregisterJobDefinition": [{"jobDefinition": "fz-def2:1"}],
        "DescribeJobDefinitions": [{"jobDefinitionName": "fuzz-def", "status": "ACTIVE", "maxResults": 1}],
        "SubmitJob": [
            {"jobName": "fz-job", "jobQueue": "fuzz-queue", "jobDefinition": "fuzz-def"},
            {
                "jobName": "fz-array",
                "jobQueue": QUEUE_ARN,
                "jobDefinition": DEFINITION_ARN,
                "arrayProperties": {"size": 3},
                "dependsOn": [{"jobId": job_id}],
                "parameters": {"p": "x"},
                "containerOverrides": {
                    "command": ["echo", "Ref::p"],
                    "environment": [{"name": "X", "value": "1"}],
                },
                "retryStrategy": {"attempts": 2},
                "timeout": {"attemptDurationSeconds": 60},
                "tags": {"t": "1"},
            },
        ],
        "DescribeJobs": [{"jobs": [job_id]}],
        "ListJobs": [
            {"jobQueue": "fuzz-queue", "jobStatus": "SUCCEEDED", "maxResults": 1},
            {"jobQueue": "fuzz-queue", "filters": [{"name": "JOB_NAME", "values": ["fuzz*"]}]},
            {"arrayJobId": job_id},
        ],
        "CancelJob": [{"jobId": job_id, "reason": "fuzz"}],
        "TerminateJob": [{"jobId": job_id, "reason": "fuzz"}],
        "CreateSchedulingPolicy": [
            {
                "name": "fz-policy2",
                "fairsharePolicy": {"shareDistribution": [{"shareIdentifier": "A", "weightFactor": 0.5}]},
            }
        ],
        "UpdateSchedulingPolicy": [
            {"arn": f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/fuzz-policy"}
        ],
        "DeleteSchedulingPolicy": [
            {"arn": f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/fz-policy2"}
        ],
        "DescribeSchedulingPolicies": [
            {"arns": [f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/fuzz-policy"]}
        ],
        "ListSchedulingPolicies": [{"maxResults": 1}],
        "CreateConsumableResource": [{"consumableResourceName": "fz-lic2", "totalQuantity": 2}],
        "UpdateConsumableResource": [
            {"consumableResource": "fuzz-licenses", "operation": "ADD", "quantity": 1}
        ],
        "DeleteConsumableResource": [{"consumableResource": "fz-lic2"}],
        "DescribeConsumableResource": [{"consumableResource": "fuzz-licenses"}],
        "ListConsumableResources": [{"maxResults": 1}],
        "ListJobsByConsumableResource": [{"consumableResource": "fuzz-licenses"}],
        "CreateServiceEnvironment": [
            {
                "serviceEnvironmentName": "fz-se2",
                "serviceEnvironmentType": "SAGEMAKER_TRAINING",
                "capacityLimits": CAPACITY,
            }
        ],
        "UpdateServiceEnvironment": [{"serviceEnvironment": "fuzz-se", "capacityLimits": CAPACITY}],
        "DeleteServiceEnvironment": [{"serviceEnvironment": "fz-se2"}],
        "DescribeServiceEnvironments": [{"serviceEnvironments": ["fuzz-se"]}],
        "CreateQuotaShare": [
            {
                "quotaShareName": "fz-share2",
                "jobQueue": "fuzz-sq",
                "capacityLimits": [{"maxCapacity": 1, "capacityUnit": "ml.m5.large"}],
                "resourceSharingConfiguration": {"strategy": "RESERVE"},
                "preemptionConfiguration": {"inSharePreemption": "DISABLED"},
            }
        ],
        "UpdateQuotaShare": [{"quotaShareArn": share, "state": "ENABLED"}],
        "DeleteQuotaShare": [{"quotaShareArn": share}],
        "DescribeQuotaShare": [{"quotaShareArn": share}],
        "ListQuotaShares": [{"jobQueue": "fuzz-sq"}],
        "SubmitServiceJob": [
            {
                "jobName": "fz-train",
                "jobQueue": "fuzz-sq",
                "serviceRequestPayload": "{}",
                "serviceJobType": "SAGEMAKER_TRAINING",
                "quotaShareName": "fuzz-share",
            }
        ],
        "DescribeServiceJob": [{"jobId": service_job}],
        "ListServiceJobs": [{"jobQueue": "fuzz-sq", "jobStatus": "SUBMITTED"}],
        "UpdateServiceJob": [{"jobId": service_job, "schedulingPriority": 3}],
        "TerminateServiceJob": [{"jobId": service_job, "reason": "fuzz"}],
        "TagResource": [
            {"resourceArn": CE_ARN, "tags": {"a": "1"}},
            {"resourceArn": GROUP_ARN, "tags": {"a": "1"}},
        ],
        "UntagResource": [
            {"resourceArn": CE_ARN, "tagKeys": ["a"]},
            {"resourceArn": GROUP_ARN, "tagKeys": ["a"]},
        ],
        "ListTagsForResource": [{"resourceArn": QUEUE_ARN}, {"resourceArn": GROUP_ARN}],
        # Logs
        "CreateLogGroup": [{"logGroupName": "/fuzz/other", "tags": {"a": "b"}}],
        "CreateLogStream": [{"logGroupName": "/fuzz/group", "logStreamName": "other"}],
        "DeleteLogGroup": [{"logGroupName": "/fuzz/other"}],
        "DeleteLogStream": [{"logGroupName": "/fuzz/group", "logStreamName": "other"}],
        "PutRetentionPolicy": [{"logGroupName": "/fuzz/group", "retentionInDays": 7}],
        "DeleteRetentionPolicy": [{"logGroupName": "/fuzz/group"}],
        "DescribeLogGroups": [{"logGroupNamePrefix": "/fuzz", "limit": 1}, {"logGroupNamePattern": "fuzz"}],
        "DescribeLogStreams": [
            {"logGroupName": "/fuzz/group", "orderBy": "LastEventTime", "descending": True, "limit": 1},
            {"logGroupIdentifier": GROUP_ARN, "logStreamNamePrefix": "s"},
        ],
        "PutLogEvents": [
            {
                "logGroupName": "/fuzz/group",
                "logStreamName": "stream",
                "logEvents": [
                    {"timestamp": now_ms, "message": "m1"},
                    {"timestamp": now_ms + 1, "message": "m2"},
                ],
            }
        ],
        "GetLogEvents": [
            {"logGroupName": "/fuzz/group", "logStreamName": "stream", "startFromHead": True, "limit": 1},
            {"logGroupIdentifier": GROUP_ARN, "logStreamName": "stream", "nextToken": "f/0"},
        ],
        "FilterLogEvents": [
            {"logGroupName": "/fuzz/group", "filterPattern": "hello", "limit": 1},
            {"logGroupIdentifier": GROUP_ARN, "logStreamNamePrefix": "s", "filterPattern": '{ $.a = "b" }'},
        ],
        "TagLogGroup": [{"logGroupName": "/fuzz/group", "tags": {"a": "1"}}],
        "UntagLogGroup": [{"logGroupName": "/fuzz/group", "tags": ["a"]}],
        "ListTagsLogGroup": [{"logGroupName": "/fuzz/group"}],
    }


# The operations that have templates (the ids only fill values in, so blanks do).
TEMPLATED_OPERATIONS = frozenset(
    templates(dict.fromkeys(("job_id", "job_arn", "share_arn", "service_job_id"), ""))
)
