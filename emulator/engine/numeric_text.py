"""Strict readers for the numbers clients send as text.

Resource requirement values, Kubernetes quantities, job definition revisions, multi-node
`targetNodes` indexes, epoch-millisecond filter values and the emulator's own simulation settings
(exit codes and durations in a job's environment or a training job's hyperparameters) all arrive
as strings. Python's own conversions are too lenient for them: `float()` reads `inf`, `nan` and
`1e400` (infinity), `int()` and `float()` read blanks around the number and non-ASCII digits such
as `'٣'`, `str.isdigit()` is true for `'²'`, which `int()` then refuses, and `int()` of a few
thousand digits raises. Each reader here takes ASCII digits only, in text of bounded length, and
returns a finite value between the bounds it is given; anything else raises NumericTextError,
whose message says what was expected.

The services turn that error into a ClientException worded for the member concerned, the engines
into a failed attempt; nothing here knows AWS's wording. Services, both engines and the simulated
executor read through this module, so one rule holds wherever such a number is read.
"""

from __future__ import annotations

import math
import re

INT32_MAX = 2**31 - 1  # the service model's Integer
INT64_MAX = 2**63 - 1  # the service model's Long (epoch milliseconds)
MAX_TEXT_LENGTH = 64  # longer text is never a number the emulator needs
MAX_EXIT_CODE = 255  # what a process can exit with; Batch reports nothing else
# The longest simulated duration: ten years, so that any simulated end is a time an SDK can show.
MAX_SIMULATED_DURATION_MS = 10 * 365 * 86_400_000

_UNSIGNED = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Kubernetes quantity suffixes the emulator reads (binary, then decimal), as multiples of a MiB.
_MEMORY_UNITS_MIB = {
    "Ki": 1 / 1024,
    "Mi": 1,
    "Gi": 1024,
    "Ti": 1024**2,
    "K": 1000 / 1024**2,
    "M": 1000**2 / 1024**2,
    "G": 1000**3 / 1024**2,
    "": 1 / 1024**2,  # bytes
}
_MEMORY_QUANTITY = re.compile(r"(?P<number>[^KMGTi]*)(?P<suffix>Ki|Mi|Gi|Ti|K|M|G)?")
_SHOWN_CHARACTERS = 40


class NumericTextError(ValueError):
    """Text that is not a number of the kind and range wanted."""

    def __init__(self, expected: str, text: object) -> None:
        self.expected = expected
        super().__init__(f"must be {expected}, not {_shown(text)}")


def read_integer(text: object, low: int, high: int) -> int:
    """A whole number written in ASCII digits, from `low` to `high`; a minus sign only where
    `low` allows a negative number, and never a plus sign."""
    pattern = _SIGNED if low < 0 else _UNSIGNED
    if isinstance(text, str) and len(text) <= MAX_TEXT_LENGTH and pattern.fullmatch(text):
        value = int(text)
        if low <= value <= high:
            return value
    raise NumericTextError(f"an integer from {low} to {high}", text)


def read_number(text: object, low: float, high: float, *, unit_per_text: float = 1.0) -> float:
    """A decimal number (`2`, `0.25`, `.5`, `1e3`), times `unit_per_text`, from `low` to `high`.
    Infinity and NaN never pass: `1e400` is refused, whatever the bounds."""
    if isinstance(text, str) and len(text) <= MAX_TEXT_LENGTH and _DECIMAL.fullmatch(text):
        value = float(text) * unit_per_text
        if math.isfinite(value) and low <= value <= high:
            return value
    raise NumericTextError(f"a number from {_plain(low)} to {_plain(high)}", text)


def read_whole_number(text: object, low: int, high: int) -> int:
    """A decimal number whose value is whole (`2`, `2.0`), from `low` to `high`: GPU counts."""
    value = read_number(text, low, high)
    if value != int(value):
        raise NumericTextError(f"a whole number from {low} to {high}", text)
    return int(value)


# ---- what the services read -------------------------------------------------------------------


def resource_requirement(kind: str, text: object) -> float:
    """A `resourceRequirements` value (reference §17.1): VCPU and MEMORY (MiB) are numbers, GPU a
    whole number, each from 0 to the model's Integer maximum (what the legacy `vcpus` and `memory`
    members allow). AWS's further rules (VCPU >= 1 and MEMORY >= 4 on EC2, Fargate's pairs) are
    the services' to apply."""
    if kind == "GPU":
        return read_whole_number(text, 0, INT32_MAX)
    return read_number(text, 0, INT32_MAX)


def kubernetes_cpu(text: object) -> float:
    """An EKS container's `cpu` quantity in vCPUs: `2`, `0.5` or millicores such as `250m`."""
    if isinstance(text, str) and text.endswith("m"):
        return read_number(text[:-1], 0, INT32_MAX, unit_per_text=1 / 1000)
    return read_number(text, 0, INT32_MAX)


def kubernetes_memory_mib(text: object) -> int:
    """An EKS container's `memory` quantity in whole MiB: bytes, or a number with one of the
    suffixes Ki, Mi, Gi, Ti, K, M, G."""
    found = _MEMORY_QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise NumericTextError("a Kubernetes memory quantity such as 512Mi", text)
    unit = _MEMORY_UNITS_MIB[found["suffix"] or ""]
    try:
        return int(read_number(found["number"], 0, INT32_MAX, unit_per_text=unit))
    except NumericTextError:
        raise NumericTextError(f"a memory quantity from 0 to {INT32_MAX}Mi", text) from None


def kubernetes_count(text: object) -> int:
    """A whole-number Kubernetes quantity such as `nvidia.com/gpu`."""
    return read_whole_number(text, 0, INT32_MAX)


def revision(text: object) -> int:
    """A job definition revision, as in `name:3` (the model's Integer)."""
    return read_integer(text, 1, INT32_MAX)


def node_index(text: object) -> int:
    """One end of a multi-node `targetNodes` range (`0:3`, `4:`, `2`), as written."""
    return read_integer(text, 0, INT32_MAX)


def epoch_ms(text: object) -> int:
    """A time in epoch milliseconds (ListJobs and ListServiceJobs `*_CREATED_AT` filters)."""
    return read_integer(text, 0, INT64_MAX)


# ---- the emulator's own simulation settings -------------------------------------------------------


def exit_code(text: object) -> int:
    """A simulated exit code: 0 to 255, what a container can exit with (and within the model's
    Integer, which strictly typed SDKs parse `exitCode` as)."""
    return read_integer(text, 0, MAX_EXIT_CODE)


def duration_ms(text: object, *, ms_per_unit: int = 1) -> int:
    """A simulated duration, written in milliseconds or (`ms_per_unit=1000`) in seconds, which
    may have a fraction; returned in whole milliseconds, at most MAX_SIMULATED_DURATION_MS."""
    if ms_per_unit == 1:
        return read_integer(text, 0, MAX_SIMULATED_DURATION_MS)
    high = MAX_SIMULATED_DURATION_MS // ms_per_unit
    return round(read_number(text, 0, high) * ms_per_unit)


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _shown(text: object) -> str:
    """The rejected text in a message, cut short: it may be thousands of characters long."""
    if not isinstance(text, str):
        return repr(text)
    if len(text) > _SHOWN_CHARACTERS:
        return repr(text[:_SHOWN_CHARACTERS] + "...")
    return repr(text)
