"""ResourceStore: control-plane resources (compute environments, queues, definitions, ...).

Documents are wire-shaped dicts keyed by kind and ARN. ARNs carry the region and account, so a
prefix scan (`list(kind, prefix="arn:aws:batch:us-east-1:123456789012:")`) is a tenant's view.
The store copies on the way in and out, so a caller can never mutate stored state by accident, and
keeps insertion order, which is the order Describe calls return.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class ResourceStore(Protocol):
    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...
    def put(self, kind: str, key: str, document: dict[str, Any]) -> None: ...
    def delete(self, kind: str, key: str) -> None: ...
    def list(self, kind: str, prefix: str = "") -> list[dict[str, Any]]: ...
    def scan(self, kind: str, prefix: str = "") -> list[dict[str, Any]]: ...
    def clear(self) -> None: ...


class MemoryResourceStore:
    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, dict[str, Any]]] = {}
        self._lock = threading.RLock()

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            document = self._kinds.get(kind, {}).get(key)
            return _copy(document) if document is not None else None

    def get_member(self, kind: str, key: str, member: str) -> Any:
        """One top-level member of a document, not copied: for scalar members (strings, numbers)
        read often, where copying the whole document would cost more than the answer."""
        with self._lock:
            document = self._kinds.get(kind, {}).get(key)
            return document.get(member) if document is not None else None

    def put(self, kind: str, key: str, document: dict[str, Any]) -> None:
        with self._lock:
            self._kinds.setdefault(kind, {})[key] = _copy(document)

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._kinds.get(kind, {}).pop(key, None)

    def list(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return [_copy(d) for k, d in self._kinds.get(kind, {}).items() if k.startswith(prefix)]

    def scan(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        """Like `list`, without the copies: the stored documents themselves, for a caller that only
        reads them (filters, sorts, and serializes an answer). DescribeJobDefinitions copied every
        revision of the account for each call and then dropped most of them; mutating what this
        returns would change the store."""
        with self._lock:
            return [d for k, d in self._kinds.get(kind, {}).items() if k.startswith(prefix)]

    def clear(self) -> None:
        with self._lock:
            self._kinds.clear()

    @property
    def lock(self) -> threading.RLock:
        """Held by a service across a read-check-write sequence (e.g. unique names)."""
        return self._lock


def _copy(value: Any) -> Any:
    """A deep copy of a JSON-shaped document (what the SQLite store can hold): dicts, lists and
    immutable scalars. Several times faster than `copy.deepcopy`, which every read of every
    request pays (SubmitJob reads its queue, definition and compute environment)."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return kind(_copy(item) for item in value)
    return value
