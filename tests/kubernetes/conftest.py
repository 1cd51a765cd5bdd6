"""Fixtures for the Kubernetes executor: kmock's API server over HTTP, a kubelet playing the node,
and an emulator whose every compute environment runs its jobs there.

No real kube-apiserver runs on the machines that run these tests; kmock (`kmock` on PyPI) emulates
its API. Without kmock or the `kubernetes` client the tests are skipped with a reason, except
under CI=true, where a missing prerequisite is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the Kubernetes executor tests must run)", pytrace=False)
    pytest.skip(reason)


try:
    import kmock  # noqa: F401
    import kubernetes  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on what is installed
    MISSING = f"needs kmock and the kubernetes client (pip install '.[test,kubernetes]'): {exc}"
else:
    MISSING = ""


@pytest.fixture
def kube_api() -> Iterator:
    if MISSING:
        _missing(MISSING)
    from kube_mock import KubeApiServer

    server = KubeApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def kubelet(kube_api) -> Iterator:
    from kube_mock import Kubelet

    node = Kubelet(kube_api).start()
    yield node
    node.close()


@pytest.fixture
def kubeconfig(kube_api, tmp_path: Path) -> Path:
    return kube_api.write_kubeconfig(tmp_path / "kubeconfig")
