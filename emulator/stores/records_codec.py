"""The engine's records as JSON and back: the one place a `Job` becomes a row and a row a `Job`.

The codec is driven by the dataclasses' own type hints, so a field added to `records.py` (a new
member of `Job`, `Attempt`, `ContainerSpec`, ...) is stored and read back without touching this
module, as long as its type is built from what is handled here: `str`/`int`/`float`/`bool`/`None`,
`str` enums, frozen dataclasses, `tuple[X, ...]` and fixed tuples, `Mapping[str, X]`, `X | None`
and `Any` (kept as the JSON it is). A field missing from a stored row (written before the field
existed) takes its default; a stored key the class no longer has is dropped.

One plan per class is built on first use and cached, so encoding a job is a walk over a
precomputed list of (name, converter) pairs rather than a type inspection per value.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

Convert = Callable[[Any], Any]

_encoders: dict[Any, Convert] = {}
_decoders: dict[Any, Convert] = {}
_plans_lock = threading.RLock()


def encode(record: Any) -> dict[str, Any]:
    """A dataclass record as a JSON-ready dict."""
    return _encoder(type(record))(record)


def decode(cls: type, data: Mapping[str, Any]) -> Any:
    """The record of class `cls` that `encode` turned into `data`."""
    return _decoder(cls)(data)


def dumps(record: Any) -> str:
    return json.dumps(encode(record), separators=(",", ":"), ensure_ascii=False)


def loads(cls: type, text: str) -> Any:
    return decode(cls, json.loads(text))


# ---- plans -----------------------------------------------------------------------------------


def _identity(value: Any) -> Any:
    return value


def _encoder(hint: Any) -> Convert:
    return _plan(_encoders, hint, _build_encoder)


def _decoder(hint: Any) -> Convert:
    return _plan(_decoders, hint, _build_decoder)


def _plan(plans: dict[Any, Convert], hint: Any, build: Callable[[Any], Convert]) -> Convert:
    """The plan for `hint`, built once (a build can recurse into other hints, hence the RLock)."""
    found = plans.get(hint)
    if found is None:
        with _plans_lock:
            found = plans.get(hint)
            if found is None:
                found = plans[hint] = build(hint)
    return found


def _is_optional(hint: Any) -> tuple[bool, list[Any]]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        return type(None) in args, [arg for arg in args if arg is not type(None)]
    return False, []


def _build_encoder(hint: Any) -> Convert:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_encoder(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return lambda value: value.value
    is_union, members = _is_optional(hint)
    if is_union:
        if len(members) != 1:
            return _dynamic_encode
        inner = _encoder(members[0])
        return lambda value: None if value is None else inner(value)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _encoder(args[0])
            return lambda value: [item(v) for v in value]
        items = [_encoder(arg) for arg in args]
        return lambda value: [convert(v) for convert, v in zip(items, value, strict=True)]
    if origin in (Mapping, dict):
        item = _encoder(args[1]) if len(args) == 2 else _dynamic_encode
        return lambda value: {key: item(v) for key, v in value.items()}
    if hint in (str, int, float, bool, type(None)):
        return _identity
    return _dynamic_encode


def _build_decoder(hint: Any) -> Convert:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    is_union, members = _is_optional(hint)
    if is_union:
        if len(members) != 1:
            return _identity
        inner = _decoder(members[0])
        return lambda value: None if value is None else inner(value)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda value: tuple(item(v) for v in value)
        items = [_decoder(arg) for arg in args]
        return lambda value: tuple(convert(v) for convert, v in zip(items, value, strict=True))
    if origin in (Mapping, dict):
        item = _decoder(args[1]) if len(args) == 2 else _identity
        return lambda value: {key: item(v) for key, v in value.items()}
    if hint is float:
        return lambda value: float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return _identity


def _dataclass_encoder(cls: type) -> Convert:
    hints = typing.get_type_hints(cls)
    plan = [(f.name, _encoder(hints[f.name])) for f in dataclasses.fields(cls)]

    def encode_record(record: Any) -> dict[str, Any]:
        return {name: convert(getattr(record, name)) for name, convert in plan}

    return encode_record


def _dataclass_decoder(cls: type) -> Convert:
    hints = typing.get_type_hints(cls)
    plan = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls) if f.init]

    def decode_record(data: Mapping[str, Any]) -> Any:
        return cls(**{name: convert(data[name]) for name, convert in plan if name in data})

    return decode_record


def _dynamic_encode(value: Any) -> Any:
    """Values typed `Any` (wire-shaped `detail` fragments) or of a shape the plan does not know:
    converted by what they are, so that they at least stay JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: _dynamic_encode(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dynamic_encode(v) for v in value]
    return value
