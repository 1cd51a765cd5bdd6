"""Hostile HTTP/1.1 on a raw socket, against the server every emulator runs on (ServerThread and
its GuardedRequestHandler): bodies are never read past the size limit, chunked bodies decode as
HTTP/1.1 says or are refused before the app runs, HTTP-layer refusals are AWS-shaped JSON with a
status line, and no connection is held after its answer.

Each exchange reads until the server closes the connection; a hang fails as a socket timeout.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from emulator.config import Settings
from emulator.protocol.parsing import MAX_BODY_BYTES
from emulator.testing.server import ServerThread

HANG_SECONDS = 20.0
CREATE_GROUP_HEAD = (
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Logs_20140328.CreateLogGroup\r\n"
    b"Content-Type: application/x-amz-json-1.1\r\n"
)


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(executor="simulated", transition_seconds=0)


@pytest.fixture(autouse=True)
def _fresh(fresh_server: None) -> None:
    """Every test starts from an empty emulator and fails on errors its server recorded."""


@pytest.fixture
def logs(server: ServerThread):
    return boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@dataclass(frozen=True)
class Answer:
    status_line: bytes
    headers: dict[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(b" ")[1])

    def assert_aws_error(self, status: int, error_type: str) -> str:
        """The error's message, once status line, headers and JSON body all say what AWS would."""
        assert self.status_line.startswith(b"HTTP/1.1 %d " % status), self
        assert self.headers["content-type"] == "application/json", self
        assert self.headers["x-amzn-errortype"] == error_type, self
        assert self.headers["x-amzn-requestid"], self
        document = json.loads(self.body)
        assert document["__type"] == error_type
        assert document["message"].strip()
        return document["message"]


def exchange(server: ServerThread, request: bytes, *, close_writes: bool = True) -> list[Answer]:
    """Send `request`, read until the server closes, and return every final answer received."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_SECONDS) as connection:
        connection.sendall(request)
        if close_writes:
            connection.shutdown(socket.SHUT_WR)
        while chunk := connection.recv(65536):
            received += chunk
    return parse_answers(received)


def parse_answers(received: bytes) -> list[Answer]:
    answers = []
    while received:
        head, separator, rest = received.partition(b"\r\n\r\n")
        assert separator, f"not an HTTP answer: {received[:300]!r}"
        status_line, *lines = head.split(b"\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.decode("latin-1").partition(":") for line in lines)
        }
        length = int(headers.get("content-length", "0"))
        received = rest[length:]
        if not status_line.startswith(b"HTTP/1.1 100 "):
            answers.append(Answer(status_line, headers, rest[:length]))
    return answers


def only_answer(answers: list[Answer]) -> Answer:
    assert len(answers) == 1, answers
    return answers[0]


def chunked_create_group(chunks: bytes) -> bytes:
    return CREATE_GROUP_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunks


def group_names(logs) -> list[str]:
    return [group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]]


def resident_mib() -> int:
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("reads the resident set size from /proc")
    line = next(line for line in status.read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


# -- bodies are never read past the limit --------------------------------------------------------


def test_a_chunk_size_past_the_limit_is_refused_without_reading_it(server: ServerThread):
    before = resident_mib()
    answer = only_answer(
        exchange(
            server,
            b"POST /v1/describejobqueues HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ffffffffffffffff\r\n{}",
        )
    )
    answer.assert_aws_error(413, "RequestEntityTooLargeException")
    assert resident_mib() - before < 64


def test_chunks_adding_up_past_the_limit_are_refused(server: ServerThread, logs):
    chunk = b"%x\r\n" % (1024 * 1024) + b" " * (1024 * 1024) + b"\r\n"
    chunks = b"1\r\n{\r\n" + chunk * (MAX_BODY_BYTES // len(chunk) + 2) + b"1\r\n}\r\n0\r\n\r\n"
    answer = only_answer(exchange(server, chunked_create_group(chunks)))
    answer.assert_aws_error(413, "RequestEntityTooLargeException")


def test_a_content_length_past_the_limit_is_refused_before_the_body_arrives(server: ServerThread):
    # The body never comes and the client keeps its side open: only an answer from the headers
    # alone ends this exchange.
    request = CREATE_GROUP_HEAD + b"Content-Length: %d\r\n\r\n{" % (MAX_BODY_BYTES + 1)
    answer = only_answer(exchange(server, request, close_writes=False))
    message = answer.assert_aws_error(413, "RequestEntityTooLargeException")
    assert (
        message
        == f"Request body of {MAX_BODY_BYTES + 1} bytes exceeds the maximum of {MAX_BODY_BYTES} bytes."
    )


# -- chunked bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(
            b"9\r\n" + b'{"logGrou' + b"\r\n16\r\n" + b'pName": "chunked"}    ' + b"\r\n0\r\n\r\n", id="plain"
        ),
        pytest.param(b'1f;ext=1;name="v"\r\n{"logGroupName": "chunked"}    \r\n0\r\n\r\n', id="extensions"),
        pytest.param(
            b'1F\r\n{"logGroupName": "chunked"}    \r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n',
            id="trailers",
        ),
        pytest.param(b'1f\n{"logGroupName": "chunked"}    \n0\n\n', id="bare-newlines"),
    ],
)
def test_well_formed_chunked_bodies_are_served(server: ServerThread, logs, chunks: bytes):
    answer = only_answer(exchange(server, chunked_create_group(chunks)))
    assert answer.status == 200, answer
    assert group_names(logs) == ["chunked"]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(b'zz\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n', id="size-not-hex"),
        pytest.param(b'-1b\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n', id="size-negative"),
        pytest.param(b'0x1b\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n', id="size-prefixed"),
        pytest.param(b'\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n', id="size-missing"),
        pytest.param(b'1a\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n', id="data-longer-than-size"),
        pytest.param(b'1b\r\n{"logGroupName": "chunked"}', id="ends-after-data"),
        pytest.param(b'1b\r\n{"logGroupName": "chunked"}\r\n0\r\n', id="ends-before-last-line"),
        pytest.param(b'40\r\n{"logGroupName": "chunked"}', id="ends-inside-a-chunk"),
        pytest.param(b"1b;" + b"x" * 70_000 + b"\r\n", id="size-line-too-long"),
    ],
)
def test_malformed_chunked_bodies_are_refused_and_not_executed(server: ServerThread, logs, chunks: bytes):
    answer = only_answer(exchange(server, chunked_create_group(chunks)))
    answer.assert_aws_error(400, "SerializationException")
    assert group_names(logs) == []


@pytest.mark.parametrize("value", [b"abc", b"-1", b"2, 3", b"0x2", b"\xb2"])
def test_an_invalid_content_length_is_refused_and_not_executed(server: ServerThread, logs, value: bytes):
    request = CREATE_GROUP_HEAD + b"Content-Length: " + value + b'\r\n\r\n{"logGroupName": "cl"}'
    only_answer(exchange(server, request)).assert_aws_error(400, "SerializationException")
    assert group_names(logs) == []


def test_an_unsupported_transfer_coding_is_refused(server: ServerThread, logs):
    request = (
        CREATE_GROUP_HEAD
        + b'Transfer-Encoding: gzip, chunked\r\n\r\n1b\r\n{"logGroupName": "chunked"}\r\n0\r\n\r\n'
    )
    only_answer(exchange(server, request)).assert_aws_error(400, "SerializationException")
    assert group_names(logs) == []


# -- bytes after the body ---------------------------------------------------------------------------


def test_bytes_after_the_body_do_not_hold_the_connection(server: ServerThread):
    # 20 KB past the body, and the client keeps its side open and trickles more: the server
    # answers, closes its side, and then closes the connection rather than reading for ever.
    request = b"POST /v1/describejobqueues HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" + b"x" * 20_000
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_SECONDS) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        answer = only_answer(parse_answers(received))
        assert (answer.status, json.loads(answer.body)) == (200, {"jobQueues": []})
        # Once the server has closed its socket, a byte sent gets a reset, and the next send fails.
        deadline = time.monotonic() + HANG_SECONDS
        with pytest.raises(OSError):
            while time.monotonic() < deadline:
                connection.send(b"x")
                time.sleep(0.05)


def test_a_pipelined_second_request_gets_a_closed_connection(server: ServerThread, logs):
    # The server answers one request per connection (`Connection: close`), so a client that
    # pipelines sends the second one again on a new connection.
    first = CREATE_GROUP_HEAD + b'Content-Length: 24\r\n\r\n{"logGroupName": "one"}\n'
    second = CREATE_GROUP_HEAD + b'Content-Length: 24\r\n\r\n{"logGroupName": "two"}\n'
    answer = only_answer(exchange(server, first + second, close_writes=False))
    assert answer.status == 200
    assert answer.headers["connection"] == "close"
    assert group_names(logs) == ["one"]


# -- what the HTTP layer refuses is an AWS error ------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status", "error_type"),
    [
        pytest.param(
            b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            "RequestURITooLongException",
            id="414",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
            431,
            "RequestHeaderFieldsTooLargeException",
            id="431-long-line",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(150)) + b"\r\n",
            431,
            "RequestHeaderFieldsTooLargeException",
            id="431-many-lines",
        ),
        pytest.param(b"GET / HTTP/x.y\r\nHost: x\r\n\r\n", 400, "BadRequestException", id="bad-version"),
        pytest.param(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400, "BadRequestException", id="http-2"),
        pytest.param(b"GET / extra HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BadRequestException", id="four-words"),
        pytest.param(b"POST /\r\nHost: x\r\n\r\n", 400, "BadRequestException", id="two-words"),
    ],
)
def test_http_layer_refusals_are_aws_errors(
    server: ServerThread, request_bytes: bytes, status: int, error_type: str
):
    only_answer(exchange(server, request_bytes)).assert_aws_error(status, error_type)


@pytest.mark.parametrize("request_line", [b"POST / HTTP/0.9", b"POST / HTTP/0.10"])
def test_http_0_9_is_refused_and_not_executed(server: ServerThread, logs, request_line: bytes):
    request = (
        CREATE_GROUP_HEAD.replace(b"POST / HTTP/1.1", request_line)
        + b'Content-Length: 22\r\n\r\n{"logGroupName": "09"}'
    )
    message = only_answer(exchange(server, request)).assert_aws_error(400, "BadRequestException")
    assert "is not supported; send HTTP/1.1" in message
    assert group_names(logs) == []


def test_a_request_line_of_two_words_is_refused(server: ServerThread):
    # Python reads `GET /` as an HTTP/0.9 request, whose answer would carry no status line.
    answer = only_answer(exchange(server, b"GET /_emulator/health\r\n"))
    answer.assert_aws_error(400, "BadRequestException")


def test_expect_100_continue_gets_one_interim_answer(server: ServerThread, logs):
    request = (
        CREATE_GROUP_HEAD + b'Expect: 100-continue\r\nContent-Length: 24\r\n\r\n{"logGroupName": "exp"}\n'
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_SECONDS) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 100 Continue\r\n") == 1
    assert only_answer(parse_answers(received)).status == 200
    assert group_names(logs) == ["exp"]


def test_empty_lines_before_a_request_line_are_skipped(server: ServerThread):
    # RFC 9112 §2.2: a server ignores empty lines before the request line. Python's parser took the
    # first one for a request and closed the connection with no answer.
    answer = only_answer(exchange(server, b"\r\n\r\nGET /_emulator/health HTTP/1.1.1\r\nHost: x\r\n\r\n"))
    answer.assert_aws_error(400, "BadRequestException")
