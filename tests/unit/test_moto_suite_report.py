"""The moto-suite runner's verdict: listed failures are explained, others are not, and a listed
test that passes is pointed out unless it depends on timing (conformance/moto_suite.py)."""

from __future__ import annotations

from pathlib import Path

from conformance.moto_suite import FAILED, PASSED, SKIPPED, judge, markdown_report, read_outcomes
from conformance.moto_suite_expectations import CONTRADICTS, TIMING, Known

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.test_batch.test_batch_jobs" name="test_submit_job" />
  <testcase classname="tests.test_batch.test_batch_jobs" name="test_list_jobs" />
  <testcase classname="tests.test_batch.test_batch_compute_envs" name="test_delete[x]">
    <failure message="ClientException: must be in DISABLED state&#10;more lines">trace</failure>
  </testcase>
  <testcase classname="tests.test_batch_simple.test_batch_jobs" name="test_new">
    <error message="KeyError: 'x'">trace</error>
  </testcase>
  <testcase classname="tests.test_batch.test_batch_jobs" name="test_skipped">
    <skipped message="No point testing this in ServerMode" />
  </testcase>
  <testcase classname="tests.test_batch.test_batch_jobs" name="test_fixed" />
</testsuite></testsuites>
"""
KNOWN = {
    "test_batch/test_batch_compute_envs.py::test_delete[x]": Known(
        CONTRADICTS, "deletes while ENABLED", "§5.1"
    ),
    "test_batch/test_batch_jobs.py::test_list_jobs": Known(TIMING, "default status", "§8"),
    "test_batch/test_batch_jobs.py::test_fixed": Known(CONTRADICTS, "was wrong", "§1"),
}


def test_outcomes_verdict_and_table(tmp_path: Path):
    results = tmp_path / "results.xml"
    results.write_text(JUNIT)
    outcomes = read_outcomes(results)
    verdict = judge(outcomes, KNOWN)

    assert [(o.test_id, o.result) for o in outcomes] == [
        ("test_batch/test_batch_jobs.py::test_submit_job", PASSED),
        ("test_batch/test_batch_jobs.py::test_list_jobs", PASSED),
        ("test_batch/test_batch_compute_envs.py::test_delete[x]", FAILED),
        ("test_batch_simple/test_batch_jobs.py::test_new", FAILED),
        ("test_batch/test_batch_jobs.py::test_skipped", SKIPPED),
        ("test_batch/test_batch_jobs.py::test_fixed", PASSED),
    ]
    assert [o.test_id for o in verdict.unexpected] == ["test_batch_simple/test_batch_jobs.py::test_new"]
    assert [o.message for o, _ in verdict.explained] == ["ClientException: must be in DISABLED state"]
    assert verdict.now_passing == ["test_batch/test_batch_jobs.py::test_fixed"]
    table = markdown_report(outcomes, verdict)
    assert "| `test_batch/test_batch_jobs.py` | 3 | 0 | 1 |" in table
    assert (
        "| `test_batch_compute_envs.py::test_delete[x]` | contradicts AWS | deletes while ENABLED | §5.1 |"
        in table
    )
