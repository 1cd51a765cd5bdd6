"""The floor endpoint: the cheapest HTTP server that can answer a boto3 call.

A threaded `http.server` speaking HTTP/1.1 (keep-alive, like the emulator's server) that answers
every request with a canned body chosen by path. The bench records the emulator's real answer to
each benchmarked call and installs it here (`PUT /_canned/<path>`), so boto3 parses the same bytes
from the floor as from the emulator and the difference is what the emulator spends producing them.

`python -m bench.floor --same-server` serves the same canned answers through the emulator's own
HTTP server (ServerThread and its guarded handler) instead: the floor of the `server` workload,
where the difference from the emulator is its own per-request path and nothing else.

Run as `python -m bench.floor`; the first stdout line is `floor serving on URL`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CANNED: dict[str, bytes] = {}
CANNED_PREFIX = "/_canned"


class CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY, Nagle plus the client's delayed
    # ACK adds ~40 ms to every answer, which would make the floor no floor at all.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's signature
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        body = self._body()
        if self.path.startswith(CANNED_PREFIX):
            CANNED[self.path[len(CANNED_PREFIX) :]] = body
            self._answer(200, b"{}")
        else:
            self._answer(404, b"{}")

    def do_POST(self) -> None:
        self._body()
        path = self.path.split("?", 1)[0]
        self._answer(200, CANNED.get(path, b"{}"))

    do_GET = do_POST


def canned_app(environ, start_response):
    """The same answers as CannedHandler, as a WSGI app: PUT /_canned/<path> installs one."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    path = environ.get("PATH_INFO", "/")
    if environ["REQUEST_METHOD"] == "PUT" and path.startswith(CANNED_PREFIX):
        CANNED[path[len(CANNED_PREFIX) :]] = body
        answer = b"{}"
    else:
        answer = CANNED.get(path, b"{}")
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            ("Content-Length", str(len(answer))),
        ],
    )
    return [answer]


def serve_on_emulator_server() -> int:
    from emulator.testing.server import ServerThread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as batch-emulator sets it
    server = ServerThread(canned_app)  # type: ignore[arg-type]  # any WSGI app serves
    print(f"floor serving on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--same-server", action="store_true", help="serve on the emulator's HTTP server")
    if parser.parse_args(argv).same_server:
        return serve_on_emulator_server()
    server = ThreadingHTTPServer(("127.0.0.1", 0), CannedHandler)
    server.daemon_threads = True
    print(f"floor serving on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
