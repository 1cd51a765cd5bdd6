"""Opaque pagination tokens for every paginated Batch operation (reference §1.7).

A token is base64 of JSON `{"op": <operation>, "after": <sort key of the last item shown>}`. The next
page starts after that key, not at an offset, so pages stay stable while items are added or removed
between calls. A token that does not decode, was minted by another operation, is longer than any
token minted here, or holds anything but such a key (an integer, a string, or a short flat list of
them) is refused with a ClientException: a forged token never reaches a comparison or a deeply
recursive parse.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from emulator.engine.numeric_text import INT64_MAX
from emulator.services.batch import errors

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
# Minted tokens hold an operation name and a key of a few numbers and ids: well under 1 KiB.
MAX_TOKEN_LENGTH = 2048
MAX_KEY_PARTS = 4


def encode_token(operation: str, after: Any) -> str:
    raw = json.dumps({"op": operation, "after": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(operation: str, token: str) -> Any:
    document = None
    if len(token) <= MAX_TOKEN_LENGTH:
        try:
            document = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            document = None
    if (
        not isinstance(document, dict)
        or document.keys() != {"op", "after"}
        or document["op"] != operation
        or not _is_key(document["after"])
    ):
        # Unverified wording.
        raise errors.invalid("Invalid nextToken")
    return document["after"]


def _is_key(value: Any) -> bool:
    """A sort key as `encode_token` writes them: an integer, a string, or a flat list of those."""
    if isinstance(value, list):
        return 0 < len(value) <= MAX_KEY_PARTS and all(_is_scalar_key(part) for part in value)
    return _is_scalar_key(value)


def _is_scalar_key(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return -INT64_MAX - 1 <= value <= INT64_MAX
    return isinstance(value, str)


def check_max_results(max_results: int | None, limit: int = 100) -> int:
    """AWS's handling of out-of-range values is unverified (Appendix D item 12); rejecting is the
    safer emulation."""
    if max_results is None:
        return min(DEFAULT_PAGE_SIZE, limit)
    if not 1 <= max_results <= limit:
        raise errors.invalid(f"maxResults must be between 1 and {limit}")
    return max_results


def paginate(
    operation: str,
    items: Sequence[T],
    key: Callable[[T], Any],
    *,
    max_results: int | None,
    next_token: str | None,
    limit: int = 100,
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted ascending by `key`) and the token of the next page."""
    page_size = check_max_results(max_results, limit)
    remaining = list(items)
    if next_token:
        after = _as_comparable(decode_token(operation, next_token))
        try:
            remaining = [item for item in remaining if _as_comparable(key(item)) > after]
        except TypeError:  # a forged token whose key has another type
            raise errors.invalid("Invalid nextToken") from None
    page = remaining[:page_size]
    if len(remaining) > page_size:
        return page, encode_token(operation, key(page[-1]))
    return page, None


def _as_comparable(value: Any) -> Any:
    """JSON turns tuples into lists; compare both as lists."""
    return list(value) if isinstance(value, (list, tuple)) else value
