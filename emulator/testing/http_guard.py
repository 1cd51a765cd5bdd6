"""GuardedRequestHandler: the HTTP/1.1 front door of every server the emulator runs (ServerThread).

werkzeug's development server is written for a trusted developer's browser, and raw sockets find
what that costs:

- it decodes chunked bodies with no size limit, and a chunk size larger than what follows makes
  it count bytes it never received, so one unauthenticated request grows memory without end (the
  body is read before a signature is checked);
- it refuses chunk extensions and trailers, which HTTP/1.1 allows, and a malformed chunk raises
  an OSError inside the app, which becomes a 500;
- after answering, it drains the connection with a blocking read of up to 10 MB, so a client that
  sends bytes past its body and keeps the connection open holds a thread;
- Python's http.server answers a malformed request line or oversized headers with an HTML page,
  with no status line when the version is unreadable, and executes HTTP/0.9 requests.

So this handler reads the whole body itself before the app runs, never past MAX_BODY_BYTES (the
app then sees a complete body in memory, and a malformed one is never executed); refuses what it
cannot accept with a real HTTP/1.1 status line and AWS's JSON error shape; and closes each
connection after a drain bounded in bytes and time.
"""

from __future__ import annotations

import io
import logging
import re
import selectors
import socket
import time
import uuid
from email.message import Message
from typing import BinaryIO

from werkzeug.serving import WSGIRequestHandler

from emulator.protocol.errors import ServiceError
from emulator.protocol.parsing import MAX_BODY_BYTES, RequestEntityTooLargeException, SerializationException
from emulator.protocol.serializing import serialize_error

# The limits of Python's own request-line and header parsers (http.server, http.client), which
# chunk-size and trailer lines share.
MAX_LINE_BYTES = 65536
MAX_HEADER_LINES = 100
# After the response, bytes still arriving are read and dropped so that closing does not reset the
# connection before the client has read the answer; a client that keeps sending past these bounds
# gets the reset.
LINGER_SECONDS = 2.0
LINGER_QUIET_SECONDS = 0.25
LINGER_BYTES = 2 * MAX_BODY_BYTES

# What the HTTP layer refuses, named after the status as AWS names RequestEntityTooLargeException.
ERROR_TYPES = {
    400: "BadRequestException",
    413: "RequestEntityTooLargeException",
    414: "RequestURITooLongException",
    431: "RequestHeaderFieldsTooLargeException",
}
# Python's parser says too little in these cases: the 414 comes with no message at all.
_REWORDED = {
    (414, None): f"The request line is longer than {MAX_LINE_BYTES} bytes.",
    (431, "Line too long"): f"A header line is longer than {MAX_LINE_BYTES} bytes.",
    (431, "Too many headers"): f"The request has more than {MAX_HEADER_LINES} header lines.",
}
_DIGITS = re.compile(r"[0-9]+")
_ACCESS_LOG = logging.getLogger("werkzeug")
_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]+")


MAX_LEADING_EMPTY_LINES = 8


class GuardedRequestHandler(WSGIRequestHandler):
    """werkzeug's WSGI handler with the body, refusals and closing of this module's docstring."""

    protocol_version = "HTTP/1.1"
    _body = b""
    _expect: str | None = None
    _socket_reader: BinaryIO | None = None

    def parse_request(self) -> bool:
        """Python's parser, minus HTTP/0.9 (whose answers carry no status line) and HTTP/2+, and
        after the empty lines a client may send before a request line (RFC 9112 §2.2), which
        Python's parser takes for a request and closes on without an answer."""
        for _ in range(MAX_LEADING_EMPTY_LINES):
            if self.raw_requestline not in (b"\r\n", b"\n"):
                break
            self.raw_requestline = self.rfile.readline(MAX_LINE_BYTES + 1)
        # What Python's parser sets first, for the refusals below (their log line reads them).
        self.command, self.request_version = None, "HTTP/0.9"
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        if len(self.raw_requestline) > MAX_LINE_BYTES:
            self.send_error(414)
            return False
        if len(self.raw_requestline.split()) == 2:
            # A two-word request line is HTTP/0.9, which has no headers: Python's parser would
            # still wait for them, holding the connection with no answer.
            self.send_error(400, "HTTP version 'HTTP/0.9' is not supported; send HTTP/1.1")
            return False
        if not super().parse_request():
            return False
        if _major_version(self.request_version) != 1:
            self.send_error(400, f"HTTP version {self.request_version!r} is not supported; send HTTP/1.1")
            return False
        return True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """werkzeug formats each request's access-log line (address, date, colours) before its
        logger drops it: a tenth of a canned answer's cost under load. `batch-emulator` keeps that
        logger at WARNING; where nobody set its level, werkzeug's own default (INFO) still logs."""
        if _ACCESS_LOG.level == logging.NOTSET or _ACCESS_LOG.isEnabledFor(logging.INFO):
            super().log_request(code, size)

    def handle_expect_100(self) -> bool:
        """Deferred to run_wsgi, which knows whether the body will be accepted."""
        return True

    def run_wsgi(self) -> None:
        try:
            length = declared_length(self.headers)
            self._answer_expect_continue()
            self._body = read_body(self.rfile, length)
        except ServiceError as refusal:
            self.send_refusal(refusal)
            return
        # Nothing more is read from this connection's stream: werkzeug's own drain after the
        # response finds this empty stream at once, and finish() drains the socket within bounds.
        self._socket_reader, self.rfile = self.rfile, io.BytesIO()
        super().run_wsgi()

    def make_environ(self) -> dict:
        environ = super().make_environ()
        environ["wsgi.input"] = io.BytesIO(self._body)
        environ["wsgi.input_terminated"] = True
        if self._expect is not None:
            environ["HTTP_EXPECT"] = self._expect
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What Python's parser refuses, as an AWS error rather than its HTML page. A 505 (HTTP/2
        or later on the request line) becomes a 400: clients retry 5xx answers."""
        status = code if code < 500 else 400
        text = _REWORDED.get((code, message)) or f"{message or 'Bad request'}."
        self.command = None  # a request the parser refused has no method: its answer has a body
        self.send_refusal(ServiceError(ERROR_TYPES.get(status, ERROR_TYPES[400]), text, status=status))

    def send_refusal(self, error: ServiceError) -> None:
        wire = serialize_error(None, error, str(uuid.uuid4()))
        self.request_version = self.protocol_version  # a status line even for an unreadable version
        self.close_connection = True
        self.send_response(wire.status)
        for name, value in wire.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(wire.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(wire.body)

    def finish(self) -> None:
        super().finish()
        if self._socket_reader is not None:
            self._socket_reader.close()
        drain_and_close_writes(self.connection)

    def _answer_expect_continue(self) -> None:
        """`100 Continue` once the declared body is acceptable, and only once: werkzeug's run_wsgi
        would send another, so the header is kept aside for the app's environ."""
        self._expect = self.headers.get("Expect")
        if self._expect is None:
            return
        del self.headers["Expect"]
        if self._expect.strip(" \t").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()


def _major_version(version: str) -> int:
    # Python's parser has checked the digits; a request line of two words leaves "HTTP/0.9".
    return int(version.partition("/")[2].partition(".")[0])


def declared_length(headers: Message) -> int | None:
    """The body's length from Content-Length (0 without one), or None for a chunked body; a
    length over MAX_BODY_BYTES is refused here, before a byte of the body is read."""
    codings = [
        coding.strip(" \t").lower()
        for value in headers.get_all("Transfer-Encoding", [])
        for coding in value.split(",")
        if coding.strip(" \t")
    ]
    if codings:
        if codings != ["chunked"]:
            raise SerializationException(
                f"Transfer-Encoding {', '.join(codings)!r} is not supported; send chunked or a Content-Length."
            )
        return None  # Transfer-Encoding wins over any Content-Length, as HTTP/1.1 says
    lengths = {
        item.strip(" \t") for value in headers.get_all("Content-Length", []) for item in value.split(",")
    }
    if not lengths:
        return 0
    value = lengths.pop()
    if lengths or not _DIGITS.fullmatch(value):
        raise SerializationException("Content-Length must be one decimal byte count.")
    length = _number(value, 10)
    if length is None or length > MAX_BODY_BYTES:
        raise _too_large(length)
    return length


def read_body(stream: BinaryIO, length: int | None) -> bytes:
    """The whole body: `length` bytes, or a chunked body when `length` is None."""
    if length is None:
        return read_chunked(stream)
    body = stream.read(length) if length else b""
    if len(body) < length:
        raise SerializationException(
            f"The request body ended after {len(body)} of the {length} bytes its Content-Length declares."
        )
    return body


def read_chunked(stream: BinaryIO, limit: int = MAX_BODY_BYTES) -> bytes:
    """A chunked body, decoded: chunk extensions are ignored and trailer fields dropped, as
    HTTP/1.1 allows; a body that would exceed `limit` is refused before its chunk is read."""
    body = bytearray()
    while size := _chunk_size(_read_line(stream, "chunk size")):
        if len(body) + size > limit:
            raise _too_large(None, limit)  # the size of the whole body is not known
        chunk = stream.read(size)
        if len(chunk) < size:
            raise SerializationException("The chunked request body ended inside a chunk.")
        body += chunk
        if _read_line(stream, "chunk end"):
            raise SerializationException("A chunk of the request body is longer than its declared size.")
    for _ in range(MAX_HEADER_LINES + 1):
        if not _read_line(stream, "trailer"):
            return bytes(body)
    raise SerializationException(f"The chunked request body has more than {MAX_HEADER_LINES} trailer lines.")


def _read_line(stream: BinaryIO, what: str) -> bytes:
    """One line of a chunked body, without its CRLF (or bare LF)."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise SerializationException(
            f"A {what} line of the request body is longer than {MAX_LINE_BYTES} bytes."
        )
    if not line.endswith(b"\n"):
        raise SerializationException(f"The chunked request body ended inside a {what} line.")
    line = line[:-1]
    return line[:-1] if line.endswith(b"\r") else line


def _chunk_size(line: bytes) -> int:
    size = line.partition(b";")[0].rstrip(b" \t")  # what follows `;` is a chunk extension
    if not _HEX_DIGITS.fullmatch(size):
        raise SerializationException(
            f"Invalid chunk size line {line[:100].decode('latin-1')!r} in the request body."
        )
    number = _number(size.decode("ascii"), 16)
    return MAX_BODY_BYTES + 1 if number is None else number


def _number(digits: str, base: int) -> int | None:
    """The number, or None when it has more digits than any size worth converting (Python
    refuses to convert over 4,300 decimal digits at all)."""
    significant = digits.lstrip("0")
    return int(significant or "0", base) if len(significant) <= 16 else None


def _too_large(size: int | None, limit: int = MAX_BODY_BYTES) -> ServiceError:
    if size is not None:
        return RequestEntityTooLargeException(size)
    return ServiceError(
        "RequestEntityTooLargeException", f"Request body exceeds the maximum of {limit} bytes.", status=413
    )


def drain_and_close_writes(connection: socket.socket) -> None:
    """Send FIN, then read and drop what the client still sends until it closes, falls quiet for
    LINGER_QUIET_SECONDS, or passes LINGER_SECONDS or LINGER_BYTES. Closing a socket with unread
    input resets the connection, which can destroy the answer before the client reads it; waiting
    for that input without a bound is what held werkzeug's threads."""
    try:
        connection.shutdown(socket.SHUT_WR)
    except OSError:
        return
    deadline = time.monotonic() + LINGER_SECONDS
    buffer = bytearray(65536)
    drained = 0
    with selectors.DefaultSelector() as selector:
        selector.register(connection, selectors.EVENT_READ)
        while drained < LINGER_BYTES and (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(min(LINGER_QUIET_SECONDS, remaining)):
                return
            try:
                received = connection.recv_into(buffer)
            except OSError:
                return
            if not received:
                return
            drained += received
