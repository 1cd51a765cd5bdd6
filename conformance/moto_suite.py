"""Run moto's own AWS Batch tests, unmodified, against the emulator in moto's server mode.

    python -m conformance.moto_suite                        # start an emulator, run both directories
    python -m conformance.moto_suite -k job_queue           # a subset (pytest's -k expression)
    python -m conformance.moto_suite --endpoint URL         # a server already running (moto_server too)
    python -m conformance.moto_suite --markdown             # the table of docs/moto-batch-suite.md

moto's tests (`tests/test_batch` and `tests/test_batch_simple`) come from the source distribution of
the moto installed here, fetched with pip at run time (`pip download --no-binary :all:`; pip's cache
makes repeated fetches cheap) and kept in `~/.cache/batch-emulator/`; `--sdist` names a tarball
instead. None of moto's files belong to this repository. Where the sdist cannot be had the run is
skipped with the reason (exit status 0).

In server mode (`TEST_SERVER_MODE=true`) moto's test decorators send every boto3 client to
`TEST_SERVER_MODE_ENDPOINT` and call `POST /moto-api/reset` around each test, so the tests'
IAM, EC2 and ECS calls reach moto's services on the same endpoint and their Batch and Logs calls
reach ours. Jobs run as local processes by default (moto's tests run `echo`, `sleep`, `printenv`
in busybox), and the emulator allows timeouts from 1 s (`--min-timeout-seconds 1`), as moto's
timeout tests use 1-3 s where AWS's minimum is 60.

The failures that remain are listed in KNOWN_FAILURES, each with why and the section of
../shared/reference/aws-batch.md it rests on. The exit status is 1 when a test fails that is not
listed there; a listed test that now passes is reported so the list can shrink.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from conformance.moto_suite_expectations import KNOWN_FAILURES, TIMING, Known

ROOT = Path(__file__).resolve().parents[1]
SUITE_DIRECTORIES = ("tests/test_batch", "tests/test_batch_simple")
# What the two directories import besides themselves: the `tests` package and its markers.
SUPPORT_FILES = ("tests/__init__.py", "tests/conftest.py", "tests/markers.py")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "batch-emulator"
_URL = re.compile(r"(https?://[\w.\-]+:\d+)")
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


class SuiteUnavailable(Exception):
    """moto's test files cannot be had: the reason the run is skipped."""


@dataclass(frozen=True)
class Outcome:
    test_id: str  # test_batch/test_batch_jobs.py::test_submit_job
    result: str  # PASSED | FAILED | SKIPPED
    message: str = ""

    @property
    def module(self) -> str:
        return self.test_id.split("::", 1)[0]


# ---- moto's tests -----------------------------------------------------------------------------


def installed_moto_version() -> str:
    """The tests must match the moto whose decorators run them: the installed one."""
    try:
        return version("moto")
    except PackageNotFoundError as missing:
        raise SuiteUnavailable("moto is not installed (pip install 'moto[server]')") from missing


def obtain_sdist(moto_version: str, cache_dir: Path, *, timeout_seconds: float = 300) -> Path:
    """moto's source distribution: from the cache directory, else downloaded there with pip."""
    tarball = cache_dir / f"moto-{moto_version}.tar.gz"
    if tarball.is_file():
        return tarball
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    # Short network timeouts: where PyPI cannot be reached the run is skipped, not stalled.
    command += ["--timeout", "15", "--retries", "1", "--dest", str(cache_dir), f"moto=={moto_version}"]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds)
    except (OSError, subprocess.TimeoutExpired) as failure:
        raise SuiteUnavailable(f"pip download moto=={moto_version} failed: {failure}") from failure
    if finished.returncode != 0 or not tarball.is_file():
        lines = finished.stderr.strip().splitlines() or ["no output"]
        reason = next((line for line in lines if line.startswith("ERROR")), lines[-1])
        raise SuiteUnavailable(f"pip download moto=={moto_version} failed: {reason}")
    return tarball


def unpack_suite(tarball: Path, into: Path) -> Path:
    """Extract the two Batch test directories and the files they import; returns the root that
    holds `tests/`. Only regular files under those paths are taken (tarfile's data filter)."""
    wanted_prefixes = tuple(f"{directory}/" for directory in SUITE_DIRECTORIES)
    with tarfile.open(tarball) as archive:
        members = []
        for member in archive.getmembers():
            top, _, inner = member.name.partition("/")
            if member.isfile() and (inner in SUPPORT_FILES or inner.startswith(wanted_prefixes)):
                members.append(member)
        if not members:
            raise SuiteUnavailable(f"{tarball.name} holds no {' or '.join(SUITE_DIRECTORIES)}")
        archive.extractall(into, members=members, filter="data")
    return into / members[0].name.partition("/")[0]


# ---- the emulator -----------------------------------------------------------------------------


@contextlib.contextmanager
def emulator_process(executor: str, log_path: Path) -> Iterator[str]:
    """`python -m emulator` on a free port; yields its URL, stops it afterwards."""
    command = [sys.executable, "-m", "emulator", "--port", "0", "--executor", executor]
    command += ["--min-timeout-seconds", "1", "--log-level", "WARNING"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=environment
        )
        try:
            yield _served_url(process)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _served_url(process: subprocess.Popen, timeout_seconds: float = 60) -> str:
    """The first URL of the banner, once the health endpoint answers."""
    assert process.stdout is not None
    line = process.stdout.readline()
    match = _URL.search(line)
    if match is None:
        raise RuntimeError(f"the emulator exited or printed no URL (exit status {process.poll()})")
    url = match.group(1)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5):
                return url
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"the emulator at {url} did not answer within {timeout_seconds} s")


# ---- running and reading the results ----------------------------------------------------------


def run_suite(suite_root: Path, endpoint: str, *, select: str | None, results_xml: Path) -> float:
    """pytest on the two directories in moto's server mode; returns the seconds it took."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "TEST_SERVER_MODE"))
    }
    environment.update(
        TEST_SERVER_MODE="true",
        TEST_SERVER_MODE_ENDPOINT=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    command = [sys.executable, "-m", "pytest", *SUITE_DIRECTORIES, "-q", "-p", "no:cacheprovider"]
    command += ["-p", "no:batch_emulator", "-p", "no:randomly", "-p", "no:kmock", f"--junitxml={results_xml}"]
    command += ["-o", "junit_family=xunit1", "--timeout=180"]
    if select:
        command += ["-k", select]
    results_xml.unlink(missing_ok=True)
    started = time.monotonic()
    with open(results_xml.with_name("pytest.log"), "w") as log:
        subprocess.run(
            command, cwd=suite_root, env=environment, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if not results_xml.is_file():
        tail = results_xml.with_name("pytest.log").read_text()[-3000:]
        raise RuntimeError(f"pytest wrote no results; its output ends with:\n{tail}")
    return time.monotonic() - started


def read_outcomes(results_xml: Path) -> list[Outcome]:
    """JUnit XML -> one Outcome per test, named `test_batch/<module>.py::<test>`."""
    outcomes = []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        module = case.get("classname", "").removeprefix("tests.").replace(".", "/") + ".py"
        test_id = f"{module}::{case.get('name')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            outcomes.append(Outcome(test_id, FAILED, (problem.get("message") or "").splitlines()[0][:300]))
        elif case.find("skipped") is not None:
            outcomes.append(Outcome(test_id, SKIPPED, case.find("skipped").get("message", "")))
        else:
            outcomes.append(Outcome(test_id, PASSED))
    return outcomes


@dataclass(frozen=True)
class Verdict:
    unexpected: list[Outcome]  # failed and not listed
    explained: list[tuple[Outcome, Known]]  # failed and listed
    now_passing: list[str]  # listed, ran, and passed (timing-dependent ones aside)


def judge(outcomes: list[Outcome], known: dict[str, Known] = KNOWN_FAILURES) -> Verdict:
    failed = [outcome for outcome in outcomes if outcome.result == FAILED]
    return Verdict(
        unexpected=[outcome for outcome in failed if outcome.test_id not in known],
        explained=[(outcome, known[outcome.test_id]) for outcome in failed if outcome.test_id in known],
        now_passing=[
            o.test_id
            for o in outcomes
            if o.result == PASSED and o.test_id in known and known[o.test_id].kind != TIMING
        ],
    )


def summary_line(outcomes: list[Outcome]) -> str:
    counts = Counter(outcome.result for outcome in outcomes)
    return f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[SKIPPED]} skipped"


def text_report(outcomes: list[Outcome], verdict: Verdict, header: str) -> str:
    lines = [header, "", f"{'module':<52} {'passed':>6} {'failed':>6} {'skipped':>7}"]
    for module, counts in _per_module(outcomes):
        lines.append(f"{module:<52} {counts[PASSED]:>6} {counts[FAILED]:>6} {counts[SKIPPED]:>7}")
    lines += ["", f"total: {summary_line(outcomes)}", ""]
    if verdict.explained:
        lines.append(f"Failures explained ({len(verdict.explained)}):")
        for outcome, known in verdict.explained:
            lines += [f"  {outcome.test_id}", f"      {known.kind}: {known.why} ({known.reference})"]
        lines.append("")
    lines.append(
        f"Unexpected failures ({len(verdict.unexpected)}):"
        if verdict.unexpected
        else "Unexpected failures: none"
    )
    for outcome in verdict.unexpected:
        lines += [f"  {outcome.test_id}", f"      {outcome.message}"]
    if verdict.now_passing:
        lines += ["", "Listed as failing but passed (remove from KNOWN_FAILURES):"]
        lines += [f"  {test_id}" for test_id in verdict.now_passing]
    return "\n".join(lines)


def markdown_report(outcomes: list[Outcome], verdict: Verdict) -> str:
    lines = ["| module | passed | failed | skipped |", "|---|---:|---:|---:|"]
    for module, counts in _per_module(outcomes):
        lines.append(f"| `{module}` | {counts[PASSED]} | {counts[FAILED]} | {counts[SKIPPED]} |")
    total = Counter(outcome.result for outcome in outcomes)
    lines += [f"| **total** | **{total[PASSED]}** | **{total[FAILED]}** | **{total[SKIPPED]}** |", ""]
    lines += ["| failing test | | why | reference |", "|---|---|---|---|"]
    for outcome, known in verdict.explained:
        lines.append(
            f"| `{_short(outcome.test_id)}` | {known.kind} | {_cell(known.why)} | {known.reference} |"
        )
    for outcome in verdict.unexpected:
        lines.append(f"| `{_short(outcome.test_id)}` | not explained | {_cell(outcome.message)} | |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _short(test_id: str) -> str:
    """`test_batch/test_batch_jobs.py::test_x` -> `test_batch_jobs.py::test_x` (simple: kept)."""
    return test_id.removeprefix("test_batch/")


def _per_module(outcomes: list[Outcome]) -> list[tuple[str, Counter]]:
    modules: dict[str, Counter] = {}
    for outcome in outcomes:
        modules.setdefault(outcome.module, Counter())[outcome.result] += 1
    return sorted(modules.items())


# ---- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.moto_suite", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--endpoint", help="run against this server instead of starting an emulator")
    parser.add_argument(
        "--executor", default="process", help="the started emulator's executor (default process)"
    )
    parser.add_argument("-k", dest="select", help="pytest -k expression selecting moto's tests")
    parser.add_argument("--sdist", type=Path, help="moto's sdist tarball (default: fetched with pip)")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"where the sdist is kept ({DEFAULT_CACHE})"
    )
    parser.add_argument("--markdown", action="store_true", help="print the Markdown tables as well")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep moto's tests, pytest's and the emulator's logs here (default: a temporary directory)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        moto_version = installed_moto_version()
        tarball = args.sdist or obtain_sdist(moto_version, args.cache_dir)
    except SuiteUnavailable as reason:
        print(f"moto-suite: skipped: {reason}")
        return 0
    with contextlib.ExitStack() as cleanup:
        work_dir = args.work_dir or Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="moto-suite-"))
        )
        work_dir.mkdir(parents=True, exist_ok=True)
        suite_root = unpack_suite(tarball, work_dir)
        results_xml = work_dir / "results.xml"
        with contextlib.ExitStack() as stack:
            endpoint = args.endpoint or stack.enter_context(
                emulator_process(args.executor, work_dir / "emulator.log")
            )
            seconds = run_suite(suite_root, endpoint, select=args.select, results_xml=results_xml)
        outcomes = read_outcomes(results_xml)
    verdict = judge(outcomes)
    against = args.endpoint or f"the emulator ({args.executor} executor)"
    header = (
        f"moto {moto_version}'s Batch tests against {against}: {summary_line(outcomes)} in {seconds:.0f} s"
    )
    print(text_report(outcomes, verdict, header))
    if args.markdown:
        print("\n" + markdown_report(outcomes, verdict))
    return 1 if verdict.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
