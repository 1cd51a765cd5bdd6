"""Run a call many times from N client threads and summarize: requests/s and latency percentiles."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Summary:
    count: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarize(latencies_seconds: list[float], wall_seconds: float) -> Summary:
    ordered = sorted(latencies_seconds)
    return Summary(
        count=len(ordered),
        seconds=wall_seconds,
        per_second=len(ordered) / wall_seconds if wall_seconds else float("nan"),
        p50_ms=percentile(ordered, 0.50) * 1000,
        p95_ms=percentile(ordered, 0.95) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        mean_ms=statistics.fmean(ordered) * 1000 if ordered else float("nan"),
    )


def run_threads(
    make_worker_state: Callable[[], Any], call: Callable[[Any, int], None], *, threads: int, count: int
) -> tuple[list[float], float]:
    """`count` calls of `call(state, i)` spread over `threads` threads, each with its own state
    (a boto3 client). Returns every call's latency and the wall time of the whole batch."""
    states = [make_worker_state() for _ in range(threads)]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        state, mine = states[slot], latencies[slot]
        barrier.wait()
        try:
            for i in range(slot, count, threads):
                started = time.perf_counter()
                call(state, i)
                mine.append(time.perf_counter() - started)
        except BaseException as exc:  # re-raised on the caller's thread below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(slot,), daemon=True) for slot in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return [value for chunk in latencies for value in chunk], wall
