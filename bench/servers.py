"""The servers a run compares, each in its own process so RSS and thread counts are its own.

`ServerProcess` starts a command, reads the URL it serves on, and reads `/proc/<pid>/status` for
resident memory and threads. The emulator prints `batch-emulator serving on URL` first; the floor
prints `floor serving on URL`; moto's server is given a free port and polled until it answers.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

# The first URL the server prints is the one it serves on (the banner wording may change).
PR_SET_PDEATHSIG = 1
_URL = re.compile(r"(https?://[\w.\-]+:\d+)")


@dataclass
class ProcessSample:
    rss_kib: int
    threads: int


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen
    url: str
    _peak: ProcessSample = field(default_factory=lambda: ProcessSample(0, 0))
    _sampler: threading.Thread | None = None
    _sampling: threading.Event = field(default_factory=threading.Event)

    @property
    def pid(self) -> int:
        return self.process.pid

    def sample(self) -> ProcessSample:
        """VmRSS and Threads from /proc/<pid>/status (Linux)."""
        values: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "Threads"):
                    values[key] = int(rest.split()[0])
        return ProcessSample(values.get("VmRSS", 0), values.get("Threads", 0))

    def cpu_seconds(self) -> float:
        return cpu_seconds_of(self.pid)

    def start_peak_sampling(self, interval_seconds: float = 0.05) -> None:
        """Record the highest RSS and thread count seen until `stop_peak_sampling`."""
        self._peak = self.sample()
        self._sampling.clear()

        def loop() -> None:
            while not self._sampling.wait(interval_seconds):
                try:
                    now = self.sample()
                except OSError:
                    return
                self._peak = ProcessSample(
                    max(self._peak.rss_kib, now.rss_kib), max(self._peak.threads, now.threads)
                )

        self._sampler = threading.Thread(target=loop, name=f"sample-{self.name}", daemon=True)
        self._sampler.start()

    def stop_peak_sampling(self) -> ProcessSample:
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join()
        return self._peak

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds_of(pid: int) -> float:
    """User plus system CPU time a process has used (utime+stime of /proc/<pid>/stat), all its
    threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name, which is in parentheses and may contain spaces.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_url(process: subprocess.Popen, name: str, timeout_seconds: float) -> str:
    deadline = time.monotonic() + timeout_seconds
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} exited before printing its URL (rc={process.poll()})")
        match = _URL.search(line)
        if match:
            # Keep draining stdout so a chatty server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return match.group(1)
    raise RuntimeError(f"{name} printed no URL within {timeout_seconds} s")


def _drain(stream) -> None:
    for _ in stream:
        pass


def _die_with_parent() -> None:
    """Linux: SIGTERM this child when the bench process dies, so a killed run leaves no servers."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=_die_with_parent,
    )


def _benchmark_environment() -> dict[str, str]:
    """No EMULATOR_* or BATCH_EMULATOR_* overrides leak in from the caller's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("EMULATOR_", "BATCH_EMULATOR_"))}


def start_emulator(executor: str, *, profile_to: str | None = None, attempts: int = 20) -> ServerProcess:
    """`python -m emulator --port 0 --executor X`, optionally under py-spy (all threads sampled).

    Retried: the Docker executor's start-up clean-up lists labelled containers and inspects each,
    and fails when a container another emulator sharing the daemon removes vanishes in between."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_emulator(executor, profile_to)
        except RuntimeError:
            if attempt == attempts:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def _start_emulator(executor: str, profile_to: str | None) -> ServerProcess:
    argv = [sys.executable, "-m", "emulator", "--port", "0", "--executor", executor, "--log-level", "WARNING"]
    if profile_to:
        argv = [
            "py-spy",
            "record",
            "--nonblocking",
            *os.environ.get("BENCH_PY_SPY_FLAGS", "").split(),
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            profile_to,
            "--",
            *argv,
        ]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_benchmark_environment(),
        preexec_fn=_die_with_parent,
    )
    url = _read_url(process, "emulator", 60)
    if profile_to:
        process = _ProfiledProcess(process)
    return ServerProcess(f"emulator-{executor}", process, url)


class _ProfiledProcess:
    """py-spy is the parent; the emulator is its child. Measure the child, stop through py-spy."""

    def __init__(self, spy: subprocess.Popen) -> None:
        self._spy = spy
        children = children_of(spy.pid)
        self.pid = children[0] if children else spy.pid

    def poll(self):
        return self._spy.poll()

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self, timeout: float | None = None):
        return self._spy.wait(timeout)

    def kill(self) -> None:
        self._spy.kill()


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def start_floor(*, same_server: bool = False) -> ServerProcess:
    """The canned-answer floor: a bare `http.server`, or with `same_server` the HTTP server the
    emulator itself runs on (bench/floor.py)."""
    process = _spawn([sys.executable, "-m", "bench.floor", *(["--same-server"] if same_server else [])])
    return ServerProcess("floor", process, _read_url(process, "floor", 30))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto() -> ServerProcess:
    """moto's server with its Docker-less Batch backend: jobs succeed without running, which is
    the closest moto comes to the emulator's simulated executor (and moto needs a registry to pull
    from for its Docker mode, which this machine does not have)."""
    port = free_port()
    process = _spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            request = urllib.request.Request(
                f"{url}/moto-api/config",
                data=json.dumps({"batch": {"use_docker": False}}).encode(),
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=2):
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.1)
    return ServerProcess("moto", process, url)
