"""Latency to done: SubmitJob -> SUCCEEDED for a trivial job (`true`), per executor.

Floors: fork+exec of `true` for the process executor, `docker run --rm` of the same image for the
Docker executor. moto (Docker-less backend, nothing runs) is the reference for the simulated
executor. Emulator and floor samples alternate, one each, so drift on the machine hits both.
"""

from __future__ import annotations

from typing import Any

from bench import jobs, resources, servers
from bench.plan import Plan
from bench.report import Report, Row
from bench.timing import summarize

FLOORS = {
    "process": ["true"],
    "docker": ["docker", "run", "--rm", resources.TEST_IMAGE, "true"],
}


def run(report: Report, plan: Plan) -> None:
    raw: dict[str, Any] = {}
    executors = ["simulated", "process"]
    if jobs.has_docker() and jobs.ensure_test_image():
        executors.append("docker")
    else:
        report.add(
            Row("SubmitJob->SUCCEEDED p50, docker", "ms", None, note="skipped: no Docker daemon or image")
        )
    for executor in executors:
        samples = plan.docker_latency_jobs if executor == "docker" else plan.latency_jobs
        try:
            raw[executor] = _measure(executor, samples)
        except RuntimeError as exc:  # the Docker executor's start-up race; see servers.start_emulator
            raw[executor] = {"error": str(exc)}
            report.add(Row(f"SubmitJob->SUCCEEDED p50, {executor}", "ms", None, note=f"not run: {exc}"))
            continue
        _add_row(report, executor, raw[executor])
    report.raw["latency"] = raw


def _measure(executor: str, samples: int) -> dict[str, Any]:
    emulator = servers.start_emulator(executor)
    moto = servers.start_moto() if executor == "simulated" else None
    try:
        resources.set_up(emulator.url)
        client = resources.client(emulator.url)
        moto_client = None
        if moto is not None:
            resources.set_up(moto.url, is_moto=True)
            moto_client = resources.client(moto.url)
        floor = FLOORS.get(executor)
        jobs.time_to_done(client)  # warm-up: first container, first imports
        figures: dict[str, list[float]] = {"emulator": [], "moto": [], "floor": []}
        for _ in range(samples):
            figures["emulator"].append(jobs.time_to_done(client))
            if moto_client is not None:
                figures["moto"].append(jobs.time_to_done(moto_client))
            if floor is not None:
                figures["floor"].append(jobs.time_command(floor))
        return {name: summarize(values, sum(values)).as_dict() for name, values in figures.items() if values}
    finally:
        emulator.stop()
        if moto is not None:
            moto.stop()


def _add_row(report: Report, executor: str, figures: dict[str, Any]) -> None:
    def p50(name: str) -> float | None:
        return figures[name]["p50_ms"] if name in figures else None

    row = report.add(
        Row(f"SubmitJob->SUCCEEDED p50, {executor}", "ms", p50("emulator"), p50("moto"), p50("floor"))
    )
    if executor == "process":
        row.target = "< 50 ms"
        row.met = row.emulator is not None and row.emulator < 50
        row.note = "floor: fork+exec of `true`"
    elif executor == "docker":
        row.target = "<= 1.2x floor"
        row.met = row.vs_floor is not None and row.vs_floor <= 1.2
        row.note = f"floor: docker run --rm {resources.TEST_IMAGE} true"
    else:
        row.note = "moto: Docker-less backend, nothing runs; polled with DescribeJobs every 2 ms"
