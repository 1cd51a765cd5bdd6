"""Operators can refuse what a job may do to the host: privileged containers, host-path volumes and
host devices are allowed by default, as on AWS, and refused at RegisterJobDefinition when denied."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.testing import running_emulator

PRIVILEGED = {"image": "busybox", "command": ["true"], "privileged": True}
HOST_MOUNT = {
    "image": "busybox",
    "command": ["true"],
    "volumes": [{"name": "etc", "host": {"sourcePath": "/etc"}}],
    "mountPoints": [{"sourceVolume": "etc", "containerPath": "/host-etc"}],
}
DEVICE = {
    "image": "busybox",
    "command": ["true"],
    "linuxParameters": {"devices": [{"hostPath": "/dev/null"}]},
}
CASES = [("deny_privileged", PRIVILEGED), ("deny_host_mounts", HOST_MOUNT), ("deny_devices", DEVICE)]


@pytest.fixture(scope="module")
def restricted():
    with running_emulator(
        executor="simulated", deny_privileged=True, deny_host_mounts=True, deny_devices=True
    ) as emulator:
        yield emulator.client("batch")


@pytest.mark.parametrize(("flag", "properties"), CASES, ids=[flag for flag, _ in CASES])
def test_denied_host_access_is_refused_at_registration(restricted, flag, properties):
    with pytest.raises(ClientError) as caught:
        restricted.register_job_definition(
            jobDefinitionName="risky", type="container", containerProperties=properties
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ClientException"
    assert flag.replace("_", "-") in error["Message"]


def test_multinode_ranges_are_checked_too(restricted):
    with pytest.raises(ClientError, match="deny-privileged"):
        restricted.register_job_definition(
            jobDefinitionName="risky-mnp",
            type="multinode",
            nodeProperties={
                "numNodes": 2,
                "mainNode": 0,
                "nodeRangeProperties": [{"targetNodes": "0:", "container": PRIVILEGED}],
            },
        )


def test_plain_definitions_still_register(restricted):
    answer = restricted.register_job_definition(
        jobDefinitionName="plain",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"]},
    )
    assert answer["revision"] == 1


@pytest.mark.parametrize(("flag", "properties"), CASES, ids=[flag for flag, _ in CASES])
def test_everything_is_allowed_by_default(batch_client, flag, properties):
    assert (
        batch_client.register_job_definition(
            jobDefinitionName="allowed", type="container", containerProperties=properties
        )["revision"]
        == 1
    )
