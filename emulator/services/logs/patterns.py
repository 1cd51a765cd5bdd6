"""FilterLogEvents filter patterns: the term-matching subset of CloudWatch Logs' syntax.

Supported, as AWS documents them for unstructured log events (matching is case-sensitive):

- an empty pattern matches every event;
- `ERROR Exception` matches events that contain every term;
- `"Out of memory"` matches a phrase, spaces and all;
- `?ERROR ?WARN` matches events that contain at least one of the `?` terms;
- `ERROR -Exiting` drops events that contain a `-` term.

Not supported: JSON patterns (`{ $.level = "error" }`), space-delimited patterns (`[ip, user, ...]`),
regular expressions (`%...%`) and numeric comparisons. AWS accepts them, so rejecting them would
break callers; instead their pieces are read as literal terms like any other, which usually means
they match nothing. TODO: JSON and space-delimited patterns, once a conformance scenario needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TermPattern:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    excluded: tuple[str, ...]

    def matches(self, message: str) -> bool:
        if any(term not in message for term in self.required):
            return False
        if self.optional and not any(term in message for term in self.optional):
            return False
        return not any(term in message for term in self.excluded)


def compile_filter_pattern(pattern: str | None) -> Callable[[str], bool] | None:
    """A predicate over messages, or None when the pattern matches everything."""
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    for marker, term in _terms(pattern or ""):
        {"?": optional, "-": excluded}.get(marker, required).append(term)
    if not (required or optional or excluded):
        return None
    return TermPattern(tuple(required), tuple(optional), tuple(excluded)).matches


def _terms(pattern: str) -> list[tuple[str, str]]:
    """(marker, term) pairs: marker is "?", "-" or ""; a quoted phrase keeps its spaces."""
    terms: list[tuple[str, str]] = []
    index, length = 0, len(pattern)
    while index < length:
        if pattern[index].isspace():
            index += 1
            continue
        marker = ""
        if pattern[index] in "?-" and index + 1 < length and not pattern[index + 1].isspace():
            marker = pattern[index]
            index += 1
        if pattern[index] == '"':
            closing = pattern.find('"', index + 1)
            if closing != -1:
                terms.append((marker, pattern[index + 1 : closing]))
                index = closing + 1
                continue
        end = index
        while end < length and not pattern[end].isspace():
            end += 1
        terms.append((marker, pattern[index:end]))
        index = end
    return [(marker, term) for marker, term in terms if term]
