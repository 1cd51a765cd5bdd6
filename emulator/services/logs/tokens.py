"""The opaque strings CloudWatch Logs mints: pagination tokens, sequence tokens and event ids.

GetLogEvents tokens look like AWS's (`f/<56 digits>/s`, `b/<56 digits>/s`): the digits are the
timestamp (20) and the per-stream sequence (36) of the stream gap they stand for, so a client can
keep a token while events are appended and still read on from where it stopped. Decoding is
strict, so a token always re-encodes to the very same string: when nothing new has arrived,
GetLogEvents hands back the forward token it was given, which is how boto3 loops and log tailers
know they have caught up.

Describe* and FilterLogEvents tokens are base64url JSON naming the kind of listing and the sort
key of the last item returned; a token from another listing, or one that does not decode, is
rejected with InvalidParameterException.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from emulator.engine.numeric_text import INT64_MAX
from emulator.services.logs.errors import invalid_next_token
from emulator.stores.base import GroupKey, StreamGap

FORWARD = "f"
BACKWARD = "b"

_TIMESTAMP_DIGITS = 20
_SEQUENCE_DIGITS = 36
_EVENT_TOKEN = re.compile(rf"([fb])/([0-9]{{{_TIMESTAMP_DIGITS}}})([0-9]{{{_SEQUENCE_DIGITS}}})/s")
# Minted page tokens hold a listing name and a key of at most two names of 512 characters each,
# which JSON may write as \uXXXX escapes: far below this.
_MAX_PAGE_TOKEN_LENGTH = 16 * 1024


def encode_event_token(direction: str, gap: StreamGap) -> str:
    timestamp_ms, sequence = gap
    return f"{direction}/{max(timestamp_ms, 0):0{_TIMESTAMP_DIGITS}d}{sequence:0{_SEQUENCE_DIGITS}d}/s"


def decode_event_token(token: str) -> tuple[str, StreamGap]:
    """(direction, gap) of a GetLogEvents token; InvalidParameterException when it is not one
    (ASCII digits only, so that it re-encodes to the very same string)."""
    found = _EVENT_TOKEN.fullmatch(token)
    if found is None:
        raise invalid_next_token()
    timestamp_ms, sequence = int(found.group(2)), int(found.group(3))
    if timestamp_ms > INT64_MAX or sequence > INT64_MAX:  # never minted; SQLite could not hold it
        raise invalid_next_token()
    return found.group(1), (timestamp_ms, sequence)


def encode_page_token(kind: str, key: tuple[Any, ...]) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_page_token(kind: str, token: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The sort key inside a token minted by `encode_page_token(kind, ...)`, checked against
    `types`; InvalidParameterException for anything else, including a token longer than any minted
    here or one nesting JSON too deeply to parse."""
    if len(token) > _MAX_PAGE_TOKEN_LENGTH:
        raise invalid_next_token()
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        raise invalid_next_token() from None
    if not isinstance(decoded, list) or len(decoded) != len(types) + 1 or decoded[0] != kind:
        raise invalid_next_token()
    key = tuple(decoded[1:])
    for value, expected in zip(key, types, strict=True):
        if not isinstance(value, expected) or isinstance(value, bool):
            raise invalid_next_token()
        if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:  # as SQLite stores them
            raise invalid_next_token()
    return key


def encode_filter_token(key: GroupKey) -> str:
    return encode_page_token("filter", key)


def decode_filter_token(token: str) -> GroupKey:
    timestamp_ms, stream_id, sequence = decode_page_token("filter", token, (int, int, int))
    return timestamp_ms, stream_id, sequence


def sequence_token(stream_id: int, upload_count: int) -> str:
    """A 56-digit upload sequence token, as AWS shows them. PutLogEvents ignores the one it is sent
    (as AWS has since January 2023), so this only has to change with every upload."""
    return f"49{stream_id:027d}{upload_count:027d}"


def event_id(timestamp_ms: int, stream_id: int, sequence: int) -> str:
    """A 56-digit event id, unique within the group and stable across calls, so a tailer that
    de-duplicates by eventId (as `aws logs tail --follow` does) sees each event once."""
    return f"{max(timestamp_ms, 0):020d}{stream_id:018d}{sequence:018d}"
