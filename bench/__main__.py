"""`python -m bench [--quick] [--only api,latency,throughput,scale,dashboard,server]`: run, print the table, save JSON."""

from __future__ import annotations

import argparse
import sys
import time

from bench.plan import FULL, QUICK
from bench.report import Report

WORKLOADS = ("api", "latency", "throughput", "scale", "dashboard", "server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about 2 minutes)")
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help=f"comma-separated subset of {', '.join(WORKLOADS)}"
    )
    parser.add_argument("--results-dir", default=None, help="where the JSON goes (default bench/results)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        print(f"unknown workloads: {', '.join(unknown)}", file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    report = Report(mode=plan.name)
    from bench.workloads import api, dashboard, latency, scale, server, throughput

    modules = {
        "api": api,
        "latency": latency,
        "throughput": throughput,
        "scale": scale,
        "dashboard": dashboard,
        "server": server,
    }
    for name in WORKLOADS:
        if name not in chosen:
            continue
        started = time.monotonic()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        modules[name].run(report, plan)
        report.raw.setdefault("seconds", {})[name] = round(time.monotonic() - started, 1)
        print(f"== {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print(report.render())
    path = report.write_json(args.results_dir) if args.results_dir else report.write_json()
    print(f"\nraw figures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
