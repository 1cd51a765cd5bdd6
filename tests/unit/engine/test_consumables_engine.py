"""Consumable resources in the engine (reference §4.6, §20): claims wait RUNNABLE until available,
are locked at STARTING, given back when the attempt ends, and NON_REPLENISHABLE quantities leave
the total when the job ends."""

from __future__ import annotations

from engine_kit import ACCOUNT, REGION, World

from emulator.engine.records import ConsumableClaim, ConsumableResource, JobStatus, RetryPolicy
from emulator.executors.simulated import Outcome

LICENSES = f"arn:aws:batch:{REGION}:{ACCOUNT}:consumable-resource/licenses"
TOKENS = f"arn:aws:batch:{REGION}:{ACCOUNT}:consumable-resource/tokens"
SLOW = {"BATCH_EMULATOR_DURATION_MS": "10000"}


def resource(total: int, arn: str = LICENSES, kind: str = "REPLENISHABLE") -> ConsumableResource:
    return ConsumableResource(arn=arn, name=arn.rsplit("/", 1)[-1], total_quantity=total, kind=kind)


def claim(quantity: int, arn: str = LICENSES) -> tuple[ConsumableClaim, ...]:
    return (ConsumableClaim(arn, quantity),)


def usage(world: World, arn: str = LICENSES) -> tuple[int, int, int]:
    found = world.engine.consumable_usage(arn)
    return found.total_quantity, found.in_use_quantity, found.available_quantity


def test_claim_waits_runnable_until_the_quantity_is_free(world):
    world.engine.put_consumable_resource(resource(3))
    first = world.submit(name="first", consumables=claim(2), env=SLOW)
    second = world.submit(name="second", consumables=claim(2), env=SLOW)
    world.passes(2)
    assert world.status(first.job_id) is JobStatus.RUNNING
    assert world.status(second.job_id) is JobStatus.RUNNABLE
    assert world.job(second.job_id).status_reason is None
    assert usage(world) == (3, 2, 1)
    world.advance(10_000)  # first ends and gives its 2 back; second takes them in the same pass
    assert world.status(first.job_id) is JobStatus.SUCCEEDED
    assert world.status(second.job_id) is JobStatus.STARTING
    assert usage(world) == (3, 2, 1)
    world.passes(1)
    world.advance(10_000)
    assert usage(world) == (3, 0, 3)


def test_a_waiting_head_holds_back_its_fifo_queue(world):
    world.engine.put_consumable_resource(resource(1))
    world.submit(name="holder", consumables=claim(1), env=SLOW)
    waiting = world.submit(name="waiting", consumables=claim(1))
    behind = world.submit(name="behind")
    world.passes(2)
    assert world.status(waiting.job_id) is JobStatus.RUNNABLE
    assert world.status(behind.job_id) is JobStatus.RUNNABLE


def test_every_claimed_resource_must_be_available(world):
    world.engine.put_consumable_resource(resource(5))
    world.engine.put_consumable_resource(resource(0, arn=TOKENS))
    job = world.submit(consumables=(ConsumableClaim(LICENSES, 1), ConsumableClaim(TOKENS, 1)))
    world.passes(2)
    assert world.status(job.job_id) is JobStatus.RUNNABLE
    world.engine.put_consumable_resource(resource(1, arn=TOKENS))
    world.passes(1)
    assert world.status(job.job_id) is not JobStatus.RUNNABLE


def test_more_than_the_total_waits_forever(world):
    world.engine.put_consumable_resource(resource(2))
    job = world.submit(consumables=claim(3))
    world.passes(3)
    world.advance(3_600_000)
    assert world.status(job.job_id) is JobStatus.RUNNABLE


def test_unknown_resource_has_nothing_available(world):
    job = world.submit(consumables=claim(1))
    world.passes(2)
    assert world.status(job.job_id) is JobStatus.RUNNABLE


def test_non_replenishable_quantity_leaves_the_total_when_the_job_ends(world):
    world.engine.put_consumable_resource(resource(5, kind="NON_REPLENISHABLE"))
    job = world.submit(consumables=claim(2), env=SLOW)
    world.passes(2)
    assert usage(world) == (5, 2, 3)
    world.advance(10_000)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert usage(world) == (3, 0, 3)


def test_a_retried_attempt_gives_back_and_locks_again_and_consumes_once(world):
    world.engine.put_consumable_resource(resource(5, kind="NON_REPLENISHABLE"))
    world.executor.script("flaky", Outcome(exit_code=1), Outcome())
    job = world.submit(name="flaky", consumables=claim(2), retry=RetryPolicy(attempts=2))
    world.passes(1)
    assert usage(world) == (5, 2, 3)
    world.passes(1)  # attempt 1 fails: back to RUNNABLE and placed again in the same pass
    assert world.job(job.job_id).status is JobStatus.STARTING
    assert usage(world) == (5, 2, 3)
    world.passes(2)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert usage(world) == (3, 0, 3)


def test_failed_job_returns_a_replenishable_quantity(world):
    world.engine.put_consumable_resource(resource(1))
    world.executor.script("bad", Outcome(exit_code=3))
    job = world.submit(name="bad", consumables=claim(1))
    world.passes(3)
    assert world.status(job.job_id) is JobStatus.FAILED
    assert usage(world) == (1, 0, 1)


def test_terminated_job_gives_its_quantity_back(world):
    world.engine.put_consumable_resource(resource(1))
    job = world.submit(consumables=claim(1), env=SLOW)
    world.passes(2)
    world.engine.request_terminate(job.job_id, "stop")
    world.passes(2)
    assert world.status(job.job_id) is JobStatus.FAILED
    assert usage(world) == (1, 0, 1)


def test_array_children_each_lock_their_own_quantity(world):
    world.engine.put_consumable_resource(resource(2))
    parent = world.submit(name="array", array_size=3, consumables=claim(1), env=SLOW)
    world.passes(3)
    statuses = sorted(world.status(f"{parent.job_id}:{index}").value for index in range(3))
    assert statuses == ["RUNNABLE", "RUNNING", "RUNNING"]
    assert usage(world) == (2, 2, 0)
    listed = [job.job_id for job in world.engine.jobs_using_consumable(LICENSES)]
    assert listed == [f"{parent.job_id}:{index}" for index in range(3)]


def test_raising_the_total_keeps_what_is_in_use(world):
    world.engine.put_consumable_resource(resource(1))
    world.submit(name="holder", consumables=claim(1), env=SLOW)
    waiting = world.submit(name="waiting", consumables=claim(1))
    world.passes(2)
    world.engine.put_consumable_resource(resource(2))
    world.passes(1)
    assert world.status(waiting.job_id) is JobStatus.STARTING
    assert usage(world) == (2, 2, 0)


def test_jobs_without_claims_are_not_listed_and_reset_forgets_resources(world):
    world.engine.put_consumable_resource(resource(1))
    world.submit(name="plain")
    claimant = world.submit(name="claimant", consumables=claim(1))
    assert [job.job_id for job in world.engine.jobs_using_consumable(LICENSES)] == [claimant.job_id]
    world.engine.reset()
    assert world.engine.consumable_usage(LICENSES) is None
    assert world.engine.jobs_using_consumable(LICENSES) == []
