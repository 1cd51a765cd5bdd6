"""What jobs hold while they are placed: fair-share usage per share and consumable resources.

The engine calls these ledgers from its index and placement code, under its own lock; they hold
no lock of their own and never change a Job record. Decisions that read them (who goes next, does
a claim fit) are in `scheduling.py`.

- `ShareIndex`: per fair-share queue, the RUNNABLE jobs of each share in within-share order
  (higher schedulingPriority first, then FIFO) and each share's usage (reference §16.4): the vCPUs
  its STARTING/RUNNING jobs hold now plus its recent history, the vCPU-seconds it used decayed
  exponentially over the policy's `shareDecaySeconds` and divided by that window, so a share that
  ran a lot a minute ago still counts against itself while one that ran an hour ago barely does.
  A share stays active (for `computeReservation` and prefix weights) while it has jobs and for one
  decay window after its last job ended.
- `ConsumableLedger`: each consumable resource's total and in-use quantity (§4.6, §20). A claim is
  locked when an attempt is placed (STARTING) and given back when the attempt ends; when the job
  ends for good, a NON_REPLENISHABLE quantity is taken off the total instead. An attempt that
  fails and is retried gives its quantity back and locks it again when it is placed again.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from emulator.engine.records import ConsumableResource, Job

NO_SHARE = ""  # jobs without a share identifier (FIFO queues; the API sends one to fair-share queues)


# shareDecaySeconds of 0: "the default minimum time window (600 seconds)", as the model documents.
DEFAULT_DECAY_SECONDS = 600


FORGET_AFTER_WINDOWS = 5


def decay_window_seconds(share_decay_seconds: int) -> float:
    return float(share_decay_seconds or DEFAULT_DECAY_SECONDS)


@dataclass(slots=True)
class _ShareUsage:
    held: float = 0.0  # vCPUs its STARTING/RUNNING jobs hold now
    history: float = 0.0  # vCPU-seconds used, each decayed by exp(-age / window)
    at_ms: int = 0  # when `history` was last brought up to date
    last_held_ms: int | None = None  # when it last held anything

    def advance(self, now_ms: int, window_seconds: float) -> None:
        """Bring `history` up to `now_ms`: decay it and add what `held` used meanwhile."""
        elapsed = max(0, now_ms - self.at_ms) / 1000
        if elapsed:
            kept = math.exp(-elapsed / window_seconds)
            self.history = self.history * kept + self.held * window_seconds * (1 - kept)
        self.at_ms = max(self.at_ms, now_ms)
        if self.held > 0:
            self.last_held_ms = self.at_ms

    def vcpus(self, window_seconds: float) -> float:
        return self.held + self.history / window_seconds


class ShareIndex:
    def __init__(self) -> None:
        self._runnable: dict[str, dict[str, list[tuple]]] = {}  # queue -> share -> sorted keys
        self._keys: dict[str, tuple[str, str, tuple]] = {}  # job id -> (queue, share, key)
        self._usage: dict[str, dict[str, _ShareUsage]] = {}  # queue -> share -> usage

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

    def hold(self, job: Job, now_ms: int, window_seconds: float) -> None:
        usage = self._share_usage(job, now_ms, window_seconds)
        usage.held += job.container.vcpus
        usage.last_held_ms = now_ms

    def release(self, job: Job, now_ms: int, window_seconds: float) -> None:
        usage = self._share_usage(job, now_ms, window_seconds)
        usage.held = max(0.0, usage.held - job.container.vcpus)

    def usage_vcpus(self, queue_arn: str, now_ms: int, window_seconds: float) -> dict[str, float]:
        """share -> its usage in vCPUs now: what it holds plus its decayed history. A share idle
        for FORGET_AFTER_WINDOWS windows has under 1 % of its history left and is forgotten."""
        shares = self._usage.get(queue_arn, {})
        for share, usage in list(shares.items()):
            usage.advance(now_ms, window_seconds)
            if (
                usage.held <= 0
                and now_ms - (usage.last_held_ms or 0) >= FORGET_AFTER_WINDOWS * window_seconds * 1000
            ):
                del shares[share]
        return {share: usage.vcpus(window_seconds) for share, usage in shares.items()}

    def held_vcpus(self, queue_arn: str) -> float:
        return sum(usage.held for usage in self._usage.get(queue_arn, {}).values())

    def active_shares(self, queue_arn: str, now_ms: int, window_seconds: float) -> set[str]:
        """Shares with jobs in the queue, or whose last job ended less than a window ago."""
        recent = {
            share
            for share, usage in self._usage.get(queue_arn, {}).items()
            if usage.held > 0
            or (usage.last_held_ms is not None and now_ms - usage.last_held_ms < window_seconds * 1000)
        }
        return set(self.runnable_keys(queue_arn)) | recent

    def _share_usage(self, job: Job, now_ms: int, window_seconds: float) -> _ShareUsage:
        shares = self._usage.setdefault(job.queue_arn, {})
        usage = shares.get(job.share_identifier or NO_SHARE)
        if usage is None:
            usage = shares[job.share_identifier or NO_SHARE] = _ShareUsage(at_ms=now_ms)
        usage.advance(now_ms, window_seconds)
        return usage


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
