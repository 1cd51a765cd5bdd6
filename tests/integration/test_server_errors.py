"""What the server keeps of the unexpected errors it answered with a 500: nothing, unless a test
harness asked; then a bounded number, without the requests their frames referenced."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kit import run_pytest

from emulator.app import Runtime, close_app, create_app, runtime_of
from emulator.config import Settings
from emulator.testing.server import ServerThread

# A nextToken as large as the one a client once sent with each of a hundred failing requests.
BIG_TOKEN = "t" * 1_300_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    """Built as `python -m emulator` builds it: create_app and nothing else."""
    app = create_app(Settings(executor="simulated"))
    thread = ServerThread(app).start()
    yield thread
    thread.stop()
    close_app(app)


@pytest.fixture
def runtime(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The server's runtime with DescribeJobQueues failing unexpectedly: each call answers 500."""
    runtime = runtime_of(server.app)

    def failing_describe_job_queues(context, **arguments):
        raise RuntimeError("provider failed")

    monkeypatch.setattr(runtime.batch, "describe_job_queues", failing_describe_job_queues)
    yield runtime
    runtime.server_errors.recording = False
    runtime.server_errors.clear()


def fail_once(server: ServerThread) -> None:
    batch = boto3.client(
        "batch",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),  # one request, not a retried pair
    )
    with pytest.raises(ClientError) as caught:
        batch.describe_job_queues(nextToken=BIG_TOKEN)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Code"] == "ServerException"


def test_a_server_started_as_python_m_emulator_keeps_no_error(server, runtime):
    for _ in range(3):
        fail_once(server)
    assert list(runtime.server_errors) == []


def test_recorded_errors_never_exceed_their_bound(server, runtime):
    runtime.server_errors.recording = True
    for _ in range(runtime.server_errors.capacity + 5):
        fail_once(server)
    kept = list(runtime.server_errors)
    assert len(kept) == runtime.server_errors.capacity
    assert all(str(error) == "provider failed" for error in kept)


def test_a_recorded_error_tells_where_it_was_raised_but_holds_no_frame(server, runtime):
    """A traceback's frames, and the frames that called them, hold the request (here a 1.3 MB
    token) for as long as the error is kept: only their printed form is."""
    runtime.server_errors.recording = True
    fail_once(server)
    [error] = runtime.server_errors.drain()
    assert (error.__traceback__, error.__cause__, error.__context__) == (None, None, None)
    [note] = error.__notes__
    assert "in failing_describe_job_queues" in note
    assert 'raise RuntimeError("provider failed")' in note
    assert BIG_TOKEN not in note


def test_the_pytest_plugin_fails_the_test_whose_request_failed(tmp_path: Path):
    (tmp_path / "test_failing_server.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from botocore.exceptions import ClientError

            def test_provokes_a_500(batch_emulator, batch_client, monkeypatch):
                def failing_describe_job_queues(context, **arguments):
                    raise RuntimeError("provider failed")

                monkeypatch.setattr(batch_emulator.runtime.batch, "describe_job_queues", failing_describe_job_queues)
                with pytest.raises(ClientError):
                    batch_client.describe_job_queues()

            def test_runs_after_it(batch_client):
                assert batch_client.describe_job_queues()["jobQueues"] == []
            """
        )
    )
    run = run_pytest(tmp_path, '{"executor": "simulated"}')
    # The plugin fails it at teardown (an error, not a failure); the next test is not affected.
    assert "2 passed, 1 error" in run.stdout, run.stdout + run.stderr
    assert "ERROR test_failing_server.py::test_provokes_a_500" in run.stdout
    report = run.stdout.split("the emulator failed while serving this test")[0]
    assert 'raise RuntimeError("provider failed")' in report  # where the server raised it
