"""Creation-ordered job indexes (engine/listing.py) and Engine.page_jobs: pages in ListJobs order
(newest first, then by job id) that match what sorting every job would give."""

from __future__ import annotations

import random

import pytest
from engine_kit import World

from emulator.engine.listing import JobListing
from emulator.engine.records import JobStatus
from emulator.executors.simulated import Outcome


def listing_order(keys):
    return [job_id for _, job_id in sorted(keys, key=lambda key: (-key[0], key[1]))]


def test_listing_is_newest_first_then_by_job_id_whatever_the_insertion_order():
    keys = [(ms, f"job-{n}") for ms in (5, 1, 3) for n in (2, 0, 1)]
    listing = JobListing()
    for key in random.Random(7).sample(keys, len(keys)):
        listing.add(key)
    assert list(listing.newest()) == listing_order(keys)
    assert len(listing) == len(keys)


@pytest.mark.parametrize(
    "after",
    [(3, "job-0"), (3, "job-15"), (9, "job-0"), (1, "job-2"), (0, "job-0")],
    ids=["held-key", "missing-key", "newer-than-all", "last-key", "older-than-all"],
)
def test_listing_resumes_after_a_key(after):
    keys = [(ms, f"job-{n}") for ms in (1, 3, 5) for n in range(3)]
    listing = JobListing()
    for key in keys:
        listing.add(key)
    expected = [
        job_id
        for ms, job_id in sorted(keys, key=lambda key: (-key[0], key[1]))
        if (-ms, job_id) > (-after[0], after[1])
    ]
    assert list(listing.newest(after)) == expected


def test_listing_discard_removes_only_the_key_given():
    listing = JobListing()
    for key in [(1, "a"), (1, "b"), (2, "a")]:
        listing.add(key)
    listing.discard((1, "b"))
    listing.discard((7, "zz"))  # not held: nothing happens
    assert list(listing.newest()) == ["a", "a"]
    assert list(listing) == ["a", "a"]


def reference_page(world: World, status: JobStatus, after=None, **source) -> list[str]:
    """What ListJobs showed before the indexes: every job, filtered and sorted."""
    jobs = [job for job in world.engine.list_jobs(**source) if job.status is status]
    keys = sorted((-job.created_at_ms, job.job_id) for job in jobs)
    if after is not None:
        keys = [key for key in keys if key > (-after[0], after[1])]
    return [job_id for _, job_id in keys]


def walk(world: World, status: JobStatus, limit: int, **source) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = world.engine.page_jobs(status, after=after, limit=limit, **source)
        if not page:
            return pages
        pages.append([job.job_id for job in page])
        after = (page[-1].created_at_ms, page[-1].job_id)


def populate(world: World, count: int) -> None:
    """Jobs created several per millisecond, some failing, some still running or queued."""
    world.executor.script("bad", Outcome(exit_code=1))
    world.executor.script("slow", Outcome(duration_ms=60_000))
    names = ["ok", "bad", "slow"]
    for n in range(count):
        world.submit(names[n % 3])
        if n % 4 == 3:
            world.clock.advance(1)
        if n % 10 == 9:
            world.passes(3)


@pytest.mark.parametrize("status", list(JobStatus), ids=[status.value for status in JobStatus])
def test_queue_pages_match_sorting_every_job(world, status):
    world.engine.max_running = 12
    populate(world, 90)
    source = {"queue_arn": world.engine.list_jobs()[0].queue_arn}
    expected = reference_page(world, status, **source)
    pages = walk(world, status, 7, **source)
    assert [job_id for page in pages for job_id in page] == expected
    assert all(len(page) == 7 for page in pages[:-1])


def test_queue_page_follows_jobs_that_change_status(world):
    populate(world, 30)
    queue_arn = world.engine.list_jobs()[0].queue_arn
    before = reference_page(world, JobStatus.RUNNING, queue_arn=queue_arn)
    assert before
    world.advance(61_000)
    world.passes(3)
    for status in (JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED):
        expected = reference_page(world, status, queue_arn=queue_arn)
        assert [j.job_id for j in world.engine.page_jobs(status, queue_arn=queue_arn, limit=1000)] == expected


def test_page_after_a_key_matches_the_reference_and_where_filters(world):
    populate(world, 40)
    queue_arn = world.engine.list_jobs()[0].queue_arn
    everything = world.engine.page_jobs(JobStatus.SUCCEEDED, queue_arn=queue_arn, limit=1000)
    middle = everything[len(everything) // 2]
    after = (middle.created_at_ms, middle.job_id)
    found = world.engine.page_jobs(JobStatus.SUCCEEDED, queue_arn=queue_arn, after=after, limit=1000)
    assert [job.job_id for job in found] == reference_page(
        world, JobStatus.SUCCEEDED, after, queue_arn=queue_arn
    )
    odd = world.engine.page_jobs(
        JobStatus.SUCCEEDED, queue_arn=queue_arn, limit=3, where=lambda job: int(job.job_id[-1]) % 2 == 1
    )
    assert [job.job_id for job in odd] == [
        job_id
        for job_id in reference_page(world, JobStatus.SUCCEEDED, queue_arn=queue_arn)
        if int(job_id[-1]) % 2
    ][:3]


def test_array_children_pages_match_sorting_every_child(world):
    world.engine.max_running = 4
    parent = world.submit("array", array_size=25)
    world.passes(3)
    for status in (JobStatus.RUNNABLE, JobStatus.SUCCEEDED):
        expected = reference_page(world, status, array_job_id=parent.job_id)
        assert expected
        pages = walk(world, status, 4, array_job_id=parent.job_id)
        assert [job_id for page in pages for job_id in page] == expected
    assert world.engine.page_jobs(JobStatus.RUNNABLE, queue_arn=parent.queue_arn, limit=100) == []


def test_page_of_an_unknown_or_plain_parent_is_empty(world):
    plain = world.submit()
    assert world.engine.page_jobs(JobStatus.SUBMITTED, array_job_id=plain.job_id) == []
    assert world.engine.page_jobs(JobStatus.SUBMITTED, array_job_id="nope") == []
    assert world.engine.page_jobs(JobStatus.SUBMITTED, multi_node_job_id=plain.job_id) == []
    assert world.engine.page_jobs(JobStatus.SUBMITTED, queue_arn="arn:unknown") == []
