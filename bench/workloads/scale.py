"""Scale: one simulated-executor server filled, through SubmitJob from several threads, to each
store size in turn (1,000, 10,000, 100,000 finished jobs). At each size: the server's RSS, the time
of a ListJobs page (first page and pages deep in the walk, 1 and 8 threads), and the scheduling
latency of a new job (SubmitJob -> SUCCEEDED), which must not grow with history.

moto is filled to its (smaller) sizes too; its ListJobs ignores maxResults and returns every job,
which the table notes. The floor replays the emulator's own first page.
"""

from __future__ import annotations

import time
from typing import Any

from bench import jobs, resources, servers
from bench.plan import Plan
from bench.report import Report, Row
from bench.timing import run_threads, summarize
from bench.workloads.api import _install_canned, _record_answers

WARM_UP_JOBS = 100
DEEP_PAGES = 10
BYTES_PER_JOB_TARGET = 2048
PAGE_GROWTH_TARGET = 1.5


def run(report: Report, plan: Plan) -> None:
    emulator = servers.start_emulator("simulated")
    floor = servers.start_floor()
    try:
        emulator_stages = _grow(emulator, plan, plan.store_sizes, floor_url=floor.url)
    finally:
        emulator.stop()
        floor.stop()
    moto = servers.start_moto()
    try:
        moto_stages = _grow(moto, plan, plan.moto_store_sizes, is_moto=True)
    finally:
        moto.stop()
    report.raw["scale"] = {"emulator": emulator_stages, "moto": moto_stages}
    _add_rows(report, emulator_stages, moto_stages)


def _list_page(client: Any, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"jobQueue": resources.QUEUE, "jobStatus": "SUCCEEDED", "maxResults": 100}
    if token:
        kwargs["nextToken"] = token
    return client.list_jobs(**kwargs)


def _fill(server: servers.ServerProcess, start: int, stop: int, threads: int) -> float:
    """Submit jobs start..stop-1 and wait until the last hundred finished. Returns jobs/s."""
    submitted: dict[int, str] = {}

    def submit(client: Any, i: int) -> None:
        submitted[i] = client.submit_job(
            jobName=f"fill-{start + i}", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
        )["jobId"]

    started = time.perf_counter()
    run_threads(lambda: resources.client(server.url), submit, threads=threads, count=stop - start)
    client = resources.client(server.url)
    last = [submitted[i] for i in sorted(submitted)[-100:]]
    deadline = time.monotonic() + 600
    while not all(job["status"] == "SUCCEEDED" for job in client.describe_jobs(jobs=last)["jobs"]):
        if time.monotonic() > deadline:
            raise TimeoutError("filled jobs did not finish")
        time.sleep(0.1)
    return (stop - start) / (time.perf_counter() - started)


def _grow(
    server: servers.ServerProcess,
    plan: Plan,
    sizes: tuple[int, ...],
    *,
    is_moto: bool = False,
    floor_url: str | None = None,
) -> list[dict[str, Any]]:
    resources.set_up(server.url, is_moto=is_moto)
    client = resources.client(server.url)
    _fill(server, 0, WARM_UP_JOBS, plan.fill_threads)
    time.sleep(1)
    baseline = server.sample()
    stages: list[dict[str, Any]] = []
    stored = WARM_UP_JOBS
    for size in sizes:
        fill_rate = _fill(server, stored, size, plan.fill_threads)
        stored = size
        time.sleep(1)
        sample = server.sample()
        stage: dict[str, Any] = {
            "stored_jobs": size,
            "fill_jobs_per_second": fill_rate,
            "rss_kib": sample.rss_kib,
            "threads": sample.threads,
            "bytes_per_job_since_warm_up": (sample.rss_kib - baseline.rss_kib) * 1024 / (size - WARM_UP_JOBS),
            "first_page": {},
        }
        calls = max(20, plan.api_calls // 5)
        for threads in (1, 8):
            latencies, wall = run_threads(
                lambda: resources.client(server.url), lambda c, i: _list_page(c), threads=threads, count=calls
            )
            stage["first_page"][threads] = summarize(latencies, wall).as_dict()
        stage["deep_pages"] = _walk(client, DEEP_PAGES)
        stage["first_page_items"] = len(_list_page(client)["jobSummaryList"])
        scheduling = [jobs.time_to_done(client) for _ in range(plan.latency_jobs)]
        stage["scheduling"] = summarize(scheduling, sum(scheduling)).as_dict()
        if floor_url and not stages:
            stage["floor_first_page"] = _floor_page(server.url, floor_url, calls)
        stages.append(stage)
    return stages


def _walk(client: Any, pages: int) -> dict[str, Any]:
    """Follow nextToken for `pages` pages; the page times after the first."""
    token = _list_page(client).get("nextToken")
    times: list[float] = []
    while token and len(times) < pages:
        started = time.perf_counter()
        token = _list_page(client, token).get("nextToken")
        times.append(time.perf_counter() - started)
    return summarize(times, sum(times)).as_dict() if times else {}


def _floor_page(emulator_url: str, floor_url: str, calls: int) -> dict[str, Any]:
    recorder, answers = _record_answers(emulator_url)
    _list_page(recorder)
    _install_canned(floor_url, answers)
    latencies, wall = run_threads(
        lambda: resources.client(floor_url), lambda c, i: _list_page(c), threads=1, count=calls
    )
    return summarize(latencies, wall).as_dict()


def _add_rows(report: Report, stages: list[dict[str, Any]], moto_stages: list[dict[str, Any]]) -> None:
    moto_by_size = {stage["stored_jobs"]: stage for stage in moto_stages}
    floor_page = stages[0].get("floor_first_page", {}).get("p50_ms")
    for stage in stages:
        size = stage["stored_jobs"]
        moto = moto_by_size.get(size)
        report.add(
            Row(
                f"ListJobs first page p50 @ {size:,} stored, 1t",
                "ms",
                stage["first_page"][1]["p50_ms"],
                moto["first_page"][1]["p50_ms"] if moto else None,
                floor_page,
                note=f"moto returns all {moto['first_page_items']:,} jobs (no paging)"
                if moto and moto["first_page_items"] > 100
                else "",
            )
        )
        report.add(
            Row(
                f"ListJobs first page throughput @ {size:,}, 8t",
                "req/s",
                stage["first_page"][8]["per_second"],
                moto["first_page"][8]["per_second"] if moto else None,
            )
        )
        report.add(Row(f"ListJobs deep page p50 @ {size:,}", "ms", stage["deep_pages"].get("p50_ms")))
        report.add(
            Row(
                f"scheduling latency p50 @ {size:,} stored",
                "ms",
                stage["scheduling"]["p50_ms"],
                moto["scheduling"]["p50_ms"] if moto else None,
            )
        )
        per_job = report.add(
            Row(
                f"server memory per finished job @ {size:,}",
                "bytes",
                stage["bytes_per_job_since_warm_up"],
                moto["bytes_per_job_since_warm_up"] if moto else None,
                target=f"< {BYTES_PER_JOB_TARGET}",
                note=f"RSS {stage['rss_kib'] / 1024:.0f} MiB; filled at {stage['fill_jobs_per_second']:.0f} jobs/s",
            )
        )
        per_job.met = per_job.emulator < BYTES_PER_JOB_TARGET
    first, last = stages[0], stages[-1]
    if len(stages) > 1:
        before = stages[-2]
        marginal = (
            (last["rss_kib"] - before["rss_kib"]) * 1024 / (last["stored_jobs"] - before["stored_jobs"])
        )
        report.add(
            Row(
                f"server memory per finished job, {before['stored_jobs']:,} -> {last['stored_jobs']:,}",
                "bytes",
                marginal,
                target=f"< {BYTES_PER_JOB_TARGET}",
                met=marginal < BYTES_PER_JOB_TARGET,
                note="marginal: RSS growth over the jobs added between the last two sizes, past fixed-size "
                "buffers (the 10,000-event buffer fills in the first stages)",
            )
        )
    growth = last["first_page"][1]["p50_ms"] / first["first_page"][1]["p50_ms"]
    report.add(
        Row(
            f"ListJobs page p50 @ {last['stored_jobs']:,} / @ {first['stored_jobs']:,}",
            "ratio",
            growth,
            target=f"<= {PAGE_GROWTH_TARGET}",
            met=growth <= PAGE_GROWTH_TARGET,
        )
    )
    deep_growth = last["deep_pages"].get("p50_ms", float("nan")) / first["deep_pages"].get(
        "p50_ms", float("nan")
    )
    report.add(
        Row(
            f"ListJobs deep page p50 @ {last['stored_jobs']:,} / @ {first['stored_jobs']:,}",
            "ratio",
            deep_growth,
            target=f"<= {PAGE_GROWTH_TARGET}",
            met=deep_growth <= PAGE_GROWTH_TARGET,
        )
    )
    sched_growth = last["scheduling"]["p50_ms"] / first["scheduling"]["p50_ms"]
    report.add(
        Row(
            f"scheduling latency p50 @ {last['stored_jobs']:,} / @ {first['stored_jobs']:,}",
            "ratio",
            sched_growth,
            target="flat (<= 1.5)",
            met=sched_growth <= 1.5,
        )
    )
