"""Dashboard: its pages' server time with 100,000 jobs stored, and what leaving it open costs the
engine while a 10,000-child array runs.

One simulated-executor server is filled through SubmitJob with `dashboard_jobs` finished jobs in
one queue, plus one finished array of `dashboard_array_size` children. Each page is then fetched
`dashboard_requests` times in turn; the figure is the server's own time for it, from the
`Server-Timing` header the dashboard sets (the client's wall time is in the raw JSON). Target:
every page under 300 ms at p95.

Then the same array size runs again, `dashboard_rounds` times without and with five "open
browsers", interleaved: each browser polls what the dashboard's script polls while a job runs,
the job list's rows and the array's job page fragment every second and its children's statuses
every two seconds. The figures are the array's time to SUCCEEDED with the browsers over without
(target: within 10 %), and the server process's CPU seconds for the run, with over without. The
browsers send the ETag of what they show, as the script does, and get 304s while nothing changed.
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from bench import resources, servers
from bench.plan import Plan
from bench.report import Report, Row
from bench.timing import summarize
from bench.workloads.scale import _fill

UI = "/_emulator/ui"
PAGE_TARGET_MS = 300
OPEN_BROWSERS = 5
ENGINE_COST_TARGET = 1.10
_DURATION = re.compile(r"dur=([\d.]+)")


def run(report: Report, plan: Plan) -> None:
    server = servers.start_emulator("simulated")
    try:
        raw = _measure(server, plan)
    finally:
        server.stop()
    report.raw["dashboard"] = raw
    _add_rows(report, raw, plan)


def _measure(server: servers.ServerProcess, plan: Plan) -> dict[str, Any]:
    resources.set_up(server.url)
    client = resources.client(server.url)
    fill_rate = _fill(server, 0, plan.dashboard_jobs, plan.fill_threads)
    parent = _run_array(client, plan.dashboard_array_size)
    finished = client.list_jobs(jobQueue=resources.QUEUE, jobStatus="SUCCEEDED", maxResults=1)[
        "jobSummaryList"
    ]
    stored = plan.dashboard_jobs + 1 + plan.dashboard_array_size
    pages = {
        name: _time_page(server.url, path, plan.dashboard_requests)
        for name, path in _pages(server.url, finished[0]["jobId"], parent).items()
    }
    return {
        "stored_jobs": stored,
        "fill_jobs_per_second": fill_rate,
        "pages": pages,
        "engine": _engine_cost(server, client, plan),
    }


def _pages(url: str, job_id: str, parent_id: str) -> dict[str, str]:
    queue = urllib.parse.quote(resources.QUEUE)
    return {
        "overview": "/",
        "job list, first page": "/jobs",
        "job list, one queue and status": f"/jobs?queue={queue}&status=SUCCEEDED",
        "job list, 10th page": _tenth_page(url),
        "job list, name prefix matching 1 in 10": "/jobs?name=fill-9",
        "job list, name prefix matching none": "/jobs?name=zzz",
        "job list rows (polled)": f"/jobs/rows?queue={queue}",
        "job page": f"/jobs/{job_id}",
        "job page fragment (polled)": f"/jobs/{job_id}/live",
        "job log": f"/jobs/{job_id}/log",
        "array job page": f"/jobs/{parent_id}",
        "array children (polled)": f"/jobs/{parent_id}/children",
        "array children list, one status": f"/jobs?array={parent_id}&status=SUCCEEDED",
        "events": "/events",
    }


def _tenth_page(url: str) -> str:
    path = "/jobs"
    for _ in range(9):
        with urllib.request.urlopen(f"{url}{UI}{path}", timeout=60) as response:
            html = response.read().decode()
        older = re.search(r'<a id="next-page" href="/_emulator/ui([^"]+)"', html)
        if older is None:
            break
        path = older.group(1).replace("&amp;", "&")
    return path


def _get(url: str) -> tuple[float, float]:
    """(server ms from Server-Timing, client wall seconds) of one GET."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        timing = response.headers.get("Server-Timing", "")
    match = _DURATION.search(timing)
    return (float(match.group(1)) if match else float("nan")), time.perf_counter() - started


def _time_page(url: str, path: str, count: int) -> dict[str, Any]:
    _get(f"{url}{UI}{path}")  # warm: the first render compiles its template
    server_ms, wall = [], []
    for _ in range(count):
        ms, seconds = _get(f"{url}{UI}{path}")
        server_ms.append(ms / 1000)
        wall.append(seconds)
    return {
        "path": path,
        "server": summarize(server_ms, sum(server_ms)).as_dict(),
        "wall": summarize(wall, sum(wall)).as_dict(),
    }


def _run_array(client: Any, size: int) -> str:
    parent_id = client.submit_job(
        jobName="array",
        jobQueue=resources.QUEUE,
        jobDefinition=resources.DEFINITION,
        arrayProperties={"size": size},
    )["jobId"]
    deadline = time.monotonic() + 1800
    while client.describe_jobs(jobs=[parent_id])["jobs"][0]["status"] not in ("SUCCEEDED", "FAILED"):
        if time.monotonic() > deadline:
            raise TimeoutError("the array did not finish")
        time.sleep(0.05)
    return parent_id


class _OpenBrowsers:
    """Threads polling as the dashboard's script does while an array job runs."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.count = count
        self.parent_id = ""
        self.requests = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, parent_id: str) -> None:
        self.parent_id = parent_id
        self._threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(self.count)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _poll(self) -> None:
        """As the script does: one kept-alive connection; each view sends the ETag of what it shows
        and gets a bodiless 304 while nothing changed (the job page fragment has none)."""
        queue = urllib.parse.quote(resources.QUEUE)
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(self.url).netloc, timeout=60)
        tags: dict[str, str] = {}
        tick = 0
        try:
            while not self._stop.wait(1.0):
                paths = [f"/jobs/rows?queue={queue}", f"/jobs/{self.parent_id}/live"]
                if tick % 2 == 0:
                    paths.append(f"/jobs/{self.parent_id}/children")
                for path in paths:
                    self.requests += 1
                    tags[path] = _get_tagged(connection, f"{UI}{path}", tags.get(path))
                tick += 1
        finally:
            connection.close()


def _get_tagged(connection: http.client.HTTPConnection, path: str, tag: str | None) -> str:
    connection.request("GET", path, headers={"If-None-Match": tag} if tag else {})
    response = connection.getresponse()
    response.read()
    if response.status not in (200, 304):
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return response.headers.get("ETag") or tag or ""


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used (Linux /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _engine_cost(server: servers.ServerProcess, client: Any, plan: Plan) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    for _ in range(plan.dashboard_rounds):
        runs["without"].append(_timed_array(server, client, plan.dashboard_array_size, None))
        runs["with"].append(
            _timed_array(server, client, plan.dashboard_array_size, _OpenBrowsers(server.url, OPEN_BROWSERS))
        )
    return {"array_size": plan.dashboard_array_size, "open_browsers": OPEN_BROWSERS, **runs}


def _timed_array(
    server: servers.ServerProcess, client: Any, size: int, browsers: _OpenBrowsers | None
) -> dict[str, float]:
    """The array's time to SUCCEEDED and the server's CPU seconds meanwhile."""
    cpu_before, started = _cpu_seconds(server.pid), time.perf_counter()
    parent_id = client.submit_job(
        jobName="watched",
        jobQueue=resources.QUEUE,
        jobDefinition=resources.DEFINITION,
        arrayProperties={"size": size},
    )["jobId"]
    if browsers is not None:
        browsers.start(parent_id)
    try:
        while client.describe_jobs(jobs=[parent_id])["jobs"][0]["status"] not in ("SUCCEEDED", "FAILED"):
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        if browsers is not None:
            browsers.stop()
    return {
        "seconds": seconds,
        "server_cpu_seconds": _cpu_seconds(server.pid) - cpu_before,
        "dashboard_requests": browsers.requests if browsers is not None else 0,
    }


def _add_rows(report: Report, raw: dict[str, Any], plan: Plan) -> None:
    stored = raw["stored_jobs"]
    for name, figures in raw["pages"].items():
        server = figures["server"]
        report.add(
            Row(
                f"dashboard {name} p95 @ {stored:,} stored",
                "ms",
                server["p95_ms"],
                target=f"< {PAGE_TARGET_MS} (server)",
                met=server["p95_ms"] < PAGE_TARGET_MS,
                note=f"server p50 {server['p50_ms']:.1f} ms; client wall p50 {figures['wall']['p50_ms']:.1f} ms",
            )
        )
    engine = raw["engine"]
    seconds = {kind: [run["seconds"] for run in engine[kind]] for kind in ("without", "with")}
    cpu = {kind: [run["server_cpu_seconds"] for run in engine[kind]] for kind in ("without", "with")}
    ratio = statistics.median(seconds["with"]) / statistics.median(seconds["without"])
    report.add(
        Row(
            f"array x{engine['array_size']:,} with {engine['open_browsers']} dashboards open / without",
            "ratio",
            ratio,
            target=f"<= {ENGINE_COST_TARGET}",
            met=ratio <= ENGINE_COST_TARGET,
            note=(
                f"to SUCCEEDED: without {', '.join(f'{s:.1f}' for s in seconds['without'])} s, "
                f"with {', '.join(f'{s:.1f}' for s in seconds['with'])} s (interleaved rounds)"
            ),
        )
    )
    requests = statistics.median(run["dashboard_requests"] for run in engine["with"])
    report.add(
        Row(
            f"server CPU for the array, {engine['open_browsers']} dashboards open / without",
            "ratio",
            statistics.median(cpu["with"]) / statistics.median(cpu["without"]),
            note=(
                f"server CPU seconds: without {', '.join(f'{s:.1f}' for s in cpu['without'])}, "
                f"with {', '.join(f'{s:.1f}' for s in cpu['with'])}; {requests:.0f} dashboard requests a run"
            ),
        )
    )
