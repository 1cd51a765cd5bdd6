"""--bootstrap: a compute environment, a job queue and a job definition, each named `default`.

With them the first command after start can be

    aws batch submit-job --job-name hello --job-queue default --job-definition default

The resources are made through the BatchProvider, exactly as a CreateComputeEnvironment /
CreateJobQueue / RegisterJobDefinition request for the default account and region would make them,
so they describe, update and delete like any other. They look like what the AWS console's first-run
wizard creates: a MANAGED EC2 environment (instance types `optimal`, 0-256 vCPUs) with placeholder
subnet, security group and instance role, and a queue of priority 1 in front of it. The emulator
runs jobs on this host, so 256 vCPUs only caps what the environment places at once; the host's
`--max-running` still applies. The job definition runs `busybox` (`echo`), small enough to pull
quickly where Docker runs jobs; with the process executor the image is ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator.config import Settings
from emulator.protocol.dispatch import RequestContext

log = logging.getLogger(__name__)

DEFAULT_NAME = "default"
DEFAULT_IMAGE = "busybox:latest"
DEFAULT_COMMAND = ["echo", "hello from batch-emulator"]
COMPUTE_RESOURCES: dict[str, Any] = {
    "type": "EC2",
    "allocationStrategy": "BEST_FIT_PROGRESSIVE",
    "minvCpus": 0,
    "maxvCpus": 256,
    "desiredvCpus": 0,
    "instanceTypes": ["optimal"],
    "subnets": ["subnet-00000000000000000"],
    "securityGroupIds": ["sg-00000000000000000"],
    "instanceRole": "ecsInstanceRole",
}


def bootstrap(batch: Any, settings: Settings) -> dict[str, str]:
    """Create the three `default` resources in the default account and region; return their ARNs
    by kind. `batch` is the app's BatchProvider."""
    ctx = RequestContext(settings.account_id, settings.region, request_id="bootstrap")
    # The placeholder subnet, security group and instance role exist in no account: with
    # --validate-references they are not checked here, or the environment would settle INVALID.
    # Bootstrap runs before the server serves, so no request sees the checks off.
    references, batch.references = batch.references, None
    try:
        environment = batch.create_compute_environment(
            ctx,
            compute_environment_name=DEFAULT_NAME,
            type="MANAGED",
            state="ENABLED",
            compute_resources=dict(COMPUTE_RESOURCES),
        )
    finally:
        batch.references = references
    queue = batch.create_job_queue(
        ctx,
        job_queue_name=DEFAULT_NAME,
        priority=1,
        state="ENABLED",
        compute_environment_order=[{"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}],
    )
    definition = batch.register_job_definition(
        ctx,
        job_definition_name=DEFAULT_NAME,
        type="container",
        container_properties={
            "image": DEFAULT_IMAGE,
            "command": list(DEFAULT_COMMAND),
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    arns = {
        "computeEnvironment": environment["computeEnvironmentArn"],
        "jobQueue": queue["jobQueueArn"],
        "jobDefinition": definition["jobDefinitionArn"],
    }
    for kind, arn in arns.items():
        log.info("created %s %s", kind, arn)
    return arns
