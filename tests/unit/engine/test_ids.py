"""Random ids keep the form AWS gives them: lower-case version-4 UUIDs, never repeated."""

from __future__ import annotations

import re
import uuid

from emulator.engine.ids import new_job_id, new_request_id, new_task_id

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_job_and_request_ids_are_version_4_uuids():
    for made in (new_job_id(), new_request_id()):
        assert UUID4.match(made), made
        assert uuid.UUID(made).version == 4


def test_task_ids_are_32_hex_characters_of_a_version_4_uuid():
    task_id = new_task_id()
    assert re.fullmatch(r"[0-9a-f]{32}", task_id)
    assert uuid.UUID(hex=task_id).version == 4


def test_ids_do_not_repeat():
    assert len({new_job_id() for _ in range(10_000)}) == 10_000
