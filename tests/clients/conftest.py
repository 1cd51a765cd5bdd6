"""Fixtures for the real-client tests: each drives an unmodified client (Airflow's amazon provider,
the Snakemake AWS Batch plugin, the Terraform AWS provider) against the plugin's server."""

from __future__ import annotations

import pytest
from kit import create_queue


@pytest.fixture
def queue(batch_client) -> str:
    """A queue in front of an UNMANAGED compute environment, as in the integration tests."""
    return create_queue(batch_client, "clients-q", "clients-ce")
