"""The ECS cluster of each compute environment (emulator/account/ecs_clusters.py), against a
stand-in for moto's ECS module: clusters made before moto's ECS is imported wait for it, and
reach it before the first ECS request; removal and reset forget them."""

from __future__ import annotations

import sys
import types

import pytest

from emulator.account.ecs_clusters import ECS_MODELS, ClusterName, EcsClusters

ARN = "arn:aws:ecs:eu-west-1:111122223333:cluster/AWSBatch-ce-0f1e"


class FakeEcsBackend:
    def __init__(self) -> None:
        self.clusters: dict[str, str] = {}

    def create_cluster(self, cluster_name: str) -> str:
        self.clusters[cluster_name] = cluster_name
        return cluster_name


@pytest.fixture
def moto_ecs(monkeypatch: pytest.MonkeyPatch):
    """Installs the stand-in as moto's ECS module; returns (install, backends)."""
    backends: dict[str, dict[str, FakeEcsBackend]] = {"111122223333": {"eu-west-1": FakeEcsBackend()}}
    module = types.ModuleType(ECS_MODELS)
    module.ecs_backends = backends  # type: ignore[attr-defined]
    monkeypatch.delitem(sys.modules, ECS_MODELS, raising=False)

    def install() -> None:
        monkeypatch.setitem(sys.modules, ECS_MODELS, module)

    return install, backends["111122223333"]["eu-west-1"]


def test_cluster_name_is_read_from_the_arn():
    assert ClusterName.of(ARN) == ClusterName("111122223333", "eu-west-1", "AWSBatch-ce-0f1e")
    assert ClusterName.of("arn:aws:batch:eu-west-1:111122223333:compute-environment/ce") is None


def test_a_cluster_added_before_moto_is_loaded_reaches_it_before_the_first_ecs_request(moto_ecs):
    install, backend = moto_ecs
    clusters = EcsClusters()
    clusters.add(ARN)
    clusters.materialise(load=False)  # a request for another service: ECS still not loaded
    assert backend.clusters == {}

    install()  # what importing moto's ECS for the request would do
    clusters.materialise(load=True)

    assert list(backend.clusters) == ["AWSBatch-ce-0f1e"]


def test_a_cluster_added_while_moto_is_loaded_is_written_at_once(moto_ecs):
    install, backend = moto_ecs
    install()
    EcsClusters().add(ARN)
    assert list(backend.clusters) == ["AWSBatch-ce-0f1e"]


def test_a_cluster_lost_by_a_reset_of_moto_is_written_again(moto_ecs):
    install, backend = moto_ecs
    install()
    clusters = EcsClusters()
    clusters.add(ARN)
    backend.clusters.clear()  # another emulator in the process reset moto
    clusters.materialise(load=False)
    assert list(backend.clusters) == ["AWSBatch-ce-0f1e"]


def test_removed_and_cleared_clusters_are_not_written_again(moto_ecs):
    install, backend = moto_ecs
    install()
    clusters = EcsClusters()
    clusters.add(ARN)
    clusters.remove(ARN)
    assert backend.clusters == {}

    clusters.add(ARN)
    clusters.clear()
    backend.clusters.clear()
    clusters.materialise(load=True)
    assert backend.clusters == {}
