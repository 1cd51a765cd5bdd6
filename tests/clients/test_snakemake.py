"""The Snakemake AWS Batch executor plugin's own code against the emulator: BatchJobBuilder registers a
job definition (with `tags: {}` when none are configured) and submits the job through the plugin's
BatchClient; the Executor's status check and clean-up (terminate, deregister) follow it to the end.

The Executor itself needs a running Snakemake workflow, so its methods are called here on a stand-in
that has only what they use, which lets each call be checked on its own; test_snakemake_workflow.py
runs the whole `snakemake --executor aws-batch` command.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from client_kit import require_client
from kit import eventually, log_lines

JOB_ROLE = "arn:aws:iam::123456789012:role/snakemake-job"


class ExecutorMethods:
    """The plugin Executor's status and clean-up methods, without the workflow its constructor
    needs: they use only `batch_client` and `logger`."""

    def __init__(self, executor_class, batch_client) -> None:
        self.batch_client = batch_client
        self.logger = logging.getLogger("snakemake-executor")
        self._executor_class = executor_class

    def __getattr__(self, name):
        return getattr(self._executor_class, name).__get__(self)


@pytest.fixture
def plugin(batch_emulator_env):
    """The plugin's classes, with its BatchClient built from the environment as in a real run."""
    require_client("snakemake-executor-plugin-aws-batch")
    from snakemake_executor_plugin_aws_batch import Executor
    from snakemake_executor_plugin_aws_batch.batch_client import BatchClient
    from snakemake_executor_plugin_aws_batch.batch_job_builder import BatchJobBuilder
    from snakemake_interface_executor_plugins.executors.base import SubmittedJobInfo

    client = BatchClient(region_name="us-east-1")
    return SimpleNamespace(
        client=client,
        builder=BatchJobBuilder,
        executor=ExecutorMethods(Executor, client),
        submitted=SubmittedJobInfo,
    )


def submit(plugin, queue: str, rule: str, command: str):
    """What the Executor's run_job does for one Snakemake job."""
    settings = SimpleNamespace(job_queue=queue, job_role=JOB_ROLE, tags=None, task_timeout=300)
    job = SimpleNamespace(name=rule, resources={"_cores": 1, "mem_mb": 2048})
    builder = plugin.builder(
        logger=logging.getLogger("snakemake-builder"),
        job=job,
        envvars={"GREETING": "hello from snakemake"},
        container_image="snakemake/snakemake:latest",
        settings=settings,
        job_command=command,
        batch_client=plugin.client,
    )
    submitted = builder.submit()
    return plugin.submitted(job=job, external_jobid=submitted["jobId"], aux=dict(submitted))


def final_status(plugin, job_info) -> tuple[int, str | None]:
    return eventually(
        lambda: (status := plugin.executor._get_job_status(job_info))[0] is not None and status,
        timeout_seconds=30,
        what="the plugin to see the job finish",
    )


def test_plugin_registers_submits_and_follows_a_job_to_success(plugin, queue, batch_client, logs_client):
    job_info = submit(plugin, queue, "greet", 'echo "$GREETING"')

    assert final_status(plugin, job_info) == (0, None)
    [job] = batch_client.describe_jobs(jobs=[job_info.external_jobid])["jobs"]
    assert log_lines(logs_client, job) == ["hello from snakemake"]
    definition_arn = job_info.aux["job_definition_arn"]
    assert batch_client.list_tags_for_resource(resourceArn=definition_arn)["tags"] == {}
    [definition] = batch_client.describe_job_definitions(jobDefinitions=[definition_arn])["jobDefinitions"]
    assert definition["platformCapabilities"] == ["EC2"]
    assert definition["containerProperties"]["jobRoleArn"] == JOB_ROLE

    plugin.executor.cleanup_job_resources(job_info)
    [definition] = batch_client.describe_job_definitions(jobDefinitions=[definition_arn])["jobDefinitions"]
    assert definition["status"] == "INACTIVE"


def test_plugin_reports_the_exit_code_of_a_failed_job(plugin, queue):
    job_info = submit(plugin, queue, "fail", "exit 3")

    code, message = final_status(plugin, job_info)
    assert (code, message) == (3, "Essential container in task exited")
    plugin.executor.cleanup_job_resources(job_info)
