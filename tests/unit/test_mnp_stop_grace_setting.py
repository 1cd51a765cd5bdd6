"""The grace the other nodes of a multi-node job get after its main node exits: a flag, an
EMULATOR_* variable, handed to the engine; 0 allowed, a negative number refused."""

from __future__ import annotations

import pytest

from emulator.__main__ import parse_args, settings_from
from emulator.app import close_app, create_app, runtime_of
from emulator.config import Settings


def test_the_grace_defaults_to_five_seconds() -> None:
    assert Settings().mnp_stop_grace_seconds == 5.0


@pytest.mark.parametrize("value", ["0", "2.5"])
def test_the_flag_sets_the_grace(value: str) -> None:
    settings = settings_from(parse_args(["--mnp-stop-grace-seconds", value]))
    assert settings.mnp_stop_grace_seconds == float(value)


def test_the_variable_sets_the_grace() -> None:
    settings = Settings.from_environment({"EMULATOR_MNP_STOP_GRACE_SECONDS": "0"})
    assert settings.mnp_stop_grace_seconds == 0.0


@pytest.mark.parametrize("value", ["-1", "nan", "soon"])
def test_the_flag_refuses_what_is_not_a_duration(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--mnp-stop-grace-seconds", value])
    assert "--mnp-stop-grace-seconds" in capsys.readouterr().err


def test_the_engine_is_given_the_grace() -> None:
    app = create_app(Settings(executor="simulated", mnp_stop_grace_seconds=1.5))
    try:
        assert runtime_of(app).engine.mnp_stop_grace_ms == 1500
    finally:
        close_app(app)
