"""Values generated from botocore shapes, valid for every constraint the model declares.

One `ValueGenerator` per variant:

- `full`: every member set, lists and maps of one to three items, random within the constraints;
- `required`: only required members, lists and maps as short as `min` allows (often empty);
- `low`: every member set to its falsy or lowest form (`0`, `False`, `""`, `[]`, `{}`), which a
  careless `if value:` drops;
- `high`: every member at its upper end: strings at `max` length (capped) full of characters JSON
  must escape and characters outside the BMP, large integers and floats, `True`.

Strings with a `pattern` are sampled from the pattern itself (Python's own regex parser gives the
tree), so the generator follows the model when botocore updates it; the sample must then match the
pattern in full, as AWS checks it.
"""

from __future__ import annotations

import random
import re
import string
from re import _parser as sre_parse  # Python's own regex parser, private but stable since 3.11
from typing import Any

from botocore.model import Shape

VARIANTS = ("full", "required", "low", "high")
SEEDS = (7, 2024)

# Characters that stress the wire: quotes and backslashes JSON escapes, a line separator, a control
# character, Latin-1, CJK and a character outside the BMP (two UTF-16 code units).
_UNICODE = 'Ünïcødé "q" \\ \n\u2028\x01 中文 𝄞 ✓'
_MAX_TEXT = 300
_MAX_DEPTH = 8
_SMALL_REPEAT = 6

# Java classes the sampler cannot parse, narrowed to characters that are valid both for Java (AWS)
# and Python.
_JAVA_CLASSES = {r"\p{L}": "a-zA-Z", r"\p{N}": "0-9", r"\p{Z}": " "}
_CLASS_BEFORE_DASH = re.compile(r"(\\[wdsWDS])-")

_CATEGORY_POOLS = {
    sre_parse.CATEGORY_DIGIT: string.digits,
    sre_parse.CATEGORY_NOT_DIGIT: string.ascii_letters + "-_.",
    sre_parse.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_parse.CATEGORY_NOT_WORD: " -.:/#",
    sre_parse.CATEGORY_SPACE: " ",
    sre_parse.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits + "-_.:/#",
}
_NEGATED_POOL = string.ascii_letters + string.digits + "-_./# "


class UnsupportedPattern(Exception):
    """The pattern uses a construct the sampler does not know; add it to `_sample`."""


def _python_pattern(pattern: str) -> str:
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    return _CLASS_BEFORE_DASH.sub(r"\1\\-", pattern)


class ValueGenerator:
    def __init__(self, variant: str, seed: int = 0) -> None:
        if variant not in VARIANTS:
            raise ValueError(variant)
        self.variant = variant
        self.random = random.Random(seed)

    # -- shapes ---------------------------------------------------------------------------------

    def value(self, shape: Shape, depth: int = 0) -> Any:
        kind = shape.type_name
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            raise NotImplementedError(f"no generator for {kind} ({shape.name})")
        return handler(shape, depth)

    def structure(self, shape: Shape) -> dict[str, Any]:
        return self._structure(shape, 0)

    def _structure(self, shape: Shape, depth: int) -> dict[str, Any]:
        members = shape.members
        if shape.metadata.get("union"):
            names = sorted(members)
            name = names[self.random.randrange(len(names))]
            return {name: self.value(members[name], depth + 1)}
        required = set(shape.required_members)
        shallow = depth >= _MAX_DEPTH
        result = {}
        for name, member in members.items():
            if member.serialization.get("eventstream") or member.metadata.get("exception"):
                continue
            if name in required or (self.variant != "required" and not shallow):
                if member.serialization.get("location") == "uri":
                    result[name] = self._label()
                else:
                    result[name] = self.value(member, depth + 1)
        return result

    def _label(self) -> str:
        """A path label: an ARN whose slashes botocore percent-encodes and the server decodes."""
        if self.variant == "high":
            return "arn:aws:batch:us-east-1:123456789012:job-definition/jd ü%2F?#&=+;/nested:7"
        return f"arn:aws:batch:us-east-1:123456789012:job-queue/q{self.random.randrange(1000)}/x"

    def _count(self, shape: Shape, depth: int) -> int:
        low = shape.metadata.get("min", 0)
        high = shape.metadata.get("max", low + 3)
        if self.variant in ("required", "low") or depth >= _MAX_DEPTH:
            return low
        if self.variant == "high":
            return max(low, min(high, 3))
        return self.random.randint(max(low, 1), max(low, min(high, 3)))

    def _list(self, shape: Shape, depth: int) -> list[Any]:
        return [self.value(shape.member, depth + 1) for _ in range(self._count(shape, depth))]

    def _map(self, shape: Shape, depth: int) -> dict[str, Any]:
        wanted = self._count(shape, depth)
        result: dict[str, Any] = {}
        for _ in range(wanted * 20):
            if len(result) == wanted:
                break
            result[self._string(shape.key, depth, distinct=True)] = self.value(shape.value, depth + 1)
        assert len(result) == wanted, f"could not draw {wanted} distinct keys for {shape.name}"
        return result

    def _string(self, shape: Shape, depth: int, *, distinct: bool = False) -> str:
        enum = shape.enum
        if enum:
            if self.variant == "low":
                return enum[0]
            if self.variant == "high":
                return enum[-1]
            return self.random.choice(enum)
        low = shape.metadata.get("min", 0)
        high = shape.metadata.get("max", _MAX_TEXT)
        pattern = shape.metadata.get("pattern")
        if pattern:
            return self._from_pattern(pattern, low, high)
        if self.variant == "low" and low == 0 and not distinct:
            return ""
        if self.variant == "high":
            size = max(low, min(high, _MAX_TEXT))
            text = (_UNICODE * (size // len(_UNICODE) + 1))[:size]
            if distinct:
                text = f"{self.random.randrange(10**6)}{text}"[:size]
            return text
        size = min(max(low, self.random.randint(1, 12)), high)
        return "".join(self.random.choice(string.ascii_letters + string.digits + "-_") for _ in range(size))

    def _integer(self, shape: Shape, depth: int) -> int:
        return self._number(shape, 2**31 - 1)

    def _long(self, shape: Shape, depth: int) -> int:
        return self._number(shape, 2**63 - 1)

    def _number(self, shape: Shape, largest: int) -> int:
        low = shape.metadata.get("min", 0 if self.variant == "low" else -largest - 1)
        high = shape.metadata.get("max", largest)
        if self.variant == "low":
            return max(low, 0) if high >= 0 else high
        if self.variant == "high":
            return high
        start = max(low, 0)
        return self.random.randint(start, max(start, min(high, 10_000)))

    def _float(self, shape: Shape, depth: int) -> float:
        low = shape.metadata.get("min")
        high = shape.metadata.get("max")
        if self.variant == "low":
            return float(max(low, 0.0)) if low is not None else 0.0
        if self.variant == "high":
            return float(high) if high is not None else 1.7976931348623157e308
        value = round(self.random.uniform(0, 1000), 3)
        return min(max(value, low if low is not None else value), high if high is not None else value)

    _double = _float

    def _boolean(self, shape: Shape, depth: int) -> bool:
        if self.variant in ("low", "required"):
            return False
        if self.variant == "high":
            return True
        return self.random.random() < 0.5

    def _timestamp(self, shape: Shape, depth: int) -> Any:
        raise NotImplementedError("neither model declares timestamps; see test_models_have_no_timestamps")

    def _blob(self, shape: Shape, depth: int) -> bytes:
        return b"\x00\xffblob" if self.variant == "high" else b"blob"

    # -- patterns -------------------------------------------------------------------------------

    def _from_pattern(self, pattern: str, low: int, high: int) -> str:
        translated = _python_pattern(pattern)
        tree = sre_parse.parse(translated)
        regex = re.compile(translated)
        for _ in range(200):
            text = self._sample(tree)
            if low <= len(text) <= high and regex.fullmatch(text):
                return text
        raise UnsupportedPattern(f"no sample of {pattern!r} with length in [{low}, {high}]")

    def _sample(self, items: Any) -> str:
        return "".join(self._sample_item(op, av) for op, av in items)

    def _sample_item(self, op: Any, av: Any) -> str:  # noqa: C901 - one branch per regex opcode
        if op is sre_parse.LITERAL:
            return chr(av)
        if op is sre_parse.NOT_LITERAL:
            return self.random.choice([c for c in _NEGATED_POOL if ord(c) != av])
        if op is sre_parse.ANY:
            return self.random.choice(string.ascii_letters)
        if op is sre_parse.IN:
            return self._sample_class(av)
        if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT):
            low, high, item = av
            top = low + _SMALL_REPEAT if high is sre_parse.MAXREPEAT else min(high, low + _SMALL_REPEAT)
            return "".join(self._sample(item) for _ in range(self.random.randint(low, top)))
        if op is sre_parse.SUBPATTERN:
            return self._sample(av[-1])
        if op is sre_parse.BRANCH:
            return self._sample(self.random.choice(av[1]))
        if op is sre_parse.AT:
            return ""
        raise UnsupportedPattern(f"regex opcode {op}")

    def _sample_class(self, items: list[tuple[Any, Any]]) -> str:
        if items and items[0][0] is sre_parse.NEGATE:
            allowed = [c for c in _NEGATED_POOL if not any(_in_item(op, av, c) for op, av in items[1:])]
            return self.random.choice(allowed)
        op, av = self.random.choice(items)
        if op is sre_parse.LITERAL:
            return chr(av)
        if op is sre_parse.RANGE:
            return chr(self.random.randint(*av))
        if op is sre_parse.CATEGORY and av in _CATEGORY_POOLS:
            return self.random.choice(_CATEGORY_POOLS[av])
        raise UnsupportedPattern(f"class item {op} {av}")


def _in_item(op: Any, av: Any, char: str) -> bool:
    if op is sre_parse.LITERAL:
        return ord(char) == av
    if op is sre_parse.RANGE:
        return av[0] <= ord(char) <= av[1]
    if op is sre_parse.CATEGORY and av in _CATEGORY_POOLS:
        return re.fullmatch(_CATEGORY_REGEX[av], char) is not None
    raise UnsupportedPattern(f"class item {op} {av}")


_CATEGORY_REGEX = {
    sre_parse.CATEGORY_DIGIT: r"\d",
    sre_parse.CATEGORY_NOT_DIGIT: r"\D",
    sre_parse.CATEGORY_WORD: r"\w",
    sre_parse.CATEGORY_NOT_WORD: r"\W",
    sre_parse.CATEGORY_SPACE: r"\s",
    sre_parse.CATEGORY_NOT_SPACE: r"\S",
}


def generate_input(shape: Shape | None, variant: str, seed: int = 0) -> dict[str, Any]:
    if shape is None:
        return {}
    return ValueGenerator(variant, seed).structure(shape)


def generate_output(shape: Shape | None, variant: str, seed: int = 0) -> dict[str, Any]:
    """Output members that travel in the JSON body (event streams are not JSON, and are skipped)."""
    if shape is None:
        return {}
    return ValueGenerator(variant, seed).structure(shape)
