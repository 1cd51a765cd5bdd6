"""Each script in examples/ runs against the plugin's emulator (process executor) as a user would
run it: a subprocess whose environment points boto3 at the emulator, exiting 0 on the outcome it
expects and printing what it saw."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(emulator, name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **emulator.environment()},
    )
    assert result.returncode == 0, f"{name} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_fetch_and_run_runs_a_script_from_s3_and_writes_its_output_back(batch_emulator, aws_client) -> None:
    """The job (a local process, with this interpreter and its boto3) downloads the script the
    example uploaded to S3, runs it, and uploads what it printed, which the example reads back."""
    output = run_example(batch_emulator, "fetch_and_run.py", "--python", sys.executable)

    assert "fetch_and_run: fetched s3://fetch-and-run/scripts/myjob-" in output
    assert "  > myjob.sh: hello batch-emulator, job " in output  # read back from S3
    assert "  > myjob.sh: 6 x 7 = 42" in output
    assert "fetch-and-run: OK" in output
    s3 = aws_client("s3")
    (written,) = s3.list_objects_v2(Bucket="fetch-and-run", Prefix="output/")["Contents"]
    body = s3.get_object(Bucket="fetch-and-run", Key=written["Key"])["Body"].read().decode()
    assert body.splitlines()[1] == "myjob.sh: 6 x 7 = 42"


@pytest.mark.parametrize("size", [2, 5])
def test_array_pipeline_runs_n_to_n_children_in_order_and_sums(batch_emulator, size: int) -> None:
    output = run_example(batch_emulator, "array_pipeline.py", "--size", str(size))

    assert output.count("double started after square stopped") == size
    assert f"total={sum(2 * i * i for i in range(size))}" in output
    assert "array pipeline: OK" in output


def test_retry_timeout_retries_exits_and_times_out(batch_emulator) -> None:
    output = run_example(batch_emulator, "retry_timeout.py", "--timeout-seconds", "1")

    assert "flaky: SUCCEEDED after 2 attempt(s), exit codes [3, 0]" in output
    assert "broken: FAILED after 1 attempt(s), exit codes [1]" in output
    assert "Job attempt duration exceeded timeout" in output
    assert "retry and timeout: OK" in output
