"""Running the emulator inside a test process.

`running_emulator()` is the plain-Python entry point for any test runner:

    from emulator.testing import running_emulator

    with running_emulator(executor="process") as emulator:
        batch = boto3.client("batch", endpoint_url=emulator.url, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test")

The pytest plugin (`emulator.testing.plugin`) builds its fixtures on the same object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from emulator.testing.emulator import Emulator

__all__ = ["Emulator", "running_emulator"]


@contextlib.contextmanager
def running_emulator(**settings: Any) -> Iterator[Emulator]:
    """Serve the emulator on 127.0.0.1 (a free port) in a daemon thread; stop it on exit."""
    emulator = Emulator.start(**settings)
    try:
        yield emulator
    finally:
        emulator.stop()
