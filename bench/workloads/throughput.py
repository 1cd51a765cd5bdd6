"""Throughput: one array job of N trivial children per executor; time to the parent's SUCCEEDED,
children per second, and the server's peak RSS and thread count while it runs.

Each (executor, size) gets a fresh server, so the peak belongs to that run alone. Floors run the
same number of trivial programs, `nproc` at a time (the emulator's default --max-running): fork+exec
of `true` for the process executor, `docker run --rm` for Docker. moto (Docker-less, nothing runs)
is the reference for the simulated executor.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from typing import Any

from bench import jobs, resources, servers
from bench.plan import Plan
from bench.report import Report, Row
from bench.workloads.latency import FLOORS

PROCESS_TARGET_SECONDS = 60


def run(report: Report, plan: Plan) -> None:
    raw: dict[str, Any] = {}
    runs = [("simulated", size) for size in plan.array_sizes] + [
        ("process", size) for size in plan.array_sizes
    ]
    if jobs.has_docker() and jobs.ensure_test_image():
        runs += [("docker", size) for size in plan.docker_array_sizes]
    for executor, size in runs:
        key = f"{executor} x{size}"
        try:
            raw[key] = {"emulator": _run_array(servers.start_emulator(executor), size)}
        except RuntimeError as exc:  # the Docker executor's start-up race; see servers.start_emulator
            raw[key] = {"error": str(exc)}
            report.add(Row(f"array x{size:,} to SUCCEEDED, {executor}", "s", None, note=f"not run: {exc}"))
            continue
        if executor == "simulated":
            raw[key]["moto"] = _run_array(servers.start_moto(), size, is_moto=True)
        if executor in FLOORS:
            raw[key]["floor"] = _run_floor(FLOORS[executor], size)
        _add_rows(report, executor, size, raw[key])
    report.raw["throughput"] = raw


def _run_array(server: servers.ServerProcess, size: int, *, is_moto: bool = False) -> dict[str, Any]:
    try:
        resources.set_up(server.url, is_moto=is_moto)
        client = resources.client(server.url)
        before = server.sample()
        server.start_peak_sampling()
        started = time.perf_counter()
        parent_id = client.submit_job(
            jobName="array",
            jobQueue=resources.QUEUE,
            jobDefinition=resources.DEFINITION,
            arrayProperties={"size": size},
        )["jobId"]
        submitted = time.perf_counter() - started
        status = jobs.wait_for_status(client, parent_id, poll_seconds=0.05, timeout_seconds=1800)
        seconds = time.perf_counter() - started
        peak = server.stop_peak_sampling()
        return {
            "status": status,
            "seconds": seconds,
            "submit_seconds": submitted,
            "children_per_second": size / seconds,
            "rss_before_kib": before.rss_kib,
            "peak_rss_kib": peak.rss_kib,
            "threads_before": before.threads,
            "peak_threads": peak.threads,
        }
    finally:
        server.stop()


def _run_floor(argv: list[str], size: int) -> dict[str, Any]:
    workers = os.cpu_count() or 2
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: jobs.time_command(argv), range(size)))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "children_per_second": size / seconds, "concurrency": workers}


def _add_rows(report: Report, executor: str, size: int, figures: dict[str, Any]) -> None:
    emulator = figures["emulator"]
    moto, floor = figures.get("moto"), figures.get("floor")
    failed = "" if emulator["status"] == "SUCCEEDED" else f"parent ended {emulator['status']}; "
    done = report.add(
        Row(
            f"array x{size:,} to SUCCEEDED, {executor}",
            "s",
            emulator["seconds"],
            moto["seconds"] if moto else None,
            floor["seconds"] if floor else None,
            note=failed
            + f"peak RSS {emulator['peak_rss_kib'] / 1024:.0f} MiB (from {emulator['rss_before_kib'] / 1024:.0f}), "
            f"peak threads {emulator['peak_threads']} (from {emulator['threads_before']})",
        )
    )
    if executor == "process" and size == 10_000:
        done.target = f"< {PROCESS_TARGET_SECONDS} s"
        done.met = emulator["status"] == "SUCCEEDED" and emulator["seconds"] < PROCESS_TARGET_SECONDS
    report.add(
        Row(
            f"array x{size:,} children/s, {executor}",
            "1/s",
            emulator["children_per_second"],
            moto["children_per_second"] if moto else None,
            floor["children_per_second"] if floor else None,
        )
    )
    report.add(
        Row(
            f"array x{size:,} peak server RSS, {executor}",
            "MiB",
            emulator["peak_rss_kib"] / 1024,
            moto["peak_rss_kib"] / 1024 if moto else None,
        )
    )
    report.add(
        Row(
            f"array x{size:,} peak server threads, {executor}",
            "count",
            emulator["peak_threads"],
            moto["peak_threads"] if moto else None,
        )
    )
