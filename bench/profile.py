"""`python -m bench.profile [submit|describe|list]`: sample the emulator server under py-spy while
one API workload runs, and print where its threads spend time (inclusive and self, top frames).

The load comes from wrk where it is installed (`--driver wrk`, the default then: the request is
recorded once from boto3 and replayed, so the server is what is busy), else from boto3 threads.
`BENCH_PY_SPY_FLAGS=--gil` keeps only the samples of the thread holding the GIL, which is where CPU
goes; without it, threads waiting for the GIL show up in whatever line they wait at.

py-spy samples every thread of the server process (pyinstrument would see only the thread that
started it, and Werkzeug serves each connection on its own thread). The raw collapsed stacks are
kept in bench/results/profile-<workload>.txt for flame graphs.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

from bench import resources, servers, wrk
from bench.report import RESULTS_DIR
from bench.timing import run_threads, summarize
from bench.workloads.scale import _fill, _list_page
from bench.workloads.server import record_call

IDLE_FRAMES = ("select (selectors.py", "wait (threading.py", "_wait_for_tstate_lock", "accept (socket.py")


def _workload(
    name: str, server: servers.ServerProcess, calls: int, threads: int, driver: str, seconds: float
) -> None:
    client = resources.client(server.url)
    if name == "submit":

        def call(c, i):
            c.submit_job(jobName=f"p{i}", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION)

    elif name == "describe":
        ids = [
            client.submit_job(jobName="d", jobQueue=resources.QUEUE, jobDefinition=resources.DEFINITION)[
                "jobId"
            ]
            for _ in range(100)
        ]

        def call(c, i):
            c.describe_jobs(jobs=ids)

    else:
        _fill(server, 0, 10_000, 8)

        def call(c, i):
            _list_page(c)

    wrk_path = wrk.find_wrk() if driver == "wrk" else None
    if wrk_path is not None:
        request, _ = record_call(server.url, lambda client, _target: call(client, 0), "")
        result = wrk.run(wrk_path, server.url, request, connections=threads, seconds=seconds)
        print(f"{name}: {result.requests} calls, {result.per_second:.0f}/s, p50 {result.p50_ms:.2f} ms (wrk)")
        return
    latencies, wall = run_threads(lambda: resources.client(server.url), call, threads=threads, count=calls)
    summary = summarize(latencies, wall)
    print(
        f"{name}: {summary.count} calls, {summary.per_second:.0f}/s, p50 {summary.p50_ms:.2f} ms (under py-spy)"
    )


def summarize_profile(path: str, top: int = 30, within: str = "Flask.wsgi_app") -> str:
    """Shares of the samples whose stack passes through `within` (default: serving a request;
    `Engine.run_pass` for the engine's passes), so start-up imports do not count."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count_text = line.rstrip().rpartition(" ")
            if (
                not stack
                or within not in stack
                or any(idle in stack.rsplit(";", 1)[-1] for idle in IDLE_FRAMES)
            ):
                continue
            count = int(count_text)
            frames = stack.split(";")
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    lines = [f"samples within {within!r}: {total}", "", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("workload", choices=("submit", "describe", "list"))
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="client threads, or wrk connections")
    parser.add_argument("--driver", choices=("wrk", "boto3"), default="wrk", help="wrk where installed")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long wrk runs")
    args = parser.parse_args(argv)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"profile-{args.workload}.txt")
    server = servers.start_emulator("simulated", profile_to=path)
    try:
        resources.set_up(server.url)
        _workload(args.workload, server, args.calls, args.threads, args.driver, args.seconds)
    finally:
        server.stop()
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(summarize_profile(path))
    print()
    print(summarize_profile(path, top=15, within="Engine.run_pass"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
