"""What jobs hold while they are placed: fair-share usage per share and consumable resources.

The engine calls these ledgers from its index and placement code, under its own lock; they hold
no lock of their own and never change a Job record. Decisions that read them (who goes next, does
a claim fit) are in `scheduling.py`.

- `ShareIndex`: per fair-share queue, the RUNNABLE jobs of each share in within-share order
  (higher schedulingPriority first, then FIFO) and the vCPUs each share's STARTING/RUNNING jobs
  hold (reference §16.4).
- `ConsumableLedger`: each consumable resource's total and in-use quantity (§4.6, §20). A claim is
  locked when an attempt is placed (STARTING) and given back when the attempt ends; when the job
  ends for good, a NON_REPLENISHABLE quantity is taken off the total instead. An attempt that
  fails and is retried gives its quantity back and locks it again when it is placed again.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from emulator.engine.records import ConsumableResource, Job

NO_SHARE = ""  # jobs without a share identifier (FIFO queues; the API sends one to fair-share queues)


class ShareIndex:
    def __init__(self) -> None:
        self._runnable: dict[str, dict[str, list[tuple]]] = {}  # queue -> share -> sorted keys
        self._keys: dict[str, tuple[str, str, tuple]] = {}  # job id -> (queue, share, key)
        self._running: dict[str, dict[str, float]] = {}  # queue -> share -> vCPUs held

    def add_runnable(self, job: Job, fifo_key: Hashable) -> None:
        share = job.share_identifier or NO_SHARE
        key = (-(job.scheduling_priority or 0), fifo_key)
        bisect.insort(self._runnable.setdefault(job.queue_arn, {}).setdefault(share, []), key)
        self._keys[job.job_id] = (job.queue_arn, share, key)

    def remove_runnable(self, job_id: str) -> None:
        found = self._keys.pop(job_id, None)
        if found is None:
            return
        queue_arn, share, key = found
        keys = self._runnable[queue_arn][share]
        del keys[bisect.bisect_left(keys, key)]
        if not keys:
            del self._runnable[queue_arn][share]

    def runnable_keys(self, queue_arn: str) -> dict[str, list[tuple]]:
        """share -> its RUNNABLE jobs' keys in within-share order; each key ends with the FIFO key."""
        return self._runnable.get(queue_arn, {})

    def hold(self, job: Job) -> None:
        running = self._running.setdefault(job.queue_arn, {})
        share = job.share_identifier or NO_SHARE
        running[share] = running.get(share, 0.0) + job.container.vcpus

    def release(self, job: Job) -> None:
        running = self._running.get(job.queue_arn, {})
        share = job.share_identifier or NO_SHARE
        if share in running:
            running[share] -= job.container.vcpus
            if running[share] <= 1e-9:
                del running[share]

    def running_vcpus(self, queue_arn: str) -> dict[str, float]:
        return self._running.get(queue_arn, {})


@dataclass(frozen=True, slots=True)
class ConsumableUsage:
    """A consumable resource as DescribeConsumableResource reports it."""

    resource: ConsumableResource
    in_use_quantity: int

    @property
    def total_quantity(self) -> int:
        return self.resource.total_quantity

    @property
    def available_quantity(self) -> int:
        return self.resource.total_quantity - self.in_use_quantity


class ConsumableLedger:
    def __init__(self) -> None:
        self._resources: dict[str, ConsumableResource] = {}
        self._in_use: dict[str, int] = {}
        self._consumers: dict[str, dict[str, None]] = {}  # resource ARN -> job ids that claim it

    def put(self, resource: ConsumableResource) -> None:
        """Create or replace; what is in use stays in use."""
        self._resources[resource.arn] = resource

    def remove(self, arn: str) -> None:
        """Jobs still holding it keep their claim until they end; RUNNABLE claimants wait forever
        (AWS's behaviour is unverified, reference §5.6)."""
        self._resources.pop(arn, None)

    def usage(self, arn: str) -> ConsumableUsage | None:
        resource = self._resources.get(arn)
        return None if resource is None else ConsumableUsage(resource, self._in_use.get(arn, 0))

    def available(self) -> dict[str, int]:
        return {
            arn: resource.total_quantity - self._in_use.get(arn, 0)
            for arn, resource in self._resources.items()
        }

    def track(self, job: Job) -> None:
        """Remember a job that claims resources (array parents never run, so only the children)."""
        if job.is_array_parent:
            return
        for claim in job.consumables:
            self._consumers.setdefault(claim.resource_arn, {})[job.job_id] = None

    def consumers(self, arn: str) -> Iterator[str]:
        return iter(list(self._consumers.get(arn, {})))

    def lock(self, job: Job) -> None:
        for claim in job.consumables:
            self._in_use[claim.resource_arn] = self._in_use.get(claim.resource_arn, 0) + claim.quantity

    def give_back(self, job: Job, *, is_final: bool) -> None:
        """The attempt ended. `is_final`: the job ended too, so NON_REPLENISHABLE quantities are
        consumed for good."""
        for claim in job.consumables:
            arn = claim.resource_arn
            self._in_use[arn] = max(0, self._in_use.get(arn, 0) - claim.quantity)
            resource = self._resources.get(arn)
            if is_final and resource is not None and not resource.is_replenishable:
                self._resources[arn] = ConsumableResource(
                    resource.arn,
                    resource.name,
                    max(0, resource.total_quantity - claim.quantity),
                    resource.kind,
                )
