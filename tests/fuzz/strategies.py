"""Hypothesis strategies for hostile requests, derived from the botocore shapes.

`mutated_params` starts from a value that `roundtrip.values.ValueGenerator` derives from the input
shape (valid for every declared constraint) and breaks it member by member: wrong JSON types, values
just past a declared bound, enum misses, huge strings, long lists, unicode (NUL, RTL marks, lone
surrogates escaped in the JSON), deep nesting, missing required members, explicit nulls, unknown
members, and names of resources that really exist so providers go past their lookups.
`hostile_bodies` replaces the whole body, `request_lines` and `header_sets` the rest of a request.

`FUZZ_EXAMPLES` (environment) sets the examples per test; the default keeps the suite well under
the 90 seconds the normal run allows.
"""

from __future__ import annotations

import base64
import json
import os
import string
from typing import Any

import pytest
from botocore.model import OperationModel, Shape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from roundtrip.values import VARIANTS, UnsupportedPattern, ValueGenerator

from .raw_http import Nested, encode_json

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
# Seconds one example may take on average before pytest-timeout ends a long run.
SECONDS_PER_EXAMPLE = 1.0


def fuzz_timeout(scale: int = 1) -> pytest.MarkDecorator:
    """pytest-timeout for a test of `EXAMPLES * scale` examples: the suite's 300 s, or more for
    long runs (a timeout that fires mid-request would leave a half-sent request behind)."""
    return pytest.mark.timeout(max(300, int(EXAMPLES * scale * SECONDS_PER_EXAMPLE)))


def fuzz_settings(scale: int = 1) -> settings:
    """Reproducible in CI: derandomized, no example database, no per-example deadline."""
    return settings(
        max_examples=max(1, EXAMPLES * scale),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def weighted(*pairs: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, chosen in proportion to its weight."""
    pool = [strategy for weight, strategy in pairs for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# -- values ----------------------------------------------------------------------------------------

SPECIAL_CHARACTERS = (
    "\x00",  # NUL
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u2028",  # line separator, legal in JSON, not in JavaScript
    "\ufeff",  # byte order mark
    "\ud800",  # lone high surrogate: json.dumps escapes it, the server decodes it unpaired
    "\udfff",  # lone low surrogate
    "\U0001d11e",  # outside the BMP
    "é",
    "中",
    '"',
    "\\",
    "\n",
    "%",
    "/",
    ":",
    "*",
)
unicode_text = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(SPECIAL_CHARACTERS)), min_size=0, max_size=40
)


def _repeat(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


huge_text = st.builds(
    _repeat,
    st.sampled_from(["a", "é", "中", "\U0001d11e", "\x00", "\u202e", 'q"\\', "\ud800", "arn:aws:batch:"]),
    st.sampled_from([1_025, 10_000, 100_000, 1_000_000]),
)
big_integers = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, -1, 0]),
    st.integers(-(2**100), 2**100),
)
scalars = weighted(
    (1, st.none()),
    (1, st.booleans()),
    (2, big_integers),
    (1, st.integers(-10, 10)),
    (1, st.floats()),  # NaN and infinities: json.dumps writes them as non-standard tokens
    (3, unicode_text),
)


deep_values = st.builds(Nested, st.sampled_from([3, 50, 499, 500, 501, 2_000]), st.booleans())
long_lists = st.builds(
    lambda item, size: [item] * size, scalars, st.sampled_from([101, 1_001, 10_001, 50_000])
)
small_containers = st.one_of(
    st.lists(scalars, max_size=4), st.dictionaries(unicode_text, scalars, max_size=4)
)
hostile_values = weighted(
    (6, scalars), (2, small_containers), (1, huge_text), (1, long_lists), (1, deep_values)
)


# -- mutations driven by the shape -------------------------------------------------------------------


def edge_values(shape: Shape) -> st.SearchStrategy[Any]:
    return st.sampled_from(edge_value_options(shape))


def edge_value_options(shape: Shape) -> list[Any]:
    """Values of about the right kind just outside what the shape declares."""
    kind = shape.type_name
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if kind == "string":
        options: list[Any] = ["", " ", "!!", "\x00", "\u202e", "\ud800", "a" * 2_049]
        if shape.enum:
            options += ["NOT_AN_ENUM", shape.enum[0].lower(), shape.enum[0] + " "]
        if high is not None and high < 2_000_000:
            options.append("a" * (int(high) + 1))
        if low:
            options.append("a" * (int(low) - 1))
        return options
    if kind in ("integer", "long", "float", "double"):
        options = [-1, 0, 1.5, "7", 2**31, 2**63, -(2**63) - 1]
        options += [bound + step for bound, step in ((low, -1), (high, 1)) if bound is not None]
        return options
    if kind == "boolean":
        return ["true", 1, 0, "yes"]
    if kind == "list":
        options = [[], [None], [[]], {}]
        if high is not None and high < 20_000:
            options.append(["x"] * (int(high) + 1))
        return options
    if kind == "map":
        return [{}, {"": "v"}, {"k" * 300: "v"}, {"k": None}, {"k": {"n": 1}}, []]
    return [{}, [], "x", 0]


def _b64(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


# Keys a forged pagination token might carry: wrong types, huge and unorderable values.
_FORGED_KEYS = (None, 0, -1, 2**70, 1e308, "", "x" * 1_000, [], [1, "a"], {"a": 1}, [[[]]], True)


def forged_tokens(operation: OperationModel) -> tuple[str, ...]:
    """Pagination tokens that decode but lie: the emulator's own token layouts (Batch's
    `{"op", "after"}`, Logs' `[kind, *key]` and `f/<digits>/s`) holding keys of the wrong type or
    size, plus tokens that do not decode at all."""
    forged = [_b64({"op": operation.name, "after": key}) for key in _FORGED_KEYS]
    for kind in ("groups", "streams-by-time", "streams-by-name", "filter"):
        forged += [_b64([kind, key]) for key in _FORGED_KEYS[:6]]
        forged += [_b64([kind, 2**63, "s"]), _b64([kind, -1, -1, -1]), _b64([kind, 10**30, 0, 0])]
    forged += ["f/" + "9" * 56 + "/s", "b/" + "0" * 56 + "/s", "f/" + "9" * 20 + "0" * 36 + "/s"]
    forged += ["=", "====", "%%%", "\ud800", "a" * 100_000, _b64("not a list"), "bnVsbA=="]
    return tuple(forged)


def base_params(shape: Shape, variant: str, seed: int) -> dict[str, Any]:
    """A valid request to start from; the sampler gives up on a few patterns for some seeds."""
    for attempt in (variant, "required"):
        try:
            return ValueGenerator(attempt, seed).structure(shape)
        except (UnsupportedPattern, AssertionError):
            continue
    return {}


@st.composite
def mutated_params(
    draw: st.DrawFn,
    operation: OperationModel,
    known: tuple[str, ...],
    templates: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """A request with `rate` percent of its members broken: from none (a valid request, often with
    real resource names, that reaches deep into the provider) to nearly all. It starts from one of
    `templates` (valid requests naming existing resources) or from a value generated from the shape."""
    shape = operation.input_shape
    if shape is None:
        return draw(st.dictionaries(unicode_text, hostile_values, max_size=3))
    if templates and draw(st.booleans()):
        base = draw(st.sampled_from(templates))
    else:
        base = base_params(shape, draw(st.sampled_from(VARIANTS)), draw(st.integers(0, 2**16)))
    rate = draw(st.sampled_from([None, 0, 0, 3, 10, 30]), label="mutation rate")
    members = member_paths(shape, base)[1:]
    if rate is None and members:  # exactly one member of an otherwise valid request broken
        path, member = draw(st.sampled_from(members))
        params = replaced(base, path, draw(st.one_of(edge_values(member), hostile_values)))
    else:
        rate = 30 if rate is None else rate
        params = _mutate_structure(draw, shape, base, known, rate)
    token_members = [name for name in shape.members if name.lower().endswith("token")]
    if token_members and draw(st.integers(0, 3)) == 0:
        params[draw(st.sampled_from(token_members))] = draw(st.sampled_from(forged_tokens(operation)))
    return params


def member_paths(shape: Shape, value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Shape]]:
    """(path, shape) of `value` and of every member, first list item and first map value in it."""
    found = [(path, shape)]
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                found += member_paths(member, value[name], (*path, name))
    elif shape.type_name == "list" and isinstance(value, list) and value:
        found += member_paths(shape.member, value[0], (*path, 0))
    elif shape.type_name == "map" and isinstance(value, dict) and value:
        key = next(iter(value))
        found += member_paths(shape.value, value[key], (*path, key))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `value` with the item at `path` replaced by `new`."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        return [replaced(item, rest, new) if index == head else item for index, item in enumerate(value)]
    return {key: replaced(item, rest, new) if key == head else item for key, item in value.items()}


def _mutate(draw: st.DrawFn, shape: Shape, value: Any, known: tuple[str, ...], rate: int) -> Any:
    roll = draw(st.integers(0, 99))
    if roll < rate // 3:
        return draw(hostile_values)
    if roll < rate:
        return draw(edge_values(shape))
    if roll < rate + 20 and shape.type_name == "string" and known and not shape.enum:
        return draw(st.sampled_from(known))
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return _mutate_structure(draw, shape, value, known, rate)
    if kind == "list" and isinstance(value, list):
        items = [_mutate(draw, shape.member, item, known, rate) for item in value]
        if rate and draw(st.integers(0, 19)) == 0:
            items += [draw(scalars)] * draw(st.sampled_from([1, 100, 10_000]))
        return items
    if kind == "map" and isinstance(value, dict):
        mutated = {key: _mutate(draw, shape.value, item, known, rate) for key, item in value.items()}
        if rate and draw(st.integers(0, 9)) == 0:
            mutated[draw(unicode_text)] = draw(hostile_values)
        return mutated
    return value


def _mutate_structure(
    draw: st.DrawFn, shape: Shape, value: dict[str, Any], known: tuple[str, ...], rate: int
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        roll = draw(st.integers(0, 99)) if rate else 99
        if name in value:
            if roll < rate // 4:
                continue  # missing (a required member, sometimes)
            result[name] = None if roll < rate // 3 else _mutate(draw, member, value[name], known, rate)
        elif roll < rate // 3:
            result[name] = draw(st.one_of(edge_values(member), hostile_values))
    if rate and draw(st.integers(0, 9)) == 0:
        result.update(draw(st.dictionaries(unicode_text, hostile_values, min_size=1, max_size=2)))
    return result


# -- whole bodies, request lines and headers -----------------------------------------------------------

FIXED_BODIES = (
    b"[]",
    b'"text"',
    b"1",
    b"null",
    b"true",
    b"{",
    b"}",
    b"{}}",
    b'{"a":}',
    b"{'single': 'quotes'}",
    b'{"a":1,"a":2}',
    b'{"a":NaN}',
    b'{"a":-Infinity}',
    b'{"a":1e99999}',
    b'{"a":' + b"9" * 5_000 + b"}",
    b"\xff\xfe{\x00}\x00",
    b"\xef\xbb\xbf{}",  # UTF-8 byte order mark
    "{}".encode("utf-16"),
    b'{"a":"\\ud800"}',
    b'{"a":"\\u00"}',
    b'{"a":"\xc3\x28"}',  # invalid UTF-8 inside a string
    b"\x00" * 64,
    b"{}" + b" " * 100_000,
    b"[" * 2_000 + b"]" * 2_000,
    b'{"a":' * 2_000 + b"1" + b"}" * 2_000,
    b"[" * 100_000,
)


def hostile_bodies(valid_body: bytes) -> st.SearchStrategy[bytes]:
    return weighted(
        (3, st.sampled_from(FIXED_BODIES)),
        (2, st.integers(0, max(0, len(valid_body) - 1)).map(lambda end: valid_body[:end])),
        (1, st.binary(max_size=200)),
        (1, st.builds(lambda depth: b'{"a":' + b"[" * depth + b"]" * depth + b"}", st.integers(490, 510))),
        (1, st.lists(hostile_values, max_size=3).map(encode_json)),
    )


PATH_CHARACTERS = string.ascii_letters + string.digits + "/%.-_~:@!$&'()*+,;="
garbage_labels = st.one_of(
    st.binary(max_size=60).map(lambda raw: "".join(f"%{byte:02X}" for byte in raw)),
    st.sampled_from(["%", "%Z", "%ZZ", "%e2%80", "%00", "%2F%2F", "..%2F..", "%C0%AF", "%ED%A0%80", "%25"]),
    st.text(alphabet=PATH_CHARACTERS, max_size=60),
)


def request_lines(rest_paths: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    """(method, path): every method on real paths, garbage ARNs in the tags path, made-up paths."""
    methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    paths = st.one_of(
        st.sampled_from(rest_paths),
        garbage_labels.map(lambda label: "/v1/tags/" + label),
        st.text(alphabet=PATH_CHARACTERS, max_size=80).map(lambda text: "/" + text),
        st.sampled_from(["/", "//", "/v1", "/v1/", "/v1//tags/x", "/./v1/../v1/submitjob", "/V1/SUBMITJOB"]),
    )
    queries = st.one_of(
        st.just(""),
        st.builds(lambda name, value: f"?{name}={value}", garbage_labels, garbage_labels),
        st.sampled_from(["?", "?&&", "?tagKeys", "?tagKeys=&tagKeys=%FF", "?X-Amz-Credential=%FF/x/y/z"]),
    )
    return st.tuples(methods, st.builds(lambda path, query: path + query, paths, queries))


_HEADER_TEXT = st.one_of(
    st.text(alphabet=string.printable.strip("\r\n\x0b\x0c"), max_size=80),
    unicode_text.map(
        lambda text: text.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
    ),
)


def header_sets(targets: tuple[str, ...]) -> st.SearchStrategy[tuple[tuple[str, str | bytes], ...]]:
    target = st.one_of(
        st.none(),
        st.sampled_from(targets),
        st.sampled_from(["Logs_20140328.", "Logs_20140328.Nope", ".CreateLogGroup", "AWSBatch.SubmitJob"]),
        _HEADER_TEXT,
    )
    content_type = st.sampled_from(
        [
            None,
            "application/json",
            "application/x-amz-json-1.1",
            "text/plain",
            "application/json; charset=latin-1",
            "",
        ]
    )
    authorization = st.one_of(
        st.none(),
        st.sampled_from(
            [
                "",
                "AWS4-HMAC-SHA256",
                "AWS4-HMAC-SHA256 Credential=/",
                "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/batch/aws4_request",
                "AWS4-HMAC-SHA256 Credential=test/2026/us-east-1/logs/aws4_request, Signature=zz",
                "Credential=a/20260101/" + "r" * 1_000 + "/batch/",
                "Bearer xyz",
            ]
        ),
        st.builds(
            lambda key, region: (
                f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/batch/aws4_request".encode(
                    "utf-8", "surrogatepass"
                )
            ),
            unicode_text.filter(lambda text: "\r" not in text and "\n" not in text),
            unicode_text.filter(lambda text: "\r" not in text and "\n" not in text),
        ),
    )
    extra = st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "X-Amz-Date",
                    "X-Amz-Security-Token",
                    "Content-Encoding",
                    "X-Unknown-Header",
                ]
            ),
            _HEADER_TEXT,
        ),
        max_size=3,
    )

    def assemble(target, content_type, authorization, extra):
        headers: list[tuple[str, str | bytes]] = []
        for name, value in (
            ("X-Amz-Target", target),
            ("Content-Type", content_type),
            ("Authorization", authorization),
        ):
            if value is not None:
                headers.append((name, value))
        return tuple(headers + extra)

    return st.builds(assemble, target, content_type, authorization, extra)
