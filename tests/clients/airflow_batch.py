"""Run Airflow's own AWS Batch operators against the emulator named by AIRFLOW_CONN_AWS_DEFAULT.

Run by test_airflow.py in a child interpreter, so that Airflow's process-wide set-up (settings,
logging, AIRFLOW_HOME) stays out of the test session. No metadata database is needed: the
connection comes from the environment and the operators are executed directly, as a worker would,
with no task instance in the context. Prints one JSON line: the ids it created.
"""

from __future__ import annotations

import json
from datetime import timedelta

from airflow.providers.amazon.aws.hooks.batch_client import BatchClientHook
from airflow.providers.amazon.aws.hooks.batch_waiters import BatchWaitersHook
from airflow.providers.amazon.aws.operators.batch import (
    BatchCreateComputeEnvironmentOperator,
    BatchOperator,
)

# The hook's documented knobs for its random pauses between status checks (1-10 s by default).
BatchClientHook.DEFAULT_DELAY_MIN = 0
BatchClientHook.DEFAULT_DELAY_MAX = 0

COMPUTE_RESOURCES = {
    "type": "EC2",
    "minvCpus": 0,
    "maxvCpus": 4,
    "instanceTypes": ["optimal"],
    "instanceRole": "ecsInstanceRole",
    "subnets": ["subnet-12345678"],
    "securityGroupIds": ["sg-12345678"],
}


def main() -> None:
    # No tags given: the operator sends `tags: {}`.
    environment_arn = BatchCreateComputeEnvironmentOperator(
        task_id="create_environment",
        compute_environment_name="airflow-ce",
        environment_type="MANAGED",
        state="ENABLED",
        compute_resources=COMPUTE_RESOURCES,
    ).execute({})

    client = BatchClientHook().client
    client.create_job_queue(
        jobQueueName="airflow-q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment_arn}],
    )
    client.register_job_definition(
        jobDefinitionName="airflow-jd",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["sh", "-c", "echo hello from an airflow task"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )

    # No tags given again (`tags: {}` on SubmitJob); wait for the end and forward the job's log.
    job_id = BatchOperator(
        task_id="run_job",
        job_name="airflow-job",
        job_queue="airflow-q",
        job_definition="airflow-jd",
        awslogs_enabled=True,
        awslogs_fetch_interval=timedelta(seconds=0.2),
    ).execute({})

    # The same through BatchWaitersHook's botocore waiters (JobExists, JobRunning, JobComplete),
    # with their delays cut from 2-300 s to 1 s, as its documentation shows.
    config = BatchWaitersHook().default_config
    for waiter in config["waiters"].values():
        waiter["delay"] = 1
    waited_job_id = BatchOperator(
        task_id="run_job_with_waiters",
        job_name="airflow-waiters-job",
        job_queue="airflow-q",
        job_definition="airflow-jd",
        waiters=BatchWaitersHook(waiter_config=config),
    ).execute({})
    print(
        json.dumps(
            {"job_ids": [job_id, waited_job_id], "compute_environment_arn": environment_arn},
        )
    )


if __name__ == "__main__":
    main()
