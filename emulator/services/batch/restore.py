"""After a restart on a state directory: tell the engine the control plane the store still holds.

The engine keeps compute environments, job queues and consumable resources in memory, pushed by
the Create/Update calls (`_publish_environment`, `_publish_queue`, `put_consumable_resource`), and
so does the account's ECS its clusters (`clusters.add`). `republish_topology` pushes them again the
same way, skipping what is being deleted, and moves the
provider's creation counter past the highest stored one so new resources sort after old ones.

Known gap: a NON_REPLENISHABLE consumable resource comes back with the total its document last
recorded (at its last create or update); quantities consumed by jobs that ended after that are
given back by a restart.
"""

from __future__ import annotations

import itertools
from typing import Any

from emulator.services.batch import (
    consumables,
    definitions,
    environments,
    lifecycle,
    policies,
    queues,
    quota_shares,
    service_environments,
)
from emulator.services.batch.resources import SEQUENCE

COUNTED_KINDS = (
    environments.KIND,
    queues.KIND,
    definitions.KIND,
    policies.KIND,
    consumables.KIND,
    service_environments.KIND,
    quota_shares.KIND,
)


def republish_topology(batch: Any) -> bool:
    """Push the stored topology to `batch.engine`; True when the store held any resource."""
    store = batch.store
    highest = 0
    found = False
    for kind in COUNTED_KINDS:
        for document in store.list(kind):
            found = True
            highest = max(highest, int(document.get(SEQUENCE, 0)))
    batch._sequence = itertools.count(highest + 1)
    for document in store.list(environments.KIND):
        if not lifecycle.is_deleting(document):
            batch.clusters.add(document["ecsClusterArn"])  # moto's ECS keeps nothing across a restart
            batch._publish_environment(document)
    for document in store.list(consumables.KIND):
        batch.engine.put_consumable_resource(consumables._engine_resource(document))
    for document in store.list(queues.KIND):
        if not lifecycle.is_deleting(document):
            batch._publish_queue(document)
    return found
