"""The benchmark command runs and prints its table: `python -m bench --quick --only api`.

Cheap on purpose (about 30 s): the smallest sizes of the API workload only, which still starts the
emulator, moto's server and the floor as separate processes. Skipped where moto's server, a
test-only dependency (`pip install '.[bench]'`), is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("moto.server", reason="moto's server is needed: pip install '.[bench]'")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.timeout(180)
def test_quick_api_benchmark_prints_table_and_writes_raw_figures(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "api", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    table = finished.stdout
    assert "workload" in table and "emu/floor" in table and "emu/moto" in table
    assert "SubmitJob p50, 1 thread" in table
    assert "DescribeJobs(100 ids) throughput, 8t" in table
    (raw_file,) = tmp_path.glob("*-quick.json")
    raw = json.loads(raw_file.read_text())
    assert raw["mode"] == "quick"
    assert raw["machine"]["nproc"] == os.cpu_count()
    submit = raw["raw"]["api"]["SubmitJob x1"]
    assert {"emulator", "moto", "floor"} <= set(submit)
    assert all(figures["count"] > 0 for figures in submit.values())
