"""Airflow's amazon provider against the emulator: BatchCreateComputeEnvironmentOperator and
BatchOperator with no tags (both send `tags: {}`), waiting for the job through BatchClientHook and
reading its CloudWatch log through AwsTaskLogFetcher, as a DAG's task would, then once more waiting
through BatchWaitersHook's botocore waiters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from client_kit import require_client

SCRIPT = Path(__file__).with_name("airflow_batch.py")


def run_airflow(url: str, home: Path) -> subprocess.CompletedProcess[str]:
    connection = {
        "conn_type": "aws",
        "login": "test",
        "password": "test",
        "extra": {"endpoint_url": url, "region_name": "us-east-1"},
    }
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_batch_operator_runs_a_job_without_tags_and_forwards_its_log(batch_emulator, batch_client, tmp_path):
    require_client("apache-airflow-providers-amazon")
    result = run_airflow(batch_emulator.url, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]

    created = json.loads(result.stdout.strip().splitlines()[-1])
    jobs = batch_client.describe_jobs(jobs=created["job_ids"])["jobs"]
    assert [(job["jobName"], job["status"], job["tags"]) for job in jobs] == [
        ("airflow-job", "SUCCEEDED", {}),
        ("airflow-waiters-job", "SUCCEEDED", {}),
    ]
    assert "hello from an airflow task" in output  # forwarded by the operator's log fetcher
    environment_tags = batch_client.list_tags_for_resource(resourceArn=created["compute_environment_arn"])
    assert environment_tags["tags"] == {}
