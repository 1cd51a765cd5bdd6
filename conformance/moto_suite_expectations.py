"""Which of moto's Batch tests fail against the emulator, and why (conformance/moto_suite.py).

Every entry rests on ../shared/reference/aws-batch.md: the test expects what AWS does not do
(`CONTRADICTS`), or asserts wording or defaults nobody has seen AWS produce where the emulator
follows the reference's choice (`UNVERIFIED`); `TIMING` entries pass or fail with the moment a
poll lands, on AWS as here.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRADICTS = "contradicts AWS"
UNVERIFIED = "unverified on AWS"
TIMING = "timing"


@dataclass(frozen=True)
class Known:
    kind: str
    why: str
    reference: str


_MICRO_VCPU = Known(
    CONTRADICTS,
    "registers an EC2 definition with VCPU 0.25; fractional vCPUs are Fargate's, EC2 needs at least 1",
    "§17.1",
)
_NEWEST_REVISION_FIRST = Known(
    CONTRADICTS,
    "expects revisions oldest first; AWS lists the revisions of a name newest first",
    "§5.3 DescribeJobDefinitions",
)

KNOWN_FAILURES: dict[str, Known] = {
    # ---- compute environments -------------------------------------------------------------------
    "test_batch/test_batch_compute_envs.py::test_create_managed_compute_environment_with_unknown_instance_type": Known(
        CONTRADICTS,
        "expects InvalidParameterValue, 'Instance type unknown does not exist'; AWS answers ClientException, "
        "'Instance type can only be one of [...]' (as the emulator now does)",
        "§1.4, §5.1",
    ),
    "test_batch/test_batch_compute_envs.py::test_describe_compute_environment": Known(
        CONTRADICTS, "expects VALID at once; a new compute environment is CREATING first", "§4, §4.2"
    ),
    "test_batch/test_batch_compute_envs.py::test_delete_unmanaged_compute_environment": Known(
        CONTRADICTS, "deletes an ENABLED compute environment; AWS requires DISABLED first", "§4.2, §5.1"
    ),
    "test_batch/test_batch_compute_envs.py::test_delete_managed_compute_environment": Known(
        CONTRADICTS, "deletes an ENABLED compute environment; AWS requires DISABLED first", "§4.2, §5.1"
    ),
    "test_batch/test_batch_compute_envs.py::test_update_iam_role": Known(
        CONTRADICTS,
        "expects InvalidParameterValue for serviceRole 'unknown'; AWS takes the value (a bare name becomes "
        "a role ARN) and has no such error code",
        "§1.4, §5.1",
    ),
    "test_batch/test_batch_compute_envs.py::test_create_ec2_managed_compute_environment__without_required_params": Known(
        CONTRADICTS,
        "expects 'ServiceRole is required.' for type UNMANGED without serviceRole; serviceRole is optional "
        "(the service-linked role) and the misspelt type is refused as outside the enum",
        "§5.1, §1.6",
    ),
    # ---- job queues -----------------------------------------------------------------------------
    "test_batch/test_batch_job_queue.py::test_create_job_queue": Known(
        CONTRADICTS, "names the scheduling policy 'policy_arn', which does not exist", "§5.2 CreateJobQueue"
    ),
    "test_batch/test_batch_job_queue.py::test_create_job_queue_twice": Known(
        UNVERIFIED,
        "expects 'Job queue <name> already exists'; the reference records 'Object already exists'",
        "§5.2, App. B.1",
    ),
    "test_batch/test_batch_job_queue.py::test_create_job_queue_incorrect_state": Known(
        UNVERIFIED,
        "expects 'state JUNK must be one of ENABLED | DISABLED'; the emulator answers in the front end's "
        "enum-validation style",
        "§1.6",
    ),
    "test_batch/test_batch_job_queue.py::test_create_job_queue_without_compute_environment": Known(
        UNVERIFIED,
        "expects 'At least 1 compute environment must be provided' for an empty computeEnvironmentOrder; "
        "the emulator says 'A job queue must have between 1 and 3 compute environments'",
        "§5.2",
    ),
    "test_batch/test_batch_job_queue.py::test_job_queue_bad_arn": Known(
        UNVERIFIED,
        "expects 'computeEnvironmentOrder is malformed' for an ARN naming no compute environment; the "
        "emulator says 'ComputeEnvironment <arn> not found.', after the observed 'JobQueue <q> not found.'",
        "§5.2, App. B.1",
    ),
    "test_batch/test_batch_job_queue.py::test_delete_job_queue": Known(
        CONTRADICTS, "deletes an ENABLED job queue; AWS requires DISABLED first", "§4.3, §5.2 DeleteJobQueue"
    ),
    # ---- jobs -----------------------------------------------------------------------------------
    "test_batch/test_batch_jobs.py::test_submit_job_array_size": Known(
        CONTRADICTS,
        "expects ListJobs(arrayJobId) without a status to list SUCCEEDED children; AWS lists RUNNING jobs only",
        "§8, §10",
    ),
    "test_batch/test_batch_jobs.py::test_list_jobs": Known(
        TIMING,
        "expects ListJobs without a status to list both jobs whatever their status; AWS lists RUNNING jobs "
        "only, so it passes only when both already run",
        "§8",
    ),
    "test_batch/test_batch_jobs.py::test_submit_job_multinode": Known(
        CONTRADICTS,
        "expects both nodes' output in one log stream; each node is its own task with its own stream",
        "§11, §15",
    ),
    "test_batch/test_batch_jobs.py::test_terminate_job": Known(
        CONTRADICTS,
        "reads the log stream <definition>/default/<job id>; the stream ends in the ECS task id",
        "§15",
    ),
    "test_batch/test_batch_jobs.py::test_dependencies": Known(
        CONTRADICTS,
        "looks for log streams <definition>/default/<job id>; the stream ends in the ECS task id",
        "§15",
    ),
    "test_batch/test_batch_jobs.py::test_cancel_running_job": Known(
        CONTRADICTS,
        "expects no statusReason on a job that succeeded; AWS sets 'Essential container in task exited'",
        "§6.6",
    ),
    "test_batch/test_batch_jobs.py::test_container_overrides": Known(
        CONTRADICTS,
        "expects AWS_BATCH_JOB_ID in DescribeJobs' container.environment; only the user's variables are listed",
        "§6.5",
    ),
    "test_batch/test_batch_jobs.py::test_update_job_definition": _NEWEST_REVISION_FIRST,
    "test_batch_simple/test_batch_jobs.py::test_update_job_definition": _NEWEST_REVISION_FIRST,
    "test_batch/test_batch_tags_job.py::test_submit_job_with_tags": Known(
        CONTRADICTS,
        "expects the error code ValidationError for 51 tags; Batch's only client error is ClientException",
        "§1.4",
    ),
    # ---- job definitions and scheduling policies ------------------------------------------------
    "test_batch/test_batch_task_definition.py::test_register_task_definition[True]": _MICRO_VCPU,
    "test_batch/test_batch_task_definition.py::test_reregister_task_definition[True]": _MICRO_VCPU,
    "test_batch/test_batch_task_definition.py::test_delete_task_definition[True]": _MICRO_VCPU,
    "test_batch/test_batch_task_definition.py::test_delete_task_definition_by_name[True]": _MICRO_VCPU,
    "test_batch/test_batch_task_definition.py::test_describe_task_definition[True]": _MICRO_VCPU,
    "test_batch/test_batch_task_definition.py::test_register_task_definition_with_platform_capability[FARGATE]": Known(
        CONTRADICTS, "registers a Fargate definition without executionRoleArn, which Fargate requires", "§5.3"
    ),
    "test_batch/test_batch_task_definition.py::test_register_task_definition_with_retry_strategies": Known(
        UNVERIFIED,
        "expects the evaluateOnExit actions echoed in lower case ('Exit' as 'exit'); the action is "
        "case-insensitive, how AWS echoes it is not recorded",
        "§12.2",
    ),
    "test_batch/test_batch_eks.py::test_eks_job_definition_defaults": Known(
        UNVERIFIED,
        "expects an EKS container described with command [] and env [] when not given; recorded for "
        "container definitions only",
        "§4.4, §19",
    ),
    "test_batch/test_batch_scheduling_policy.py::test_describe_default_scheduling_policy": Known(
        UNVERIFIED,
        "expects a zeroed fairsharePolicy on a policy created without one; the reference has it only when set",
        "§5.5",
    ),
}
