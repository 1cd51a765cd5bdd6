"""`python -m bench.candidates`: the WSGI servers the emulator could run on, measured and probed.

For each candidate that is installed (werkzeug with the emulator's guarded handler, which the
emulator runs on, plus waitress, cheroot, gunicorn with threads in one worker, and granian), the
same canned-answer app (bench/floor.py) is served in its own process and:

- wrk replays a SubmitJob at 4 connections: requests/s and the server's CPU per 1,000 requests
  (its worker processes included);
- hostile HTTP/1.1 on a raw socket checks what the emulator's front door promises
  (tests/integration/test_http_front_door.py): bodies limited chunked or not, chunk extensions,
  trailers and bare newlines decoded, HTTP/0.9, HTTP/2 and malformed request lines refused, 414 and
  431 past 64 KiB, every refusal AWS-shaped JSON. A refusal the server words itself can never be
  JSON, since the app does not run; a request that reaches the app could still be refused by a
  guard in front of it, and the table says which is which.

Install the candidates to compare (`pip install waitress cheroot gunicorn granian`); absent ones
are listed as such. This decides which server `batch-emulator` runs on (bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from bench import servers, wrk

MAX_BODY = 10 * 1024 * 1024
SUBMIT = wrk.RecordedRequest(
    "POST",
    "/v1/submitjob",
    {"Content-Type": "application/json"},
    b'{"jobName": "bench", "jobQueue": "bench-q", "jobDefinition": "bench-def"}',
)
_SERVE = "from bench.floor import canned_app as app; "
# name -> (module that must be importable, argv with {port})
CANDIDATES: dict[str, tuple[str, list[str]]] = {
    "werkzeug + GuardedRequestHandler": ("werkzeug", ["-c", _SERVE + "from bench.candidates import serve_guarded; serve_guarded({port})"]),
    "waitress (8 threads)": ("waitress", ["-c", _SERVE + "import waitress; waitress.serve(app, host='127.0.0.1', port={port}, threads=8, _quiet=True)"]),
    "cheroot (8 threads)": ("cheroot", ["-c", _SERVE + "from cheroot import wsgi; wsgi.Server(('127.0.0.1', {port}), app, numthreads=8).start()"]),
    "gunicorn gthread (1 worker, 8 threads)": ("gunicorn", ["-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "8", "-b", "127.0.0.1:{port}", "bench.floor:canned_app"]),
    "granian (1 worker)": ("granian", ["-m", "granian", "--interface", "wsgi", "--workers", "1", "--no-ws", "--port", "{port}", "bench.floor:canned_app"]),
}  # fmt: skip

_HEAD = b"POST /v1/createloggroup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
# (what is checked, request, expected status; None: a 2xx, the app answered)
PROBES: list[tuple[str, bytes, int | None]] = [
    ("chunk size past the body limit", _HEAD + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}", 413),
    ("Content-Length past the body limit", _HEAD + b"Content-Length: %d\r\n\r\n{" % (MAX_BODY + 1), 413),
    ("chunk extensions", _HEAD + b'Transfer-Encoding: chunked\r\n\r\n2;ext=1;name="v"\r\n{}\r\n0\r\n\r\n', None),
    ("chunked trailers", _HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Check: 1\r\n\r\n", None),
    ("chunked with bare newlines", _HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\n{}\n0\n\n", None),
    ("malformed chunk size", _HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
    ("HTTP/0.9", b"POST / HTTP/0.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400),
    ("request line of two words", b"POST /\r\nHost: x\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    ("request line over 64 KiB", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header line over 64 KiB", b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ("150 header lines", b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(150)) + b"\r\n", 431),
]  # fmt: skip


@dataclass
class Verdict:
    passed: bool
    got: str


def serve_guarded(port: int) -> None:
    """The canned app on the emulator's own server (ServerThread and GuardedRequestHandler)."""
    from bench.floor import canned_app
    from emulator.testing.server import ServerThread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as batch-emulator sets it
    ServerThread(canned_app, "127.0.0.1", port).serve_forever()  # type: ignore[arg-type]


def probe(port: int, request: bytes, expected: int | None) -> Verdict:
    """Send `request` with the client's side left open; read for up to 5 s."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        try:
            connection.sendall(request)
            while chunk := connection.recv(65536):
                received += chunk
        except OSError:
            pass
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    words = lines[0].split(b" ")
    if len(words) < 2 or not words[1].isdigit():
        return Verdict(False, f"no answer ({received[:40]!r})")
    status = int(words[1])
    headers = {line.partition(b":")[0].strip().lower(): line.partition(b":")[2].strip() for line in lines[1:]}
    is_aws_json = (
        headers.get(b"content-type", b"").startswith(b"application/json") and b"x-amzn-errortype" in headers
    )
    if expected is None:
        return Verdict(200 <= status < 300, f"{status}")
    if status < 400:
        return Verdict(False, f"{status}: reached the app (a guard in front of it could refuse it)")
    if status != expected or not is_aws_json:
        kind = headers.get(b"content-type", b"no content type").decode()
        return Verdict(False, f"{status} {kind}, worded by the server: beyond a WSGI guard's reach")
    return Verdict(True, f"{status} AWS JSON")


def _cpu_of_tree(pid: int) -> float:
    """CPU seconds of a process and its children (gunicorn and granian serve from workers)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += servers.cpu_seconds_of(current)
        except OSError:
            continue
        pending.extend(servers.children_of(current))
    return total


def measure(name: str, argv: list[str], seconds: float, wrk_path: str) -> list[str]:
    port = servers.free_port()
    command = [sys.executable, *(part.replace("{port}", str(port)) for part in argv)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        cpu_before = _cpu_of_tree(process.pid)
        result = wrk.run(wrk_path, f"http://127.0.0.1:{port}", SUBMIT, connections=4, seconds=seconds)
        cpu_per_thousand = 1000 * (_cpu_of_tree(process.pid) - cpu_before) / max(1, result.requests)
        verdicts = [(label, probe(port, request, expected)) for label, request, expected in PROBES]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    passed = sum(verdict.passed for _, verdict in verdicts)
    lines = [
        f"{name}: {result.per_second:,.0f} req/s at 4 connections, {cpu_per_thousand:.2f} s CPU per "
        f"1,000 requests, p99 {result.p99_ms:.1f} ms; front door {passed}/{len(verdicts)}"
    ]
    lines += [f"    {'ok ' if v.passed else 'NO '} {label}: {v.got}" for label, v in verdicts]
    return lines


def _wait_for(port: int, timeout_seconds: float = 30) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.candidates", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk run per candidate")
    args = parser.parse_args(argv)
    wrk_path = wrk.find_wrk()
    if wrk_path is None:
        print(f"wrk is not installed; {wrk.INSTALL_HINT}", file=sys.stderr)
        return 2
    for name, (module, command) in CANDIDATES.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name}: not installed (pip install {module})")
            continue
        print("\n".join(measure(name, command, args.seconds, wrk_path)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
