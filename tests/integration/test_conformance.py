"""Replay every conformance scenario against the emulator, served in-process on a real socket.

The scenarios are faithful to AWS (conformance/scenarios, from the reference and botocore's examples),
not to the emulator: a failure here is a difference from AWS, printed one line per difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.replay import DEFAULT_VARIABLES, SCENARIO_DIR, replay, substitute

SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.json"))


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    from emulator.app import close_app, create_app
    from emulator.config import Settings
    from emulator.testing.server import ServerThread

    # Resources settle in 50 ms instead of 200: the scenarios poll, so only the run time changes.
    app = create_app(Settings(executor="simulated", transition_seconds=0.05))
    server = ServerThread(app).start()
    try:
        yield server.url
    finally:
        server.stop()
        close_app(app)


@pytest.mark.parametrize("scenario_file", SCENARIO_FILES, ids=[path.stem for path in SCENARIO_FILES])
def test_emulator_conforms(endpoint_url: str, scenario_file: Path) -> None:
    # Waits are capped well below AWS's minutes: the emulator settles in a fraction of a second, and a
    # resource that never settles should fail the scenario quickly.
    differences = replay(endpoint_url, [scenario_file], wait_limit_seconds=15)
    for difference in differences:
        print(difference)
    assert not differences, f"{len(differences)} difference(s) from AWS:\n" + "\n".join(map(str, differences))


@pytest.mark.parametrize("scenario_file", SCENARIO_FILES, ids=[path.stem for path in SCENARIO_FILES])
def test_scenarios_are_well_formed(scenario_file: Path) -> None:
    """Every step names a real operation (or is raw), and uses only placeholders defined before it."""
    import botocore.session

    operations = set(botocore.session.get_session().get_service_model("batch").operation_names)
    scenarios = json.loads(scenario_file.read_text(encoding="utf-8"))
    names = [scenario["name"] for scenario in scenarios]
    assert len(names) == len(set(names)), "scenario names repeat"
    for scenario in scenarios:
        assert scenario.get("source"), f"{scenario['name']}: no source"
        known = set(DEFAULT_VARIABLES) | {"uuid", "region"}
        for number, step in enumerate(scenario["steps"], start=1):
            where = f"{scenario['name']} step {number}"
            assert ("raw" in step) != ("operation" in step), f"{where}: needs exactly one of operation/raw"
            assert "raw" in step or step["operation"] in operations, f"{where}: unknown operation"
            sent = step.get("raw", step.get("request"))
            substitute(sent, dict.fromkeys(known, "x"))
            substitute(step.get("expect", {}), dict.fromkeys(known | {"requestId"}, "x"))
            known |= set(step.get("save", {}))
