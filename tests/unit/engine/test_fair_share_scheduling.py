"""Fair-share scheduling (reference §16.4) through the engine and as pure decisions.

Model under test (scheduling.py, usage.py): a share's usage is the vCPUs its STARTING/RUNNING jobs
hold now plus its decayed history (vCPU-seconds over `shareDecaySeconds`), times its weightFactor;
the lowest usage goes next. A smaller weightFactor means a larger share, so
weights 1 and 3 settle at 3:1 of the capacity."""

from __future__ import annotations

from collections import Counter

import pytest
from engine_kit import World, compute_environment, job_queue, make_world, queue_arn

from emulator.engine import scheduling
from emulator.engine.records import FairSharePolicy, JobStatus

PLACED = (JobStatus.STARTING, JobStatus.RUNNING)
DURATION_MS = 10_000


def fair_world(
    weights: dict[str, float],
    max_vcpus: float = 8,
    compute_reservation: int = 0,
    share_decay_seconds: int = 0,
) -> World:
    world = make_world(topology=False)
    world.engine.put_compute_environment(compute_environment(max_vcpus=max_vcpus))
    policy = FairSharePolicy(
        share_decay_seconds=share_decay_seconds,
        compute_reservation=compute_reservation,
        weights=tuple(weights.items()),
    )
    world.engine.put_queue(job_queue(is_fair_share=True, fair_share=policy))
    return world


def submit_interleaved(world: World, shares: str, count: int, duration_ms: int = DURATION_MS) -> list[str]:
    ids = []
    for number in range(count):
        for share in shares:
            job = world.submit(
                name=f"{share}{number}",
                share_identifier=share,
                env={"BATCH_EMULATOR_DURATION_MS": str(duration_ms)},
            )
            ids.append(job.job_id)
    return ids


def placed_by_share(world: World, ids: list[str]) -> Counter:
    return Counter(world.job(i).share_identifier for i in ids if world.status(i) in PLACED)


def starts_by_share(world: World, ids: list[str], until_ms: int) -> Counter:
    counts: Counter = Counter()
    for job_id in ids:
        job = world.job(job_id)
        counts[job.share_identifier] += sum(
            1 for status, at in job.transitions if status is JobStatus.STARTING and at < until_ms
        )
    return counts


def test_weights_1_and_3_fill_capacity_three_to_one():
    world = fair_world({"A": 1.0, "B": 3.0})
    ids = submit_interleaved(world, "AB", 20)
    world.passes(2)
    assert placed_by_share(world, ids) == {"A": 6, "B": 2}


def test_weights_1_and_3_dispatch_three_to_one_over_time():
    world = fair_world({"A": 1.0, "B": 3.0})
    ids = submit_interleaved(world, "AB", 40)
    start = world.clock.now_ms()
    world.passes(2)
    for _ in range(5):  # five generations of 10-second jobs, both shares backlogged throughout
        world.advance(DURATION_MS)
        world.passes(1)
    counts = starts_by_share(world, ids, until_ms=start + 5 * DURATION_MS + 1)
    assert counts == {"A": 36, "B": 12}  # 3:1


def test_weight_one_eighth_gets_eight_times_weight_one():
    world = fair_world({"small": 0.125, "big": 1.0}, max_vcpus=9)
    ids = []
    for number in range(20):
        for share in ("big", "small"):
            ids.append(world.submit(name=f"{share}{number}", share_identifier=share).job_id)
    world.passes(1)
    assert placed_by_share(world, ids) == {"small": 8, "big": 1}


def test_identifiers_not_listed_weigh_one():
    world = fair_world({"A": 1.0})
    ids = submit_interleaved(world, "AX", 10)
    world.passes(1)
    assert placed_by_share(world, ids) == {"A": 4, "X": 4}


def test_within_a_share_higher_priority_first_then_fifo():
    world = fair_world({"A": 1.0}, max_vcpus=1)
    low = world.submit(name="low", share_identifier="A", scheduling_priority=1)
    high_first = world.submit(name="high1", share_identifier="A", scheduling_priority=9)
    high_second = world.submit(name="high2", share_identifier="A", scheduling_priority=9)
    world.passes(1)
    front = [job.name for job in world.engine.queue_front(queue_arn("queue"))]
    assert front == ["high2", "low"]
    assert world.status(high_first.job_id) in PLACED
    assert world.status(low.job_id) is JobStatus.RUNNABLE
    assert world.status(high_second.job_id) is JobStatus.RUNNABLE


def test_queue_front_follows_the_fair_share_dispatch_order():
    world = fair_world({"A": 1.0, "B": 3.0}, max_vcpus=4)
    world.engine.put_compute_environment(compute_environment(max_vcpus=4, is_enabled=False))
    ids = submit_interleaved(world, "AB", 10)
    world.passes(1)  # all RUNNABLE, nowhere to go
    predicted = [job.name for job in world.engine.queue_front(queue_arn("queue"), limit=8)]
    # From zero usage: ties go to the share whose head became RUNNABLE first; A (weight 1) gains
    # 1 per job, B (weight 3) gains 3.
    assert predicted == ["A0", "B0", "A1", "A2", "B1", "A3", "A4", "A5"]
    world.engine.put_compute_environment(compute_environment(max_vcpus=4))
    world.passes(1)
    placed = {world.job(i).name for i in ids if world.status(i) in PLACED}
    assert placed == set(predicted[:4])
    # With A holding 3 vCPUs (usage 3) and B 1 (usage 3), the front is recomputed from there.
    assert [job.name for job in world.engine.queue_front(queue_arn("queue"), limit=4)] == [
        "B1",
        "A3",
        "A4",
        "A5",
    ]


def test_queue_front_of_a_fifo_queue_stays_fifo():
    world = make_world()
    for name in ("first", "second", "third"):
        world.submit(name=name, env={"BATCH_EMULATOR_DURATION_MS": "1000"}, vcpus=16)
    world.passes(1)
    assert [job.name for job in world.engine.queue_front(queue_arn("queue"))] == ["second", "third"]


def test_compute_reservation_keeps_capacity_for_inactive_shares():
    world = fair_world({}, max_vcpus=8, compute_reservation=50)
    a_jobs = submit_interleaved(world, "A", 10)
    world.passes(2)
    # One active share: (50/100)^1 = 50% of 8 vCPUs is kept free.
    assert placed_by_share(world, a_jobs) == {"A": 4}
    b_jobs = submit_interleaved(world, "B", 10)
    world.passes(2)
    # Two active shares: 25% (2 vCPUs) kept free; B, the least used, takes the freed room.
    assert placed_by_share(world, a_jobs + b_jobs) == {"A": 4, "B": 2}


def test_updated_policy_takes_effect_on_the_next_pass():
    world = fair_world({"A": 1.0, "B": 1.0})
    ids = submit_interleaved(world, "AB", 20)
    world.passes(2)  # placed, then RUNNING: their ten seconds start now
    assert placed_by_share(world, ids) == {"A": 4, "B": 4}
    world.engine.put_queue(
        job_queue(is_fair_share=True, fair_share=FairSharePolicy(weights=(("A", 3.0), ("B", 1.0))))
    )
    world.advance(DURATION_MS)
    world.passes(1)
    assert placed_by_share(world, ids) == {"A": 2, "B": 6}


def run_share_alone(world: World, share: str, jobs: int, duration_ms: int) -> None:
    """`jobs` jobs of `share`, one after another on a 1-vCPU environment, each `duration_ms` long."""
    for number in range(jobs):
        job = world.submit(
            name=f"{share}-history{number}",
            share_identifier=share,
            env={"BATCH_EMULATOR_DURATION_MS": str(duration_ms)},
        )
        world.passes(2)
        world.advance(duration_ms)
        world.passes(2)
        assert world.status(job.job_id) is JobStatus.SUCCEEDED


def next_two_placed(world: World) -> list[str]:
    """Submit one job of A, then one of B; return their names in the order they are placed."""
    first = world.submit(name="A-new", share_identifier="A", env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    second = world.submit(name="B-new", share_identifier="B", env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.passes(2)
    placed = [job for job in (first, second) if world.status(job.job_id) in PLACED]
    assert len(placed) == 1
    return [placed[0].name]


def test_a_share_that_just_ran_yields_to_one_that_has_not():
    world = fair_world({}, max_vcpus=1, share_decay_seconds=600)
    run_share_alone(world, "A", jobs=3, duration_ms=60_000)
    # A's head became RUNNABLE first, but its three recent minutes of use count against it.
    assert next_two_placed(world) == ["B-new"]


def test_history_decays_over_the_share_decay_window():
    world = fair_world({}, max_vcpus=1, share_decay_seconds=60)
    run_share_alone(world, "A", jobs=3, duration_ms=60_000)
    world.advance(10 * 60_000)  # ten windows later A's use is forgotten: FIFO decides again
    assert next_two_placed(world) == ["A-new"]


def test_share_decay_of_zero_means_the_default_window_of_600_seconds():
    world = fair_world({}, max_vcpus=1, share_decay_seconds=0)
    run_share_alone(world, "A", jobs=3, duration_ms=60_000)
    world.advance(5 * 60_000)  # half a default window: still remembered
    assert next_two_placed(world) == ["B-new"]


def test_compute_reservation_counts_a_share_active_for_one_window_after_its_last_job():
    world = fair_world({}, max_vcpus=8, compute_reservation=50, share_decay_seconds=60)
    run_share_alone(world, "A", jobs=1, duration_ms=1_000)
    b_jobs = submit_interleaved(world, "B", 30)
    world.passes(2)
    # A ended a second ago and is still active: two shares, 25% of 8 vCPUs kept free.
    assert placed_by_share(world, b_jobs) == {"B": 6}
    world.advance(61_000)  # past A's window: one active share, 50% kept free
    world.passes(2)
    assert placed_by_share(world, b_jobs) == {"B": 4}


# ---- pure decisions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "share", "active", "expected"),
    [
        ((("A", 0.5),), "A", (), 0.5),
        ((("A", 0.5),), "B", (), 1.0),
        ((("User*", 1.0),), "UserA", ("UserA", "UserB"), 2.0),
        ((("User*", 1.0),), "UserA", ("UserA",), 1.0),
        ((("User*", 1.0), ("UserA", 0.25)), "UserA", ("UserA", "UserB"), 0.25),
        ((("U*", 5.0), ("User*", 1.0)), "UserA", ("UserA",), 1.0),
    ],
    ids=[
        "listed",
        "unlisted",
        "prefix-times-active",
        "prefix-one-active",
        "exact-beats-prefix",
        "longest-prefix",
    ],
)
def test_share_weight(weights, share, active, expected):
    assert scheduling.share_weight(FairSharePolicy(weights=weights), share, active) == expected


@pytest.mark.parametrize(
    ("reservation", "active", "expected"),
    [(0, 1, None), (50, 1, 8.0), (50, 2, 12.0), (50, 3, 14.0), (99, 1, 0.16)],
    ids=["none", "50%-one-share", "50%-two-shares", "50%-three-shares", "99%"],
)
def test_fair_share_cap(reservation, active, expected):
    queue = job_queue(is_fair_share=True, fair_share=FairSharePolicy(compute_reservation=reservation))
    environments = {compute_environment().arn: compute_environment(max_vcpus=16)}
    cap = scheduling.fair_share_cap_vcpus(queue, environments, active)
    assert cap == (None if expected is None else pytest.approx(expected))


def test_no_reservation_on_unlimited_environments():
    queue = job_queue(is_fair_share=True, fair_share=FairSharePolicy(compute_reservation=50))
    environments = {compute_environment().arn: compute_environment(max_vcpus=None)}
    assert scheduling.fair_share_cap_vcpus(queue, environments, 1) is None
