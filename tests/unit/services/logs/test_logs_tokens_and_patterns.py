"""Logs tokens round-trip exactly and reject what they did not mint; filter patterns match the
term subset of CloudWatch Logs' syntax."""

from __future__ import annotations

import base64

import pytest

from emulator.protocol.errors import ServiceError
from emulator.services.logs import tokens
from emulator.services.logs.patterns import compile_filter_pattern


@pytest.mark.parametrize("gap", [(0, 0), (1_700_000_000_123, 7), (2**63 - 1, 2**63 - 1)])
@pytest.mark.parametrize("direction", [tokens.FORWARD, tokens.BACKWARD])
def test_event_tokens_round_trip_to_the_same_string(direction: str, gap: tuple[int, int]) -> None:
    token = tokens.encode_event_token(direction, gap)
    assert token.startswith(f"{direction}/") and token.endswith("/s")
    assert tokens.decode_event_token(token) == (direction, gap)
    assert tokens.encode_event_token(*tokens.decode_event_token(token)) == token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "f/",
        "f/1/s",
        "f/" + "0" * 56,
        "f/" + "0" * 57 + "/s",
        "g/" + "0" * 56 + "/s",
        "f/" + "0" * 55 + "a/s",
        " f/" + "0" * 56 + "/s",
        "f/" + "٠" * 56 + "/s",  # Arabic-Indic zeros: int() reads them, the token would not re-encode
        "f/" + "9" * 56 + "/s",  # beyond what a timestamp or a sequence can be (SQLite's 64 bits)
    ],
)
def test_event_tokens_reject_anything_else(token: str) -> None:
    with pytest.raises(ServiceError) as caught:
        tokens.decode_event_token(token)
    assert (caught.value.code, caught.value.message) == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )


def test_page_tokens_round_trip() -> None:
    token = tokens.encode_page_token("streams-by-time", (1_700_000_000_000, "job/default/abc"))
    assert tokens.decode_page_token("streams-by-time", token, (int, str)) == (
        1_700_000_000_000,
        "job/default/abc",
    )
    assert tokens.decode_filter_token(tokens.encode_filter_token((5, 6, 7))) == (5, 6, 7)


@pytest.mark.parametrize(
    ("kind", "types", "token"),
    [
        ("groups", (str,), tokens.encode_page_token("streams-by-name", ("a",))),  # another listing's token
        ("groups", (str,), tokens.encode_page_token("groups", (1,))),  # wrong type
        ("groups", (str,), tokens.encode_page_token("groups", ("a", "b"))),  # wrong length
        ("filter", (int, int, int), tokens.encode_page_token("filter", (True, 1, 1))),
        ("groups", (str,), "not base64 at all!"),
        ("groups", (str,), "bm90IGpzb24="),  # base64 of "not json"
        ("groups", (str,), "é"),
        ("groups", (str,), base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode()),  # too deep
        ("filter", (int, int, int), tokens.encode_page_token("filter", (2**63, 1, 1))),  # beyond 64 bits
        ("groups", (str,), tokens.encode_page_token("groups", ("a" * 20_000,))),  # longer than any minted
    ],
)
def test_page_tokens_reject_anything_else(kind: str, types: tuple, token: str) -> None:
    with pytest.raises(ServiceError) as caught:
        tokens.decode_page_token(kind, token, types)
    assert caught.value.code == "InvalidParameterException"


def test_event_ids_are_56_digits_and_distinct() -> None:
    ids = {tokens.event_id(t, s, q) for t in (0, 1_700_000_000_000) for s in (1, 2) for q in (0, 1)}
    assert len(ids) == 8
    assert all(len(value) == 56 and value.isdigit() for value in ids)


@pytest.mark.parametrize("pattern", [None, "", "   ", '""'])
def test_empty_patterns_match_everything(pattern: str | None) -> None:
    assert compile_filter_pattern(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "message", "matched"),
    [
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),
        ("ERROR disk", "disk ERROR", True),  # terms in any order
        ("ERROR disk", "ERROR net", False),
        ('"Out of memory"', "Out of memory: killed", True),
        ('"Out of memory"', "Out of the memory", False),
        ('ERROR "no space"', "ERROR: no space left", True),
        ("?WARN ?ERROR", "WARN slow", True),
        ("?WARN ?ERROR", "INFO fine", False),
        ("ERROR -retrying", "ERROR retrying", False),
        ("ERROR -retrying", "ERROR giving up", True),
        ('-"no space"', "no space", False),
        ("%ERR.*%", "%ERR.*% literally", True),  # regex syntax read as a literal term
        ("%ERR.*%", "ERROR", False),
        ("[ip, user]", "[ip, user] x", True),  # space-delimited syntax read as literal terms
        ('"unterminated', 'an "unterminated quote', True),
        ("- ?", "a - and ? b", True),  # lone markers are literal
    ],
)
def test_term_patterns(pattern: str, message: str, matched: bool) -> None:
    matches = compile_filter_pattern(pattern)
    assert matches is not None
    assert matches(message) is matched
