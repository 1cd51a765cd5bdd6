"""What the real-client tests share: finding the clients, or skipping with the reason.

Imported as `client_kit` (pytest puts this folder on sys.path, as it does tests/unit/engine for
engine_kit). The Python clients come from the `clients` extra, which `.ci/run` installs: without it
they are skipped with the reason, except under `CI=true`, where a missing client is a failure.
"""

from __future__ import annotations

import importlib.metadata
import os

import pytest


def require_client(distribution: str) -> None:
    """Skip (or, under CI, fail) when the `distribution` package is not installed. Looks at the
    installed metadata only: importing Airflow here would set it up inside the test session."""
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        reason = f"{distribution} is not installed (pip install '.[clients]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
