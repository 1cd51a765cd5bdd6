"""Settings for the plugin's in-process emulator in this project's own tests: local processes
(fast, no Docker needed) and a 1-second timeout minimum so timeout tests finish quickly."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def batch_emulator_settings() -> dict:
    return {"executor": "process", "min_timeout_seconds": 1, "stop_timeout_seconds": 2.0}
