"""How output bytes become log lines (executors/output.py), whatever chunks they arrive in: one line
per newline, and a line longer than Docker's 16 KiB message limit split into 16 KiB pieces."""

from __future__ import annotations

import pytest

from emulator.executors.output import MAX_LINE_BYTES, take_lines


def lines_from(chunks: list[bytes]) -> list[int]:
    buffer = bytearray()
    lengths = []
    for chunk in chunks:
        buffer += chunk
        lengths.extend(len(line) for line in take_lines(buffer))
    return [*lengths, len(buffer)] if buffer else lengths


@pytest.mark.parametrize("chunk_size", [1_000, 4_096, 20_000, 40_001], ids=lambda size: f"chunks-{size}")
def test_a_long_line_is_split_the_same_whatever_the_chunks(chunk_size):
    output = b"a" * 40_000 + b"\n"
    chunks = [output[start : start + chunk_size] for start in range(0, len(output), chunk_size)]
    assert lines_from(chunks) == [MAX_LINE_BYTES, MAX_LINE_BYTES, 40_000 - 2 * MAX_LINE_BYTES]


def test_a_line_of_exactly_the_limit_is_one_message():
    assert lines_from([b"b" * MAX_LINE_BYTES, b"\nc\n"]) == [MAX_LINE_BYTES, 1]


def test_short_lines_and_an_unfinished_one():
    buffer = bytearray(b"one\ntwo\nthr")
    assert take_lines(buffer) == [b"one", b"two"]
    assert buffer == bytearray(b"thr")
