"""A fast slice of moto's own Batch tests, unmodified, against the emulator in moto's server mode
(conformance/moto_suite.py runs all of them). moto's tests come from its source distribution,
fetched with pip (or found in ~/.cache/batch-emulator); without it the test is skipped with the
reason. The slice covers CloudFormation's Batch resources, CancelJob/TerminateJob's refusals and
the job queue and scheduling policy operations: about 30 tests, 30-40 s on two cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.moto_suite import (
    DEFAULT_CACHE,
    PASSED,
    SuiteUnavailable,
    emulator_process,
    installed_moto_version,
    judge,
    obtain_sdist,
    read_outcomes,
    run_suite,
    unpack_suite,
)

SLICE = "cloudformation or empty_argument or job_queue or scheduling_policy"
MUST_PASS = [
    "test_batch/test_batch_cloudformation.py::test_create_job_def_cf",
    "test_batch_simple/test_batch_cloudformation.py::test_create_job_def_cf",
    "test_batch/test_batch_jobs.py::test_cancel_job_empty_argument_strings",
    "test_batch/test_batch_jobs.py::test_terminate_job_empty_argument_strings",
]


@pytest.fixture(scope="module")
def moto_tests(tmp_path_factory) -> Path:
    try:
        tarball = obtain_sdist(installed_moto_version(), DEFAULT_CACHE, timeout_seconds=120)
    except SuiteUnavailable as reason:
        pytest.skip(f"moto's Batch tests are not available: {reason}")
    return unpack_suite(tarball, tmp_path_factory.mktemp("moto-suite"))


@pytest.mark.timeout(240)
def test_motos_batch_tests_pass_but_for_those_that_contradict_aws(moto_tests: Path, tmp_path: Path):
    results = tmp_path / "results.xml"
    with emulator_process("process", tmp_path / "emulator.log") as endpoint:
        run_suite(moto_tests, endpoint, select=SLICE, results_xml=results)
    outcomes = read_outcomes(results)
    verdict = judge(outcomes)

    assert [(o.test_id, o.message) for o in verdict.unexpected] == []
    passed = {outcome.test_id for outcome in outcomes if outcome.result == PASSED}
    assert set(MUST_PASS) <= passed
    assert len(passed) >= 20
