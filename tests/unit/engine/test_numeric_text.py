"""The strict readers every number written as text goes through: ASCII digits only, bounded
length, finite values within bounds, and a message that says what was expected."""

from __future__ import annotations

import pytest

from emulator.engine import numeric_text
from emulator.engine.numeric_text import NumericTextError

LONG_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), ("0007", 7), ("2147483647", 2147483647)],
)
def test_integer_in_ascii_digits_within_bounds_is_read(text, expected):
    assert numeric_text.read_integer(text, 0, numeric_text.INT32_MAX) == expected


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "+1", "1.0", "1e3", "²", "٣", "１", "1_000", "-1", "2147483648", LONG_DIGITS, None, 3],
    ids=repr,
)
def test_anything_else_is_not_an_integer(text):
    with pytest.raises(NumericTextError, match="must be an integer from 0 to 2147483647, not "):
        numeric_text.read_integer(text, 0, numeric_text.INT32_MAX)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", 2.0), ("0.25", 0.25), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("1E-3", 0.001), ("1e-400", 0.0)],
)
def test_decimal_number_within_bounds_is_read(text, expected):
    assert numeric_text.read_number(text, 0, 10_000) == expected


@pytest.mark.parametrize(
    "text",
    [
        "inf",
        "-inf",
        "Infinity",
        "nan",
        "NaN",
        "1e400",
        "1e308",
        "-0.5",
        "٥",
        "1,5",
        "0x10",
        " 2",
        LONG_DIGITS,
    ],
)
def test_infinity_nan_and_other_text_are_not_numbers(text):
    with pytest.raises(NumericTextError, match="must be a number from 0 to 10000"):
        numeric_text.read_number(text, 0, 10_000)


def test_a_minus_sign_only_where_negative_numbers_are_allowed():
    assert numeric_text.read_integer("-5", -10, 10) == -5
    with pytest.raises(NumericTextError):
        numeric_text.read_integer("+5", -10, 10)


def test_a_long_rejected_text_is_cut_short_in_the_message():
    with pytest.raises(NumericTextError) as raised:
        numeric_text.read_integer(LONG_DIGITS, 0, 9)
    assert str(raised.value) == f"must be an integer from 0 to 9, not '{'9' * 40}...'"


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [("VCPU", "0.25", 0.25), ("MEMORY", "2048", 2048.0), ("GPU", "2", 2), ("GPU", "2.0", 2)],
)
def test_resource_requirements(kind, text, expected):
    assert numeric_text.resource_requirement(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("MEMORY", "inf"),
        ("MEMORY", "nan"),
        ("MEMORY", "1e400"),
        ("VCPU", "-1"),
        ("GPU", "1.5"),
        ("GPU", "nan"),
    ],
)
def test_resource_requirements_refused(kind, text):
    with pytest.raises(NumericTextError):
        numeric_text.resource_requirement(kind, text)


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("512Mi", 512),
        ("1Gi", 1024),
        ("1024Ki", 1),
        ("1073741824", 1024),
        ("1G", 953),
        ("1.5Gi", 1536),
        ("1e3Mi", 1000),
    ],
)
def test_kubernetes_memory_in_mib(text, mib):
    assert numeric_text.kubernetes_memory_mib(text) == mib


@pytest.mark.parametrize(
    "text", ["inf", "1e400", "1e400Gi", "infMi", "nanGi", "1Xi", "Mi", "", "9999999999Ti"]
)
def test_kubernetes_memory_refused(text):
    with pytest.raises(NumericTextError):
        numeric_text.kubernetes_memory_mib(text)


@pytest.mark.parametrize(("text", "vcpus"), [("2", 2.0), ("0.5", 0.5), ("250m", 0.25)])
def test_kubernetes_cpu_in_vcpus(text, vcpus):
    assert numeric_text.kubernetes_cpu(text) == vcpus


@pytest.mark.parametrize("text", ["nan", "infm", "1e400m", "m"])
def test_kubernetes_cpu_refused(text):
    with pytest.raises(NumericTextError):
        numeric_text.kubernetes_cpu(text)


def test_revisions_node_indexes_and_epoch_milliseconds():
    assert numeric_text.revision("3") == 3
    assert numeric_text.node_index("0") == 0
    assert numeric_text.epoch_ms("1700000000000") == 1_700_000_000_000
    for reader, text in (
        (numeric_text.revision, "0"),
        (numeric_text.revision, "٣"),
        (numeric_text.node_index, LONG_DIGITS),
        (numeric_text.epoch_ms, "²"),
        (numeric_text.epoch_ms, "9223372036854775808"),
    ):
        with pytest.raises(NumericTextError):
            reader(text)


def test_simulated_exit_codes_and_durations():
    assert numeric_text.exit_code("255") == 255
    assert numeric_text.duration_ms("1500") == 1500
    assert numeric_text.duration_ms("1.5", ms_per_unit=1000) == 1500
    for reader, text in (
        (numeric_text.exit_code, "256"),
        (numeric_text.exit_code, "99999999999999999999"),
        (numeric_text.duration_ms, "-1"),
        (numeric_text.duration_ms, str(numeric_text.MAX_SIMULATED_DURATION_MS + 1)),
    ):
        with pytest.raises(NumericTextError):
            reader(text)
    with pytest.raises(NumericTextError, match="must be a number from 0 to 315360000, not 'inf'"):
        numeric_text.duration_ms("inf", ms_per_unit=1000)
