"""The benchmark command runs and prints its table: `python -m bench --quick --only api` (and
`--only server`, where wrk is installed).

Cheap on purpose (about 30 s): the smallest sizes of the API workload only, which still starts the
emulator, moto's server and the floor as separate processes. Skipped where moto's server, a
test-only dependency (`pip install '.[bench]'`), is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
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


@pytest.mark.timeout(300)
def test_quick_server_benchmark_prints_emulator_moto_and_floor_side_by_side(tmp_path):
    if shutil.which("wrk") is None:
        pytest.skip("the server workload needs wrk: apt-get install wrk")
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "server", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=290,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    header, _, *rows = finished.stdout.splitlines()
    assert [cell.strip() for cell in header.split("|")[:5]] == [
        "workload",
        "unit",
        "emulator",
        "moto",
        "floor",
    ]
    submit = next(line for line in rows if line.startswith("SubmitJob req/s, 4 conn"))
    emulator, moto, floor = (float(cell.replace(",", "")) for cell in submit.split("|")[2:5])
    assert emulator > 0 and moto > 0 and floor > 0
    (raw_file,) = tmp_path.glob("*-quick.json")
    raw = json.loads(raw_file.read_text())["raw"]["server"]
    for operation in ("SubmitJob", "DescribeJobs(100 ids)", "DescribeJobDefinitions(100 revisions)"):
        for connections in ("1", "4", "8"):
            for target in ("emulator", "moto", "floor"):
                figures = raw[operation][connections][target]
                assert figures["requests"] > 0, (operation, connections, target)
                assert all(run["status_errors"] == 0 for run in figures["runs"]), (operation, target)
