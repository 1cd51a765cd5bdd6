"""How values look on the dashboard's pages: times, durations, ARNs, commands and secrets.

Registered as Jinja filters by the blueprint. Every filter returns plain text; Jinja's autoescaping
is what turns user text (a command, a status reason) into text on the page, never markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

MASK = "••••••"
# Environment variable names whose values the dashboard never shows (a browser may be shared,
# screenshots get pasted into tickets): secrets passed the plain way.
SENSITIVE_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY", re.I)

STATUS_CLASSES = {
    "SUBMITTED": "submitted",
    "PENDING": "pending",
    "RUNNABLE": "runnable",
    "STARTING": "starting",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
}


def when(at_ms: int | None) -> str:
    """Epoch milliseconds as UTC, to the millisecond (jobs of a test often run within a second)."""
    if at_ms is None:
        return ""
    moment = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{at_ms % 1000:03d}"


def duration(start_ms: int | None, stop_ms: int | None, now_ms: int | None = None) -> str:
    """`1h 02m`, `3m 05s`, `4.2s`; a running span counts up to `now_ms`; empty before it starts."""
    if start_ms is None:
        return ""
    end = stop_ms if stop_ms is not None else now_ms
    if end is None:
        return ""
    seconds = max(0, end - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def status_class(status: str | None) -> str:
    return "status-" + STATUS_CLASSES.get(status or "", "unknown")


def resource_name(arn: str | None) -> str:
    """The name part of an ARN (`.../job-definition/name:3` -> `name:3`)."""
    if not arn:
        return ""
    return arn.rsplit("/", 1)[-1]


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def command_text(command: Sequence[str] | None) -> str:
    """A command as its JSON list: every argument visible, with its exact boundaries."""
    return json.dumps(list(command or ()), ensure_ascii=False)


def masked_environment(entries: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, str, bool]]:
    """(name, value shown, masked?) for each `{"name", "value"}` entry."""
    shown = []
    for entry in entries or ():
        name = str(entry.get("name", ""))
        masked = bool(SENSITIVE_NAME.search(name))
        shown.append((name, MASK if masked else str(entry.get("value", "")), masked))
    return shown


def masked_document(value: Any) -> Any:
    """A copy of a wire document with the value of every sensitive `{"name", "value"}` entry
    (container environment, EKS env) masked: what the dashboard shows of a definition or detail."""
    if isinstance(value, Mapping):
        copied = {key: masked_document(item) for key, item in value.items()}
        name = copied.get("name")
        if "value" in copied and isinstance(name, str) and SENSITIVE_NAME.search(name):
            copied["value"] = MASK
        return copied
    if isinstance(value, list):
        return [masked_document(item) for item in value]
    return value


FILTERS = {
    "when": when,
    "duration": duration,
    "status_class": status_class,
    "resource_name": resource_name,
    "as_json": as_json,
    "masked_json": lambda value: as_json(masked_document(value)),
    "command_text": command_text,
    "masked_environment": masked_environment,
}
