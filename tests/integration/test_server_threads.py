"""ServerThread's threads: one per connection in progress, kept for the next connection rather
than started anew for each, and never a connection left waiting for one."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from emulator.testing.server import ServerThread

DEADLINE_SECONDS = 20.0


@pytest.fixture
def served() -> Iterator[tuple[ServerThread, list[threading.Thread]]]:
    """A server whose app answers with nothing and notes the thread that served each request."""
    serving_threads: list[threading.Thread] = []

    def app(environ, start_response):
        serving_threads.append(threading.current_thread())
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    server = ServerThread(app).start()  # type: ignore[arg-type]  # any WSGI app serves
    yield server, serving_threads
    server.stop()


def get(server: ServerThread) -> int:
    with urllib.request.urlopen(f"{server.url}/", timeout=DEADLINE_SECONDS) as answer:
        return answer.status


def wait_until_idle(server: ServerThread, workers: int) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while server._server._idle_workers < workers:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the thread never went back to waiting"
        time.sleep(0.01)


def test_sequential_connections_are_served_by_one_thread(served):
    server, serving_threads = served
    for _ in range(10):
        assert get(server) == 200
        wait_until_idle(server, 1)
    assert len(set(serving_threads)) == 1


def test_a_connection_never_waits_behind_ones_that_hold_their_threads(served):
    server, _ = served
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    try:
        for connection in held:  # a request line and no more: each holds a thread
            connection.sendall(b"GET / HTTP/1.1\r\n")
        assert get(server) == 200
    finally:
        for connection in held:
            connection.close()
