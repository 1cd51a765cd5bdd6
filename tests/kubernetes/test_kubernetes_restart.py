"""A pod survives the server's kill -9: the server restarted on the same --state-dir finds it by its
labels, follows it to its end (its output continues in the same log stream, no line repeated) and
the job SUCCEEDS with its one attempt; exactly one pod was ever created for it. A pod left by an
earlier run for an attempt no job holds any more is deleted."""

from __future__ import annotations

import copy
import signal
import subprocess
from pathlib import Path

import boto3
from botocore.config import Config
from kit import describe, eventually, log_lines, start_server_process
from kube_mock import Outcome


def start_server(state_dir: Path, kubeconfig: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    return start_server_process(
        [
            "--executor",
            "kubernetes",
            "--kubeconfig",
            str(kubeconfig),
            "--public-url",
            "http://batch-emulator.test:8734",
            "--state-dir",
            str(state_dir),
        ],
        log_path,
    )


def clients(url: str):
    options = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"max_attempts": 1}),
    }
    return boto3.client("batch", **options), boto3.client("logs", **options)


def test_a_running_pod_is_adopted_after_kill_9_and_its_job_succeeds(
    tmp_path: Path, kube_api, kubelet, kubeconfig: Path
) -> None:
    kubelet.outcomes["busybox"] = Outcome(
        hold=True, output_while_running="before\n", output="before\nafter\n"
    )
    state, log_path = tmp_path / "state", tmp_path / "server.log"
    process, url = start_server(state, kubeconfig, log_path)
    try:
        batch, logs = clients(url)
        batch.create_compute_environment(computeEnvironmentName="ce", type="UNMANAGED")
        batch.create_job_queue(
            jobQueueName="q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}]
        )
        batch.register_job_definition(
            jobDefinitionName="sleeper",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["sh", "-c", "echo before; sleep 3; echo after"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "64"}],
            },
        )
        job_id = batch.submit_job(jobName="sleeper", jobQueue="q", jobDefinition="sleeper")["jobId"]
        running = eventually(
            lambda: (job := describe(batch, job_id))["status"] == "RUNNING" and job, what="the job to run"
        )
        eventually(lambda: log_lines(logs, running) == ["before"], what="the first line to be stored")
        [pod] = kube_api.pods()
        leftover = copy.deepcopy(pod)  # what an earlier run left for an attempt no job holds
        leftover["metadata"]["name"] = "aws-batch.00000000-0000-0000-0000-000000000001"
        leftover["metadata"]["annotations"]["batch-emulator/attempt-id"] = "gone/1"
        leftover["metadata"]["labels"]["batch-emulator.attempt"] = "gone_1"
        leftover.pop("status", None)
        kube_api.create_pod(leftover)

        process.send_signal(signal.SIGKILL)
        process.wait()
        process, url = start_server(state, kubeconfig, log_path)
        batch, logs = clients(url)
        eventually(
            lambda: [p["metadata"]["name"] for p in kube_api.pods()] == [pod["metadata"]["name"]],
            what="the leftover pod to be deleted and the job's pod kept",
        )
        kubelet.release()

        job = eventually(
            lambda: (job := describe(batch, job_id))["status"] in ("SUCCEEDED", "FAILED") and job,
            timeout_seconds=30,
            what="the adopted job to end",
        )
        assert job["status"] == "SUCCEEDED", job.get("statusReason")
        assert len(job["attempts"]) == 1
        assert job["attempts"][0]["container"]["exitCode"] == 0
        assert log_lines(logs, job) == ["before", "after"]
        created = [
            p
            for p in kube_api.created_pods()
            if p["metadata"]["annotations"]["batch-emulator/attempt-id"].startswith(f"{job_id}/")
        ]
        assert len(created) == 1  # one pod, ever, for this job
        eventually(lambda: kube_api.pods() == [], what="the adopted pod to be deleted")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
