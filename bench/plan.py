"""Sizes and repetitions for a full run and for `--quick` (small sizes, for the smoke test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    api_calls: int  # per target, per thread count, for SubmitJob
    heavy_api_calls: int  # the same for DescribeJobs and DescribeJobDefinitions (100 items per answer)
    rounds: int  # interleaved emulator/moto/floor rounds the calls are split over
    revisions: int
    latency_jobs: int  # SubmitJob -> SUCCEEDED samples per executor
    docker_latency_jobs: int
    array_sizes: tuple[int, ...]
    docker_array_sizes: tuple[int, ...]
    store_sizes: tuple[int, ...]
    moto_store_sizes: tuple[int, ...]
    fill_threads: int = 8
    # The dashboard workload: top-level jobs stored, then one array of this many children.
    dashboard_jobs: int = 100_000
    dashboard_array_size: int = 10_000
    dashboard_requests: int = 30  # per page
    dashboard_rounds: int = 3  # array runs without and with open dashboards, interleaved
    # `server` workload (wrk): seconds per run, interleaved rounds, and the stored jobs at which
    # the first ListJobs page is timed (the second over the first is the growth target).
    server_seconds: float = 3.0
    server_rounds: int = 3
    server_store_sizes: tuple[int, int] = (1000, 10_000)


FULL = Plan(
    name="full",
    api_calls=1000,
    heavy_api_calls=200,
    rounds=5,
    revisions=1000,
    latency_jobs=50,
    docker_latency_jobs=15,
    array_sizes=(1000, 10_000),
    docker_array_sizes=(100,),
    store_sizes=(1000, 10_000, 100_000),
    moto_store_sizes=(1000,),
)

QUICK = Plan(
    name="quick",
    api_calls=100,
    heavy_api_calls=40,
    rounds=2,
    revisions=100,
    latency_jobs=10,
    docker_latency_jobs=3,
    array_sizes=(100,),
    docker_array_sizes=(10,),
    store_sizes=(500, 2000),
    moto_store_sizes=(500,),
    dashboard_jobs=2000,
    dashboard_array_size=500,
    dashboard_requests=10,
    dashboard_rounds=1,
    server_seconds=1.0,
    server_rounds=1,
    server_store_sizes=(200, 1000),
)
