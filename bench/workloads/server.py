"""Server capacity: how many requests a server answers, measured with wrk instead of boto3.

Operations: SubmitJob, DescribeJobs (100 ids), DescribeJobDefinitions (100 revisions), and the first
ListJobs page of 100 at two numbers of stored jobs (1,000 and 10,000 in a full run). Each request is
recorded once as boto3 sends it and replayed by wrk (bench/wrk.py) at 1, 4 and 8 connections against
the emulator, moto's server and the floor, in interleaved rounds so that load from elsewhere on the
machine falls on all three alike. The floor is the emulator's own recorded answer served by the same
HTTP server the emulator runs on (`python -m bench.floor --same-server`): emulator over floor is
what the emulator's own per-request path costs.

Figures per operation and connection count: requests/s, p50 and p99 (the median over rounds), and
the server's CPU seconds (utime+stime, all threads) per 1,000 requests. wrk is a distribution
package, not a Python one: where it is absent the workload says so and is skipped.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import resources, servers, wrk
from bench.plan import Plan
from bench.report import Report, Row

TARGETS = ("emulator", "moto", "floor")
CONNECTIONS = (1, 4, 8)
NOT_DONE = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
SUBMIT_VS_MOTO_TARGET = 5.0
SUBMIT_VS_FLOOR_TARGET = 0.5  # within 2x of the floor's rate
DESCRIBE_VS_MOTO_TARGET = 3.0
LIST_GROWTH_TARGET = 1.5


@dataclass
class Measured:
    """Every wrk run of one operation against one target at one connection count."""

    runs: list[wrk.WrkResult] = field(default_factory=list)
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return statistics.median(run.per_second for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.status_errors + run.socket_errors for run in self.runs)


Operation = dict[int, dict[str, Measured]]  # connections -> target -> figures


def run(report: Report, plan: Plan) -> None:
    wrk_path = wrk.find_wrk()
    if wrk_path is None:
        message = f"server workload skipped: wrk is not installed; {wrk.INSTALL_HINT}"
        print(message, file=sys.stderr, flush=True)
        report.add(Row("server workload", "-", None, note=message))
        report.raw["server"] = {"skipped": message}
        return
    started = {
        "emulator": servers.start_emulator("simulated"),
        "moto": servers.start_moto(),
        "floor": servers.start_floor(same_server=True),
    }
    try:
        _run(report, plan, wrk_path, started)
    finally:
        for server in started.values():
            server.stop()


def _run(report: Report, plan: Plan, wrk_path: str, started: dict[str, servers.ServerProcess]) -> None:
    urls = {name: server.url for name, server in started.items()}
    ids: dict[str, list[str]] = {}
    for name in ("emulator", "moto"):
        resources.set_up(urls[name], is_moto=name == "moto")
        resources.register_revisions(urls[name], 100)
        client = resources.client(urls[name])
        ids[name] = [
            client.submit_job(
                jobName=f"seed-{i}", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
            )["jobId"]
            for i in range(100)
        ]
    measure = _Measurer(plan, wrk_path, started)
    results: dict[str, Operation] = {}
    stored = len(ids["emulator"])
    for size in plan.server_store_sizes:
        for name in ("emulator", "moto"):
            _fill(wrk_path, urls[name], size - stored)
        stored = size
        results[f"ListJobs first page @ {size:,} stored"] = measure(
            lambda c, _target: c.list_jobs(jobQueue=resources.QUEUE, jobStatus="SUCCEEDED", maxResults=100)
        )
    results["DescribeJobs(100 ids)"] = measure(lambda c, target: c.describe_jobs(jobs=ids[target]))
    results["DescribeJobDefinitions(100 revisions)"] = measure(
        lambda c, _target: c.describe_job_definitions(
            jobDefinitionName=resources.REVISIONS_DEFINITION, status="ACTIVE", maxResults=100
        )
    )
    # Last: every SubmitJob adds a job, which would change what the listings above measured.
    results["SubmitJob"] = measure(
        lambda c, _target: c.submit_job(
            jobName="bench", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
        )
    )
    report.raw["server"] = {
        name: {str(c): {t: _raw(m) for t, m in by_target.items()} for c, by_target in op.items()}
        for name, op in results.items()
    }
    report.raw["server_after"] = {name: vars(server.sample()) for name, server in started.items()}
    for name, operation in results.items():
        _add_rows(report, name, operation)
    _add_targets(report, results, plan)


class _Measurer:
    """Record one call per target as boto3 sends it, then replay it with wrk, interleaved."""

    def __init__(self, plan: Plan, wrk_path: str, started: dict[str, servers.ServerProcess]) -> None:
        self.plan = plan
        self.wrk_path = wrk_path
        self.started = started

    def __call__(self, call: Callable[..., Any]) -> Operation:
        requests: dict[str, wrk.RecordedRequest] = {}
        for name in ("emulator", "moto"):
            request, answer = record_call(self.started[name].url, call, name)
            requests[name] = request
            if name == "emulator":
                _install_canned(self.started["floor"].url, request.path.split("?")[0], answer)
                requests["floor"] = request
        operation: Operation = {c: {t: Measured() for t in TARGETS} for c in CONNECTIONS}
        for connections in CONNECTIONS:
            for _ in range(self.plan.server_rounds):
                for target in TARGETS:
                    self._once(operation[connections][target], target, requests[target], connections)
        return operation

    def _once(self, into: Measured, target: str, request: wrk.RecordedRequest, connections: int) -> None:
        server = self.started[target]
        cpu_before = server.cpu_seconds()
        result = wrk.run(
            self.wrk_path, server.url, request, connections=connections, seconds=self.plan.server_seconds
        )
        into.cpu_seconds += server.cpu_seconds() - cpu_before
        into.runs.append(result)


def record_call(url: str, call: Callable[[Any, str], Any], target: str) -> tuple[wrk.RecordedRequest, bytes]:
    """Make `call(client, target)` once through boto3, keeping the request it sent and the body it got back."""
    client = resources.client(url)
    kept: dict[str, Any] = {}

    def keep_request(request, **_: Any) -> None:
        kept["request"] = wrk.RecordedRequest.from_prepared(request)

    def keep_answer(http_response, **_: Any) -> None:
        kept["answer"] = http_response.content

    client.meta.events.register("before-send.batch", keep_request)
    client.meta.events.register("after-call.batch", keep_answer)
    call(client, target)
    return kept["request"], kept["answer"]


def _install_canned(floor_url: str, path: str, answer: bytes) -> None:
    import urllib.request

    request = urllib.request.Request(f"{floor_url}/_canned{path}", data=answer, method="PUT")
    urllib.request.urlopen(request).close()


def _fill(wrk_path: str, url: str, jobs: int) -> None:
    """Submit `jobs` jobs as fast as the server takes them, then wait until none is unfinished."""
    if jobs <= 0:
        return
    request, _ = record_call(
        url,
        lambda c, _target: c.submit_job(
            jobName="fill", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION
        ),
        "",
    )
    # wrk runs for its whole duration even when the script has stopped its thread: short bursts.
    remaining = jobs
    while remaining > 0:
        burst = wrk.run(wrk_path, url, request, connections=4, seconds=1, stop_after=remaining)
        if burst.status_errors:
            raise RuntimeError(f"{url} refused {burst.status_errors} of the jobs submitted to fill it")
        remaining -= burst.requests
    client = resources.client(url)
    deadline = time.monotonic() + 600
    while any(
        client.list_jobs(jobQueue=resources.QUEUE, jobStatus=status, maxResults=1)["jobSummaryList"]
        for status in NOT_DONE
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs submitted to {url} did not finish")
        time.sleep(0.2)


def _raw(measured: Measured) -> dict[str, Any]:
    return {
        "runs": [asdict(run) for run in measured.runs],
        "cpu_seconds": measured.cpu_seconds,
        "requests": measured.requests,
    }


def _cpu_per_thousand(operation: Operation, target: str) -> float:
    runs = [by_target[target] for by_target in operation.values()]
    requests = sum(m.requests for m in runs)
    return 1000 * sum(m.cpu_seconds for m in runs) / requests if requests else float("nan")


def _add_rows(report: Report, name: str, operation: Operation) -> None:
    for connections, by_target in operation.items():
        e, m, f = (by_target[t] for t in TARGETS)
        errors = {t: by_target[t].errors for t in TARGETS if by_target[t].errors}
        report.add(
            Row(
                f"{name} req/s, {connections} conn",
                "req/s",
                e.per_second,
                m.per_second,
                f.per_second,
                note=f"failed answers or socket errors: {errors}" if errors else "",
            )
        )
        for percentile in ("p50", "p99"):
            report.add(
                Row(
                    f"{name} {percentile}, {connections} conn",
                    "ms",
                    getattr(e, f"{percentile}_ms"),
                    getattr(m, f"{percentile}_ms"),
                    getattr(f, f"{percentile}_ms"),
                )
            )
    report.add(
        Row(
            f"{name} server CPU per 1,000 requests",
            "s",
            *(_cpu_per_thousand(operation, t) for t in TARGETS),
        )
    )


def _add_targets(report: Report, results: dict[str, Operation], plan: Plan) -> None:
    submit = results["SubmitJob"][4]
    rate = report.add(
        Row(
            "target: SubmitJob req/s, 4 conn",
            "req/s",
            submit["emulator"].per_second,
            submit["moto"].per_second,
            submit["floor"].per_second,
            target=f">= {SUBMIT_VS_MOTO_TARGET:g}x moto, >= {SUBMIT_VS_FLOOR_TARGET:g}x floor",
        )
    )
    rate.met = (rate.vs_moto or 0) >= SUBMIT_VS_MOTO_TARGET and (rate.vs_floor or 0) >= SUBMIT_VS_FLOOR_TARGET
    describe = results["DescribeJobs(100 ids)"][4]
    row = report.add(
        Row(
            "target: DescribeJobs(100 ids) req/s, 4 conn",
            "req/s",
            describe["emulator"].per_second,
            describe["moto"].per_second,
            describe["floor"].per_second,
            target=f">= {DESCRIBE_VS_MOTO_TARGET:g}x moto",
        )
    )
    row.met = (row.vs_moto or 0) >= DESCRIBE_VS_MOTO_TARGET
    small, large = (results[f"ListJobs first page @ {size:,} stored"][1] for size in plan.server_store_sizes)
    growth = report.add(
        Row(
            f"target: ListJobs p50 @ {plan.server_store_sizes[1]:,} / @ {plan.server_store_sizes[0]:,}, 1 conn",
            "ratio",
            large["emulator"].p50_ms / small["emulator"].p50_ms,
            large["moto"].p50_ms / small["moto"].p50_ms,
            target=f"<= {LIST_GROWTH_TARGET:g}",
        )
    )
    growth.met = growth.emulator is not None and growth.emulator <= LIST_GROWTH_TARGET
    for name, operation in results.items():
        at_eight = operation[8]
        row = report.add(
            Row(
                f"target: {name} p99, 8 conn",
                "ms",
                at_eight["emulator"].p99_ms,
                at_eight["moto"].p99_ms,
                at_eight["floor"].p99_ms,
                target="< moto",
            )
        )
        row.met = at_eight["emulator"].p99_ms < at_eight["moto"].p99_ms
