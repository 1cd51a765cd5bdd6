"""API workloads: SubmitJob, DescribeJobs (100 ids) and DescribeJobDefinitions (1,000 revisions),
from 1 and 8 client threads, against the emulator, moto and the floor, in interleaved rounds.

The floor answers with the emulator's own recorded response to the same call, so the floor's
figure is what boto3 and a socket cost for identical bytes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from bench import resources, servers
from bench.plan import Plan
from bench.report import Report, Row
from bench.timing import run_threads, summarize

THREAD_COUNTS = (1, 8)
TARGETS = ("emulator", "moto", "floor")


def _record_answers(url: str) -> tuple[Any, dict[str, bytes]]:
    """A client whose raw responses, by request path, are kept for the floor to replay."""
    recorded: dict[str, bytes] = {}
    client = resources.client(url)

    def keep(http_response, model, **_: Any) -> None:
        recorded[model.http["requestUri"]] = http_response.content

    client.meta.events.register("after-call.batch", keep)
    return client, recorded


def _install_canned(floor_url: str, answers: dict[str, bytes]) -> None:
    for path, body in answers.items():
        request = urllib.request.Request(f"{floor_url}/_canned{path}", data=body, method="PUT")
        urllib.request.urlopen(request).close()


def _operations(ids: dict[str, list[str]]) -> dict[str, Callable[[str], Callable[[Any, int], None]]]:
    """Operation name -> (target -> call(client, i))."""

    def submit(target: str):
        return lambda client, i: client.submit_job(
            jobName=f"bench-{i}", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
        )

    def describe_jobs(target: str):
        mine = ids[target]
        return lambda client, i: client.describe_jobs(jobs=mine)

    def describe_definitions(target: str):
        return lambda client, i: client.describe_job_definitions(
            jobDefinitionName=resources.REVISIONS_DEFINITION, status="ACTIVE", maxResults=100
        )

    return {
        "SubmitJob": submit,
        "DescribeJobs(100 ids)": describe_jobs,
        "DescribeJobDefinitions(1,000 revisions)": describe_definitions,
    }


def run(report: Report, plan: Plan) -> None:
    started = {
        "emulator": servers.start_emulator("simulated"),
        "moto": servers.start_moto(),
        "floor": servers.start_floor(),
    }
    try:
        _run(report, plan, started)
    finally:
        for server in started.values():
            server.stop()


def _run(report: Report, plan: Plan, started: dict[str, servers.ServerProcess]) -> None:
    urls = {name: server.url for name, server in started.items()}
    ids: dict[str, list[str]] = {}
    for name in ("emulator", "moto"):
        resources.set_up(urls[name], is_moto=name == "moto")
        resources.register_revisions(urls[name], plan.revisions)
        client = resources.client(urls[name])
        ids[name] = [
            client.submit_job(
                jobName=f"seed-{i}", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
            )["jobId"]
            for i in range(100)
        ]
    ids["floor"] = ids["emulator"]
    recorder, answers = _record_answers(urls["emulator"])
    for operation in _operations(ids).values():
        operation("emulator")(recorder, 0)
    _install_canned(urls["floor"], answers)

    raw: dict[str, Any] = {}
    for operation_name, operation in _operations(ids).items():
        for threads in THREAD_COUNTS:
            latencies: dict[str, list[float]] = {target: [] for target in TARGETS}
            walls: dict[str, float] = dict.fromkeys(TARGETS, 0.0)
            calls = plan.api_calls if operation_name == "SubmitJob" else plan.heavy_api_calls
            per_round = max(threads, calls // plan.rounds)
            for _ in range(plan.rounds):
                for target in TARGETS:
                    url = urls[target]
                    values, wall = run_threads(
                        lambda url=url: resources.client(url),
                        operation(target),
                        threads=threads,
                        count=per_round,
                    )
                    latencies[target].extend(values)
                    walls[target] += wall
            summaries = {target: summarize(latencies[target], walls[target]) for target in TARGETS}
            raw[f"{operation_name} x{threads}"] = {t: s.as_dict() for t, s in summaries.items()}
            _add_rows(report, operation_name, threads, summaries)
    report.raw["api"] = raw
    report.raw["api_server_after"] = {name: vars(server.sample()) for name, server in started.items()}
    report.raw["api_moto_describe_definitions_count"] = len(
        resources.client(urls["moto"]).describe_job_definitions(
            jobDefinitionName=resources.REVISIONS_DEFINITION, status="ACTIVE", maxResults=100
        )["jobDefinitions"]
    )
    _ = json  # the raw figures are serialized by Report.write_json


def _add_rows(report: Report, operation: str, threads: int, summaries) -> None:
    e, m, f = (summaries[t] for t in TARGETS)
    is_submit = operation == "SubmitJob"
    p50 = report.add(
        Row(
            f"{operation} p50, {threads} thread{'s' if threads > 1 else ''}",
            "ms",
            e.p50_ms,
            m.p50_ms,
            f.p50_ms,
            target="<= 1.3x floor" if is_submit else "",
        )
    )
    if is_submit:
        p50.met = p50.vs_floor is not None and p50.vs_floor <= 1.3
    report.add(
        Row(
            f"{operation} p95/p99, {threads}t",
            "ms",
            e.p95_ms,
            m.p95_ms,
            f.p95_ms,
            note=f"p99: emulator {e.p99_ms:.2f}, moto {m.p99_ms:.2f}, floor {f.p99_ms:.2f} ms",
        )
    )
    rate = report.add(
        Row(
            f"{operation} throughput, {threads}t",
            "req/s",
            e.per_second,
            m.per_second,
            f.per_second,
            target=">= 3x moto",
        )
    )
    rate.met = rate.vs_moto is not None and rate.vs_moto >= 3
