"""The Terraform AWS provider against the emulator: `terraform apply` of a Batch stack (a MANAGED
compute environment, a fair-share scheduling policy, a job queue, container, EKS and Fargate job
definitions, the retry strategy in the provider's lower case), then `terraform plan` must find
nothing to change, then `terraform destroy` removes it all.

Needs a `terraform` binary (`BATCH_EMULATOR_TERRAFORM` or PATH) and the hashicorp/aws provider in a
local filesystem mirror (`BATCH_EMULATOR_TF_PLUGIN_MIRROR` or a usual place), since no registry is
reached; skipped with the reason wherever either is missing, CI included. The provider's own
waiters pause 30 s around each job queue change, so the test takes two to three minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

STACK = Path(__file__).with_name("terraform") / "stack.tf"
PROVIDER = Path("registry.terraform.io/hashicorp/aws")
MIRRORS = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/local/share/terraform/plugins")
VERSION = re.compile(r"\d+\.\d+\.\d+")


def find_terraform() -> str:
    terraform = os.environ.get("BATCH_EMULATOR_TERRAFORM") or shutil.which("terraform")
    if not terraform:
        pytest.skip("no terraform binary (set BATCH_EMULATOR_TERRAFORM or put terraform on PATH)")
    return terraform


def find_provider() -> tuple[Path, str]:
    """The mirror holding hashicorp/aws for linux_amd64, and its newest version there."""
    given = os.environ.get("BATCH_EMULATOR_TF_PLUGIN_MIRROR")
    for mirror in [Path(path).expanduser() for path in ((given,) if given else MIRRORS)]:
        versions = [
            entry.name
            for entry in (mirror / PROVIDER).glob("*")
            if VERSION.fullmatch(entry.name) and (entry / "linux_amd64").is_dir()
        ]
        if versions:
            return mirror, max(versions, key=lambda v: tuple(int(part) for part in v.split(".")))
    pytest.skip(
        "no hashicorp/aws provider in a filesystem mirror (set BATCH_EMULATOR_TF_PLUGIN_MIRROR to a "
        f"folder holding {PROVIDER}/<version>/linux_amd64)"
    )


class Terraform:
    """`terraform` in one working folder, offline, with its own CLI configuration."""

    def __init__(self, binary: str, folder: Path, mirror: Path, endpoint: str) -> None:
        self.binary = binary
        self.folder = folder
        self.endpoint = endpoint
        config = folder / "cli.tfrc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
        )
        kept = {name: value for name, value in os.environ.items() if not name.startswith(("TF_", "AWS_"))}
        self.environment = {
            **kept,
            "HOME": str(folder),
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def __call__(self, *arguments: str) -> str:
        """Run one command; any exit status but 0 fails the test with the end of its output."""
        variables = ["-var", f"endpoint={self.endpoint}"] if arguments[0] != "init" else []
        result = subprocess.run(
            [self.binary, arguments[0], "-no-color", *variables, *arguments[1:]],
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, (
            f"terraform {arguments[0]} exited {result.returncode}:\n{output[-6000:]}"
        )
        return output


@pytest.fixture
def terraform(batch_emulator, tmp_path) -> Terraform:
    binary = find_terraform()
    mirror, version = find_provider()
    (tmp_path / "versions.tf").write_text(
        "terraform {\n  required_providers {\n"
        f'    aws = {{ source = "hashicorp/aws", version = "{version}" }}\n  }}\n}}\n'
    )
    shutil.copy(STACK, tmp_path / "stack.tf")
    runner = Terraform(binary, tmp_path, mirror, batch_emulator.url)
    runner("init")
    return runner


@pytest.mark.timeout(900)
def test_apply_then_plan_shows_no_changes_then_destroy(terraform, batch_client):
    terraform("apply", "-auto-approve")

    [environment] = batch_client.describe_compute_environments(computeEnvironments=["tf-ce"])[
        "computeEnvironments"
    ]
    assert (environment["type"], environment["computeResources"]["type"]) == ("MANAGED", "EC2")
    [definition] = batch_client.describe_job_definitions(jobDefinitionName="tf-job", status="ACTIVE")[
        "jobDefinitions"
    ]
    assert [rule["action"] for rule in definition["retryStrategy"]["evaluateOnExit"]] == ["retry", "exit"]
    [queue] = batch_client.describe_job_queues(jobQueues=["tf-queue"])["jobQueues"]
    assert queue["tags"] == {"team": "data"}

    terraform("plan", "-detailed-exitcode")  # exit 2 would mean the plan is not empty

    terraform("destroy", "-auto-approve")
    assert batch_client.describe_job_queues(jobQueues=["tf-queue"])["jobQueues"] == []
    remaining = batch_client.describe_compute_environments(computeEnvironments=["tf-ce"])
    assert [ce["status"] for ce in remaining["computeEnvironments"]] in ([], ["DELETED"])
    active = batch_client.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    assert active == []
