"""A service job's attempt run as SageMaker runs a training image, in a container on the local
daemon (reference §21; SageMaker's contract for training images, "How Amazon SageMaker runs your
training image" and "How Amazon SageMaker processes training output"):

- the image runs with the one argument `train` (its entrypoint kept), on host name `algo-1`;
- /opt/ml/input/config holds the config files the service rendered from the payload
  (hyperparameters.json, resourceconfig.json, inputdataconfig.json); /opt/ml/model,
  /opt/ml/output/data and one /opt/ml/input/data/<channel> per input channel exist, empty:
  nothing is downloaded from or uploaded to S3;
- the environment is the payload's `Environment` plus TRAINING_JOB_NAME and TRAINING_JOB_ARN;
- output goes to CloudWatch Logs, group /aws/sagemaker/TrainingJobs, stream
  `<TrainingJobName>/algo-1-<epoch seconds at start>`;
- exit code 0 is SageMaker's Completed; any other is Failed with FailureReason
  `AlgorithmError: <failure>, exit code: <n>`, where <failure> is the first 1024 characters of
  /opt/ml/output/failure when the container wrote it (SageMaker documents the 1024 characters;
  the `AlgorithmError: ..., exit code: n` form is how such failures are reported in the field);
- `StoppingCondition.MaxRuntimeInSeconds` stops the container (SageMaker's Stopped, secondary
  status MaxRuntimeExceeded).

Pure: it builds the ExecutionRequest the service-job engine hands its executor and reads the
update that ends it. When to start and stop is the engine's business.
"""

from __future__ import annotations

from typing import Protocol

from emulator.engine.service_records import ServiceJob, TrainingContainer
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, Executor, LogTarget, UpdateKind

TRAIN_ARGUMENT = "train"
HOST = "algo-1"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
CONFIG_DIRECTORY = "/opt/ml/input/config"
DATA_DIRECTORY = "/opt/ml/input/data"
EMPTY_DIRECTORIES = ("/opt/ml/model", "/opt/ml/output/data")
FAILURE_FILE = "/opt/ml/output/failure"
MAX_FAILURE_CHARS = 1024
SERVICE_JOB_LABEL = "batch-emulator.service-job-id"
# SageMaker's status message for MaxRuntimeExceeded as observed in SecondaryStatusTransitions
# (unverified against the current service).
MAX_RUNTIME_EXCEEDED = "Training job runtime exceeded MaxRuntimeInSeconds provided"


class TrainingRunner(Executor, Protocol):
    """An executor that can say whether its daemon already has an image (the Docker executor)."""

    def has_image(self, image: str) -> bool: ...


def attempt_id(job_id: str, attempt_number: int) -> str:
    return f"{job_id}/{attempt_number}"


def training_job_name(training_job_arn: str) -> str:
    return training_job_arn.rsplit("/", 1)[-1]


def log_target(training_job_arn: str, started_at_ms: int) -> LogTarget:
    """`arn:<partition>:sagemaker:<region>:<account>:training-job/<name>` -> where its output goes."""
    parts = training_job_arn.split(":")
    region, account_id = parts[3], parts[4]
    stream = f"{training_job_name(training_job_arn)}/{HOST}-{started_at_ms // 1000}"
    return LogTarget(account_id, region, LOG_GROUP, stream)


def execution_request(
    job: ServiceJob, container: TrainingContainer, attempt: str, training_job_arn: str, now_ms: int
) -> ExecutionRequest:
    """One attempt of `job` as a container: no CPU or memory limit (the instance type is not
    mapped to host resources), never a pull (the image was on the daemon at submission)."""
    environment = {
        **dict(container.environment),
        "TRAINING_JOB_NAME": training_job_name(training_job_arn),
        "TRAINING_JOB_ARN": training_job_arn,
    }
    return ExecutionRequest(
        attempt_id=attempt,
        job_id=job.job_id,
        image=container.image,
        command=(TRAIN_ARGUMENT,),
        environment=environment,
        vcpus=0,
        memory_mib=0,
        log=log_target(training_job_arn, now_ms),
        labels={SERVICE_JOB_LABEL: job.job_id},
        hostname=HOST,
        files=tuple((f"{CONFIG_DIRECTORY}/{name}", text) for name, text in container.config_files),
        directories=(*EMPTY_DIRECTORIES, *(f"{DATA_DIRECTORY}/{channel}" for channel in container.channels)),
        collect_files=(FAILURE_FILE,),
        pull_image=False,
    )


def failure_reason(update: ExecutionUpdate) -> str | None:
    """SageMaker's FailureReason for the attempt `update` ended; None when it completed.

    A container that could not start is the algorithm's failure too (SageMaker reports an image
    without a `train` executable as an AlgorithmError); a container the executor lost track of
    is SageMaker's own (InternalServerError)."""
    if update.kind is UpdateKind.FAILED_TO_START:
        return f"AlgorithmError: {update.reason or 'the container could not start'}"
    if update.exit_code is None:
        return f"InternalServerError: {update.reason or 'the training container was lost'}"
    if update.exit_code == 0:
        return None
    written = dict(update.files).get(FAILURE_FILE, "")[:MAX_FAILURE_CHARS].strip()
    return f"AlgorithmError: {written or update.reason or ''}, exit code: {update.exit_code}"
