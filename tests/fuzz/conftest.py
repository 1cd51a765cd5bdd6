"""One simulated-executor emulator per fuzz module, and the session's request count."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.testing import Emulator, running_emulator

from .raw_http import TALLY


@pytest.fixture(scope="module")
def fuzz_emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated", transition_seconds=0.0) as emulator:
        yield emulator


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.requests:
        terminalreporter.write_line(TALLY.summary())
