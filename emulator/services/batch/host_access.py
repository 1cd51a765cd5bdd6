"""What a job definition may do to the host, as the operator allows it.

By default everything AWS allows is allowed, because the emulator is a local tool. An operator who
shares the emulator can refuse privileged containers, host-path volumes and host devices
(`--deny-privileged`, `--deny-host-mounts`, `--deny-devices`); RegisterJobDefinition then refuses
a definition that asks for them, wherever in the definition they appear (container, node ranges,
ECS task containers, EKS pod specs), so no such job can ever be submitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emulator.config import Settings
from emulator.services.batch.submission import client_error


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def refused_host_access(definition: dict[str, Any], settings: Settings) -> str | None:
    """The first host access the settings refuse, described for the error message; None if none."""
    for key, value in _walk(definition):
        if settings.deny_privileged and key == "privileged" and value is True:
            return "privileged containers (--deny-privileged)"
        if settings.deny_host_mounts and (
            (key == "host" and isinstance(value, dict) and value.get("sourcePath"))
            or (key == "hostPath" and value)
        ):
            return "host-path volumes (--deny-host-mounts)"
        if settings.deny_devices and key == "devices" and value:
            return "host devices (--deny-devices)"
    return None


def check_host_access(definition: dict[str, Any], settings: Settings) -> None:
    refused = refused_host_access(definition, settings)
    if refused is not None:
        raise client_error(f"This batch-emulator does not allow {refused}.")
