"""records_codec: every engine record survives JSON and back unchanged. Samples are generated
from the dataclasses' own type hints with every field set away from its default, so a field
added to records.py is covered without touching this test."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import pytest

from emulator.engine import records
from emulator.stores import records_codec

RECORD_CLASSES = [
    cls
    for cls in vars(records).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == records.__name__
]


def sample(hint: Any, seed: int) -> Any:
    """A value of type `hint` that differs from any default (None, 0, empty)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return sample(next(arg for arg in args if arg is not type(None)), seed)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(
            **{f.name: sample(hints[f.name], seed + i) for i, f in enumerate(dataclasses.fields(hint))}
        )
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = list(hint)
        return members[seed % len(members)]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (sample(args[0], seed), sample(args[0], seed + 1))
        return tuple(sample(arg, seed + i) for i, arg in enumerate(args))
    if origin in (Mapping, dict):
        return {f"key-{seed}": sample(args[1], seed), "ünïcode": sample(args[1], seed + 1)}
    if hint is Any:
        return {"wire": [seed, f"value-{seed}", {"nested": True}, None, 1.5]}
    if hint is bool:
        return True
    if hint is int:
        return 1_700_000_000_000 + seed
    if hint is float:
        return seed + 0.25
    if hint is str:
        return f"text-{seed}-é"
    raise AssertionError(f"no sample for {hint!r}: teach the test (and check the codec handles it)")


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=[cls.__name__ for cls in RECORD_CLASSES])
def test_every_record_survives_json_and_back(cls: type) -> None:
    record = sample(cls, 3)
    text = records_codec.dumps(record)
    assert records_codec.loads(cls, json.loads(json.dumps(text))) == record


def test_a_job_decodes_to_the_same_types() -> None:
    job = sample(records.Job, 1)
    decoded = records_codec.loads(records.Job, records_codec.dumps(job))
    assert isinstance(decoded.status, records.JobStatus)
    assert isinstance(decoded.transitions[0], tuple)
    assert isinstance(decoded.transitions[0][0], records.JobStatus)
    assert isinstance(decoded.container.vcpus, float)
    assert isinstance(decoded.container.environment[0], tuple)


def test_fields_missing_from_an_old_row_take_their_defaults_and_unknown_keys_are_dropped() -> None:
    attempt = records.Attempt(number=2, task_id="a" * 32, compute_environment_arn="ce", created_at_ms=5)
    data = records_codec.encode(attempt)
    del data["exit_code"]
    data["field_from_the_future"] = 1
    assert records_codec.decode(records.Attempt, data) == attempt


def test_float_fields_stored_as_integers_come_back_as_floats() -> None:
    spec = records_codec.decode(records.ContainerSpec, {"image": "busybox", "vcpus": 2})
    assert spec.vcpus == 2.0
    assert isinstance(spec.vcpus, float)
