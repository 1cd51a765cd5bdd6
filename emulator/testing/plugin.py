"""pytest plugin: an in-process batch-emulator for the whole session, reset before each test.

Registered through the `pytest11` entry point, so installing the package is enough. Fixtures:

- `batch_emulator`: the running emulator (`.url`, `.client(service)`, `.reset()`, `.runtime`),
  reset before each test unless `batch_emulator_isolation` is overridden to return False;
- `batch_client`, `logs_client`: boto3 clients bound to it (retries off);
- `aws_client`: `aws_client("s3")` is a boto3 client, set up the same way, for any service on the
  endpoint: the services moto implements are served there too, and reset with ours;
- `batch_emulator_env`: sets AWS_ENDPOINT_URL (every service), AWS_ENDPOINT_URL_BATCH / _LOGS
  and credentials for code under test that builds its own clients;
- `wait_for_job`: `wait_for_job(job_id, status="SUCCEEDED", timeout_seconds=30)`;
- `batch_emulator_controls`: the test controls (clock, scripted outcomes, fault injection);
- `batch_emulator_settings`: override in conftest.py (executor, region, min_timeout_seconds,
  auth_keys, ...).

The clients, the environment and the controls carry dummy credentials, or with `auth_keys` set
(`--batch-emulator-auth AKID:SECRET` or the settings fixture) the first key, and sign every call:
the server then verifies SigV4 signatures as `--auth` does, on the test controls too.

Errors raised inside the server while a test runs fail that test, and a test that leaves a job's
container or process running fails too. A failed test that used the emulator gets a report section
with the URL of its web dashboard (queues, jobs, attempts, logs), to open from a debugger
(`--pdb`) before the state is reset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.testing.client import ControlClient
from emulator.testing.emulator import Emulator
from emulator.testing.waiting import wait_for_job as _wait_for_job

LEAK_GRACE_SECONDS = 10.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("batch-emulator")
    group.addoption(
        "--batch-emulator-executor",
        choices=["auto", "docker", "process", "simulated"],
        help="how the in-process emulator runs jobs (default: auto, Docker when a daemon answers)",
    )
    group.addoption("--batch-emulator-region", help="default region of the in-process emulator")
    group.addoption(
        "--batch-emulator-min-timeout-seconds",
        type=int,
        help="lowest attemptDurationSeconds accepted (AWS: 60); lower it to test timeouts quickly",
    )
    group.addoption(
        "--batch-emulator-auth",
        metavar="ACCESS_KEY_ID:SECRET",
        help="start the emulator with --auth: SigV4 signatures are verified, and the fixtures sign with this key",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed test that used the emulator: say where its dashboard is."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    emulator = getattr(item, "funcargs", {}).get("batch_emulator_server")
    if isinstance(emulator, Emulator):
        report.sections.append(
            (
                "batch-emulator dashboard",
                f"{emulator.dashboard_url}  (the state is reset after the test: stop in it with --pdb to look)",
            )
        )


@pytest.fixture(scope="session")
def batch_emulator_settings(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Keyword overrides for emulator.config.Settings. Override this fixture in conftest.py."""
    options = {
        "executor": pytestconfig.getoption("batch_emulator_executor"),
        "region": pytestconfig.getoption("batch_emulator_region"),
        "min_timeout_seconds": pytestconfig.getoption("batch_emulator_min_timeout_seconds"),
        "auth_keys": pytestconfig.getoption("batch_emulator_auth"),
    }
    return {key: value for key, value in options.items() if value is not None}


@pytest.fixture(scope="session")
def batch_emulator_server(batch_emulator_settings: dict[str, Any]) -> Iterator[Emulator]:
    emulator = Emulator.start(**batch_emulator_settings)
    yield emulator
    emulator.stop()


@pytest.fixture
def batch_emulator_isolation() -> bool:
    """Return False (override in a module or conftest.py) to let tests share emulator state."""
    return True


@pytest.fixture
def batch_emulator(batch_emulator_server: Emulator, batch_emulator_isolation: bool) -> Iterator[Emulator]:
    server_errors = batch_emulator_server.runtime.server_errors
    if batch_emulator_isolation:
        batch_emulator_server.reset()
    server_errors.clear()  # what was raised outside any test is no test's failure
    yield batch_emulator_server
    new_errors = server_errors.drain()
    if new_errors:
        raise AssertionError("the emulator failed while serving this test") from new_errors[0]
    if batch_emulator_isolation:
        batch_emulator_server.reset()
        _fail_on_leaks(batch_emulator_server)


def _fail_on_leaks(emulator: Emulator) -> None:
    """After a reset every attempt must have been stopped and cleaned up by its executor."""
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    live = emulator.runtime.live_attempts()
    while live and time.monotonic() < deadline:
        time.sleep(0.02)
        live = emulator.runtime.live_attempts()
    if live:
        raise AssertionError(f"the test left job containers or processes running: {sorted(live)}")


@pytest.fixture
def batch_client(batch_emulator: Emulator):
    return batch_emulator.client("batch")


@pytest.fixture
def logs_client(batch_emulator: Emulator):
    return batch_emulator.client("logs")


@pytest.fixture
def aws_client(batch_emulator: Emulator) -> Callable[..., Any]:
    """`aws_client("s3")`, `aws_client("sqs", region="eu-west-1")`: a boto3 client for any AWS
    service, bound to the emulator; keyword arguments go to boto3.client (credentials, config)."""
    return batch_emulator.client


@pytest.fixture
def batch_emulator_controls(batch_emulator: Emulator) -> ControlClient:
    """The test controls: clock, scripted outcomes, fault injection (see emulator.testing.controls)."""
    return batch_emulator.controls


@pytest.fixture
def batch_emulator_env(batch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in batch_emulator.environment().items():
        monkeypatch.setenv(name, value)
    return batch_emulator.url


@pytest.fixture
def wait_for_job(batch_client, logs_client):
    def wait(job_id: str, status: str = "SUCCEEDED", *, timeout_seconds: float = 30.0) -> dict[str, Any]:
        return _wait_for_job(
            batch_client, job_id, status, timeout_seconds=timeout_seconds, logs_client=logs_client
        )

    return wait
