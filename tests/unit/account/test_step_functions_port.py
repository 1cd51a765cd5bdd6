"""MOTO_PORT, which moto's Step Functions interpreter calls back, follows the emulators of a
process (emulator/account/step_functions.py): the last one that claimed it while still open."""

from __future__ import annotations

import os

import pytest

from emulator.account.step_functions import PORT_VARIABLE, _CallbackPorts


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> _CallbackPorts:
    monkeypatch.setenv(PORT_VARIABLE, "5000")  # set by the user before any emulator
    return _CallbackPorts()


def test_the_last_claim_wins_and_closing_gives_the_port_back(ports):
    ports.claim(41001)
    ports.claim(41002)
    assert os.environ[PORT_VARIABLE] == "41002"

    ports.release(41002)
    assert os.environ[PORT_VARIABLE] == "41001"
    ports.release(41001)
    assert os.environ[PORT_VARIABLE] == "5000"


def test_closing_an_older_emulator_leaves_the_newer_ones_port(ports):
    ports.claim(41001)
    ports.claim(41002)
    ports.release(41001)
    assert os.environ[PORT_VARIABLE] == "41002"


def test_claiming_again_makes_an_emulator_the_newest(ports):
    ports.claim(41001)
    ports.claim(41002)
    ports.claim(41001)
    ports.release(41001)
    assert os.environ[PORT_VARIABLE] == "41002"


def test_without_a_port_before_the_variable_is_removed_again(monkeypatch):
    monkeypatch.delenv(PORT_VARIABLE, raising=False)
    ports = _CallbackPorts()
    ports.claim(41001)
    ports.release(41001)
    assert PORT_VARIABLE not in os.environ
