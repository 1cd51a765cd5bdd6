"""Transitional statuses of control-plane resources, computed lazily from stored timestamps.

AWS answers Create/Update/Delete at once and moves the resource on in the background (reference §4):
CREATING -> VALID, UPDATING -> VALID, DELETING -> DELETED -> gone. Here the stored document records
which transition began and when it settles (`_statusSettlesAtMs`), and the status a caller sees is
derived from the clock when the document is read, so no thread is needed and a ManualClock drives
it in tests. Keys starting with `_` are bookkeeping and never leave the service (`public_view`).
"""

from __future__ import annotations

from typing import Any

CREATING = "CREATING"
UPDATING = "UPDATING"
DELETING = "DELETING"
DELETED = "DELETED"
VALID = "VALID"
INVALID = "INVALID"

_SETTLED = {CREATING: VALID, UPDATING: VALID, DELETING: DELETED}
_SETTLES_AT = "_statusSettlesAtMs"
# Why a creation or update settles INVALID rather than VALID (compute environments whose
# references are missing, services/batch/references.py); its statusReason once INVALID.
INVALID_REASON = "_invalidReason"
_GONE_AT = "_goneAtMs"


def begin(
    document: dict[str, Any], status: str, now_ms: int, transition_ms: int, *, has_deleted: bool = True
) -> None:
    """Start a transition. A deletion ends with the resource gone: after DELETED when the resource
    kind shows that status (CEs, queues, service environments), straight away otherwise."""
    document["status"] = status
    document[_SETTLES_AT] = now_ms + transition_ms
    if status == DELETING:
        document[_GONE_AT] = now_ms + (2 * transition_ms if has_deleted else transition_ms)


def current_status(document: dict[str, Any], now_ms: int | None) -> str:
    """The status shown now; `now_ms=None` means every transition has completed."""
    status = document["status"]
    if status in _SETTLED and (now_ms is None or now_ms >= document.get(_SETTLES_AT, 0)):
        if status != DELETING and document.get(INVALID_REASON):
            return INVALID
        return _SETTLED[status]
    return status


def is_gone(document: dict[str, Any], now_ms: int | None) -> bool:
    gone_at = document.get(_GONE_AT)
    return gone_at is not None and (now_ms is None or now_ms >= gone_at)


def is_deleting(document: dict[str, Any]) -> bool:
    return _GONE_AT in document


def public_view(document: dict[str, Any], now_ms: int | None) -> dict[str, Any]:
    """The document without bookkeeping keys and with the status it has now."""
    view = {key: value for key, value in document.items() if not key.startswith("_")}
    if "status" in view:
        view["status"] = current_status(document, now_ms)
    return view
