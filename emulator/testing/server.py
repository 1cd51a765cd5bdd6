"""ServerThread: serve a WSGI app on a host and port (0 picks a free one) in a daemon thread.

The socket is bound before the app exists (`bind`, then `mount`), so an app can be built knowing
the port it serves on: jobs need that URL to call the emulator back. Every connection goes through
GuardedRequestHandler (http_guard.py), which keeps hostile HTTP from werkzeug's development server.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from emulator.testing.http_guard import GuardedRequestHandler


class ServerThread:
    def __init__(self, app: Flask | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self._holder: dict[str, Any] = {}
        holder = self._holder

        def late_bound_app(environ, start_response):
            return holder["app"](environ, start_response)

        self._server: BaseWSGIServer = make_server(
            host, port, late_bound_app, threaded=True, request_handler=GuardedRequestHandler
        )
        self._server.daemon_threads = True
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
