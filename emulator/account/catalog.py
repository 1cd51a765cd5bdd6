"""Every AWS service botocore knows, by SigV4 signing name: which wire protocol its clients speak.

A request for a service nobody here serves must still be refused in that service's own protocol
(an S3 client cannot parse a JSON error, a CloudSearch client expects query-protocol XML), and
the credential scope names only the signing name. Loading ~450 full models takes seconds, so the
index reads just the `metadata` block at the head of each model file, once per process.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from functools import cache

from botocore.loaders import Loader

# How much of a model file holds its metadata block (the first key in every botocore model).
_HEAD_CHARACTERS = 8192


@dataclass(frozen=True, slots=True)
class ServiceProtocols:
    """One botocore model: its name and the protocols its clients may speak, preferred first."""

    service_name: str
    protocols: tuple[str, ...]
    json_version: str = "1.0"


def services_signed_as(signing_name: str) -> tuple[ServiceProtocols, ...]:
    """The models whose requests carry `signing_name` in their credential scope; () for a name
    that is no AWS service. Several models may share one (s3 and s3control, cloudsearch and
    cloudsearchdomain); the one named like the signing name comes first."""
    return _index().get(signing_name.lower(), ())


@cache
def _index() -> dict[str, tuple[ServiceProtocols, ...]]:
    loader = Loader()
    index: dict[str, list[ServiceProtocols]] = {}
    for service_name in loader.list_available_services("service-2"):
        metadata = _metadata(loader, service_name)
        if metadata is None:
            continue
        signing_name = metadata.get("signingName") or metadata.get("endpointPrefix") or service_name
        protocols = tuple(metadata.get("protocols") or (metadata["protocol"],))
        entry = ServiceProtocols(service_name, protocols, metadata.get("jsonVersion", "1.0"))
        index.setdefault(signing_name.lower(), []).append(entry)
    return {
        name: tuple(sorted(entries, key=lambda entry: entry.service_name != name))
        for name, entries in index.items()
    }


def _metadata(loader: Loader, service_name: str) -> dict | None:
    path = _model_path(loader, service_name)
    if path is None:
        return None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as model_file:
        head = model_file.read(_HEAD_CHARACTERS)
    start = head.find('"metadata"')
    start = head.find("{", start) if start >= 0 else -1
    if start < 0:
        return None
    try:
        metadata, _ = json.JSONDecoder().raw_decode(head, start)
    except ValueError:  # a metadata block longer than the head: read no further, skip the model
        return None
    return metadata if isinstance(metadata, dict) and "protocol" in metadata else None


def _model_path(loader: Loader, service_name: str) -> str | None:
    api_version = loader.determine_latest_version(service_name, "service-2")
    for search_path in loader.search_paths:
        for suffix in (".json.gz", ".json"):
            path = os.path.join(search_path, service_name, api_version, "service-2" + suffix)
            if os.path.isfile(path):
                return path
    return None
