"""Check parsed parameters against the input shape before any provider sees them.

Not every client validates before sending (reference §1.6), so the server enforces what the model
declares: required members, JSON types, enums, and the `min`/`max` of strings, lists, maps and
numbers, less the few constraints AWS itself does not enforce (`relaxations.py`). Messages follow
AWS's front-end validation style (`1 validation error detected: Value 'x' at 'a.b' failed to
satisfy constraint: ...`); the error code is the service's own validation error (`ClientException`
for Batch). What AWS checks beyond the model (name patterns, quotas, cross-member rules) belongs to
each service's `rules.py`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape

from emulator.protocol.errors import ServiceError
from emulator.protocol.relaxations import ENUM_CANONICAL_CASE, ENUM_CASE, MIN, is_relaxed

_MAX_SHOWN_VALUE = 64
# A body of a million wrongly typed items must not cost a million sentences (and a 300 MB message).
MAX_LISTED_PROBLEMS = 100

_TYPE_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "timestamp": (int, float, str),
    "blob": (str,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}

_TYPE_WORDS = {"structure": "an object", "map": "an object", "list": "a list", "boolean": "a boolean"}

# Model patterns are Java regexes. Python's `re` has no `\p{..}` classes: letters and numbers are
# approximated by `\w` (which adds `_`, listed next to them wherever the models use them) and
# separators by `\s`. Java also reads `[\w-_]` as a class with a literal `-`, which `re` rejects.
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s"}
_CLASS_BEFORE_DASH = re.compile(r"(\\[wdsWDS])-")


class _EnoughProblems(Exception):
    pass


class _Problems(list):
    """Ends the walk once more than MAX_LISTED_PROBLEMS sentences are collected."""

    def append(self, problem: str) -> None:
        super().append(problem)
        if len(self) > MAX_LISTED_PROBLEMS:
            raise _EnoughProblems


def find_violations(shape: Shape | None, params: dict[str, Any]) -> list[str]:
    """Every constraint the parameters break, as AWS-style sentences; empty when valid. The walk
    stops after MAX_LISTED_PROBLEMS + 1 sentences."""
    if shape is None:
        return []
    problems = _Problems()
    try:
        _check_structure(shape, params, "", problems)
    except _EnoughProblems:
        pass
    return list(problems)


def validate(shape: Shape | None, params: dict[str, Any], *, error_code: str, wrapped: bool) -> None:
    problems = find_violations(shape, params)
    if not problems:
        return
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    if count > MAX_LISTED_PROBLEMS:
        message = f"More than {MAX_LISTED_PROBLEMS} validation errors detected: " + "; ".join(
            problems[:MAX_LISTED_PROBLEMS]
        )
    else:
        message = f"{count} validation {noun} detected: " + "; ".join(problems)
    raise ServiceError(error_code, message, wrapped=wrapped)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _text(value: Any, room: int = _MAX_SHOWN_VALUE + 1) -> str:
    """The value as AWS's Java front end prints it: `null`, `true`, `[a, b]`, `{k=v}`.

    Stops once `room` characters are written: every level of nesting spends at least one, so a huge
    or deeply nested value costs no more than the few characters `_shown` keeps."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        opener, closer = ("[", "]") if isinstance(value, list) else ("{", "}")
        text = opener
        for item in value.items() if isinstance(value, dict) else value:
            if len(text) > room:
                break
            if len(text) > 1:
                text += ", "
            if isinstance(value, dict):
                key = _text(item[0], room - len(text))
                text += key + "=" + _text(item[1], room - len(text) - len(key) - 1)
            else:
                text += _text(item, room - len(text))
        return text + closer
    if isinstance(value, str):
        return value[: room + 1]
    return str(value)


def _shown(value: Any) -> str:
    text = _text(value)
    return text if len(text) <= _MAX_SHOWN_VALUE else text[:_MAX_SHOWN_VALUE] + "..."


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    expected = _TYPE_CHECKS.get(kind, (object,))
    is_bool = isinstance(value, bool)
    if not isinstance(value, expected) or (is_bool and kind not in ("boolean",)):
        word = _TYPE_WORDS.get(kind, f"of type {kind}")
        problems.append(
            f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must be {word}"
        )
        return
    if kind == "structure":
        _check_structure(shape, value, path, problems)
    elif kind == "list":
        _check_size(shape, len(value), value, path, problems, "length")
        for index, item in enumerate(value, start=1):
            _check_item(shape.member, item, f"{path}.{index}.member", problems)
    elif kind == "map":
        _check_size(shape, len(value), value, path, problems, "length")
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", problems)
            _check_item(shape.value, item, f"{path}.{key}", problems)
    elif kind == "string":
        _check_string(shape, value, path, problems)
    elif kind in ("integer", "long", "float", "double"):
        _check_size(shape, value, value, path, problems, "value")


def _check_item(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if value is None:
        problems.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")
    else:
        _check(shape, value, path, problems)


def _check_structure(shape: Shape, value: dict[str, Any], path: str, problems: list[str]) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(
                f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
            )
    for name, item in value.items():
        if item is not None and name in shape.members:
            _check(shape.members[name], item, _join(path, name), problems)


def _check_string(shape: Shape, value: str, path: str, problems: list[str]) -> None:
    enum = shape.enum
    if enum and not _is_listed(shape, value):
        problems.append(
            f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(enum)}]"
        )
        return
    _check_size(shape, len(value), value, path, problems, "length")
    pattern = shape.metadata.get("pattern")
    regex = _compiled(pattern) if pattern else None
    if regex is not None and regex.fullmatch(value) is None:
        problems.append(
            f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}"
        )


def _is_listed(shape: Shape, value: str) -> bool:
    if value in shape.enum:
        return True
    return _ignores_case(shape) and _model_spelling(shape, value) is not None


def _ignores_case(shape: Shape) -> bool:
    return is_relaxed(shape.name, ENUM_CASE) or is_relaxed(shape.name, ENUM_CANONICAL_CASE)


def _model_spelling(shape: Shape, value: str) -> str | None:
    folded = value.casefold()
    return next((member for member in shape.enum if member.casefold() == folded), None)


def in_model_spelling(shape: Shape | None, params: dict[str, Any]) -> dict[str, Any]:
    """Valid parameters with each enum value whose shape is relaxed to `enum-canonical-case`
    spelled as the model spells it, so services and the engine see only the model's values. Walks
    only the members that can lead to such a shape; `params` itself for operations with none."""
    if shape is None or not _leads_to_canonical_enum(shape):
        return params
    return _respelled(shape, params)


def _respelled(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "string" and isinstance(value, str) and is_relaxed(shape.name, ENUM_CANONICAL_CASE):
        return _model_spelling(shape, value) or value
    if not _leads_to_canonical_enum(shape):
        return value
    if kind == "structure" and isinstance(value, dict):
        return {
            name: _respelled(shape.members[name], item) if name in shape.members else item
            for name, item in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [_respelled(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _respelled(shape.value, item) for key, item in value.items()}
    return value


# Shape name -> whether it is, or contains, an enum relaxed to `enum-canonical-case`.
_LEADS: dict[str, bool] = {}


def _leads_to_canonical_enum(shape: Shape) -> bool:
    """Whether `shape` is, or contains, an enum relaxed to `enum-canonical-case`; memoized by shape
    name, which the relaxation tests keep unambiguous between the two models."""
    if shape.name not in _LEADS:
        _LEADS[shape.name] = _reaches_canonical_enum(shape, frozenset())
    return _LEADS[shape.name]


def _reaches_canonical_enum(shape: Shape, visiting: frozenset[str]) -> bool:
    if is_relaxed(shape.name, ENUM_CANONICAL_CASE):
        return True
    if shape.name in visiting:
        return False
    kind = shape.type_name
    if kind == "structure":
        children = list(shape.members.values())
    elif kind == "list":
        children = [shape.member]
    elif kind == "map":
        children = [shape.value]
    else:
        return False
    return any(_reaches_canonical_enum(child, visiting | {shape.name}) for child in children)


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """AWS checks patterns as Java's `String.matches` does, against the whole value
    (`[^:*]*` rejects the log stream name `a:b`). None when `re` cannot express the pattern."""
    translated = pattern
    for java, python in _JAVA_CLASSES.items():
        translated = translated.replace(java, python)
    try:
        return re.compile(_CLASS_BEFORE_DASH.sub(r"\1\\-", translated))
    except re.error:
        return None


def _check_size(shape: Shape, size: float, value: Any, path: str, problems: list[str], what: str) -> None:
    low = None if is_relaxed(shape.name, MIN) else shape.metadata.get("min")
    high = shape.metadata.get("max")
    shown = _shown(value)
    if low is not None and size < low:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {low}"
        )
    if high is not None and size > high:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {high}"
        )
