"""Shared access to the resource store for the Batch families: the provider's collaborators, the
clock, and the caller's live documents with their lazily computed status (see `lifecycle`).

Each family mixin (environments, queues, ...) inherits this; `BatchProvider.__init__` fills it.
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol

from emulator.config import Settings
from emulator.engine.clock import Clock
from emulator.protocol.dispatch import RequestContext
from emulator.services.batch import arns, lifecycle
from emulator.services.batch.references import AccountReferences
from emulator.stores.resources import MemoryResourceStore

SEQUENCE = "_seq"
TAGS_KIND = "tags"


class EcsClusters(Protocol):
    """The account's ECS, where each compute environment's `ecsClusterArn` names a cluster
    (emulator/account/ecs_clusters.py)."""

    def add(self, cluster_arn: str) -> None: ...

    def remove(self, cluster_arn: str) -> None: ...


class NoEcsClusters:
    """No account beside Batch (a provider built alone, in unit tests)."""

    def add(self, cluster_arn: str) -> None:
        pass

    def remove(self, cluster_arn: str) -> None:
        pass


class ResourceAccess:
    store: MemoryResourceStore
    engine: Any
    settings: Settings
    clock: Clock
    # What exists in the account, with --validate-references; None: references are not checked.
    references: AccountReferences | None
    clusters: EcsClusters
    _sequence: itertools.count

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def transition_ms(self) -> int:
        return int(self.settings.transition_seconds * 1000)

    def next_sequence(self) -> int:
        """A creation counter: the stable sort key behind pagination tokens."""
        return next(self._sequence)

    def live_document(self, kind: str, arn: str | None) -> dict[str, Any] | None:
        """The stored document, or None when absent or when its deletion has completed."""
        if arn is None:
            return None
        document = self.store.get(kind, arn)
        if document is None:
            return None
        if lifecycle.is_gone(document, self.now_ms()):
            self._purge(kind, arn)
            return None
        return document

    def live_documents(self, kind: str, ctx: RequestContext) -> list[dict[str, Any]]:
        """The caller's documents of one kind in creation order, purging finished deletions."""
        now = self.now_ms()
        live = []
        for document in self.store.list(kind, arns.tenant_prefix(ctx)):
            if lifecycle.is_gone(document, now):
                self._purge(kind, document["_arn"])
            else:
                live.append(document)
        return sorted(live, key=lambda document: document.get(SEQUENCE, 0))

    def _purge(self, kind: str, arn: str) -> None:
        with self.store.lock:
            self.store.delete(kind, arn)
            self.store.delete(TAGS_KIND, arn)
