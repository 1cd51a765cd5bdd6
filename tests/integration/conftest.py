"""Fixtures shared by the integration modules.

Most modules use the plugin's session server (`batch_client`, `wait_for_job`, ...). A module that
needs a server of its own defines `server_settings` (module scope) and gets `server`, `batch` and
`controls` from here; `fresh_server` resets it around each test and re-raises what it raised.
The job fixtures (`define`, `submit`, `blocked_queue`) work on the plugin's server; `submit` sends
to the module's `queue` fixture.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest
from kit import assert_no_server_errors, batch_client_for, create_queue, serving
from kit import define as define_job
from kit import submit as submit_job

from emulator.app import runtime_of
from emulator.config import Settings
from emulator.testing.client import ControlClient
from emulator.testing.server import ServerThread


@pytest.fixture(scope="module")
def server(server_settings: Settings) -> Iterator[ServerThread]:
    with serving(server_settings) as thread:
        yield thread


@pytest.fixture
def fresh_server(server: ServerThread) -> Iterator[None]:
    """Reset before and after the test, with the clock running again; fail on server errors."""
    runtime_of(server.app).reset()
    yield
    ControlClient(server.url).resume_clock()
    runtime_of(server.app).reset()
    assert_no_server_errors(server)


@pytest.fixture
def batch(server: ServerThread):
    return batch_client_for(server.url)


@pytest.fixture
def controls(server: ServerThread) -> ControlClient:
    return ControlClient(server.url)


@pytest.fixture
def define(batch_client) -> Callable[..., str]:
    """kit.define on the plugin's server: `define(name, command, ...)` returns the name."""
    return functools.partial(define_job, batch_client)


@pytest.fixture
def submit(batch_client, queue: str) -> Callable[..., str]:
    """kit.submit to the module's `queue`: `submit(definition, name=None, **extra)` returns the job id."""
    return functools.partial(submit_job, batch_client, queue)


@pytest.fixture
def blocked_queue(batch_client) -> str:
    """A queue whose only compute environment is DISABLED: its jobs wait in RUNNABLE."""
    return create_queue(batch_client, "blocked-q", "off-ce", state="DISABLED")
