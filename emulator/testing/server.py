"""ServerThread: serve a WSGI app on a host and port (0 picks a free one) in a daemon thread.

The socket is bound before the app exists (`bind`, then `mount`), so an app can be built knowing
the port it serves on: jobs need that URL to call the emulator back. Every connection goes through
GuardedRequestHandler (http_guard.py), which keeps hostile HTTP from werkzeug's development server.
Connections are served by reused threads (PooledWSGIServer), one per connection in progress.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer

from emulator.testing.http_guard import GuardedRequestHandler

# How long a thread with no connection to serve waits for one before it ends.
IDLE_WORKER_SECONDS = 60.0


class PooledWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server, with threads kept for the next connection instead of one new
    thread for each. Every connection is answered with `Connection: close`, so each request was a
    new thread, and starting one (the handshake between the new thread and the accepting one) was
    a quarter of the server's own cost per request under wrk's load.

    As before, a connection never waits for a thread: one is started whenever none is idle, so a
    slow or hostile client holds only its own. Idle threads end after IDLE_WORKER_SECONDS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._idle_workers = 0  # waiting threads, less the connections handed to them
        self._idle_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle_lock:
            if self._idle_workers:
                self._idle_workers -= 1
                self._pending.put((request, client_address))
                return
        worker = threading.Thread(
            target=self._serve_connections, args=(request, client_address), name="batch-emulator-conn"
        )
        worker.daemon = True
        worker.start()

    def _serve_connections(self, request: Any, client_address: Any) -> None:
        while True:
            self.process_request_thread(request, client_address)  # socketserver's: handle, then close
            with self._idle_lock:
                self._idle_workers += 1
            next_connection = self._next_connection()
            if next_connection is None:
                return
            request, client_address = next_connection

    def _next_connection(self) -> tuple[Any, Any] | None:
        try:
            return self._pending.get(timeout=IDLE_WORKER_SECONDS)
        except queue.Empty:
            with self._idle_lock:
                if self._idle_workers:  # nobody handed this thread a connection: it may end
                    self._idle_workers -= 1
                    return None
            # A connection was handed over as the wait ran out: it is in the queue already.
            return self._pending.get()

    def server_close(self) -> None:
        super().server_close()
        with self._idle_lock:
            idle, self._idle_workers = self._idle_workers, 0
        for _ in range(idle):
            self._pending.put(None)  # idle threads end now


class ServerThread:
    def __init__(self, app: Flask | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self._holder: dict[str, Any] = {}
        holder = self._holder

        def late_bound_app(environ, start_response):
            return holder["app"](environ, start_response)

        self._server: BaseWSGIServer = PooledWSGIServer(
            host, port, late_bound_app, handler=GuardedRequestHandler
        )
        self.host = host
        self.port = self._server.server_port
        self.app: Flask | None = None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="batch-emulator-http", daemon=True
        )
        if app is not None:
            self.mount(app)

    @classmethod
    def bind(cls, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
        return cls(None, host, port)

    def mount(self, app: Flask) -> ServerThread:
        self.app = app
        self._holder["app"] = app
        return self

    @property
    def url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{shown}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
