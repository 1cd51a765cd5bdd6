"""The floor endpoint: the cheapest HTTP server that can answer a boto3 call.

A threaded `http.server` speaking HTTP/1.1 (keep-alive, like the emulator's server) that answers
every request with a canned body chosen by path. The bench records the emulator's real answer to
each benchmarked call and installs it here (`PUT /_canned/<path>`), so boto3 parses the same bytes
from the floor as from the emulator and the difference is what the emulator spends producing them.

Run as `python -m bench.floor`; the first stdout line is `floor serving on URL`.
"""

from __future__ import annotations

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


def main() -> int:
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
