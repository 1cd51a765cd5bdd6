"""The botocore service models this emulator serves, loaded once per process.

Everything the protocol layer knows about operations, members, locations and constraints comes
from these models; nothing service-specific is typed under `protocol/`.
"""

from __future__ import annotations

from functools import cache

from botocore.loaders import Loader
from botocore.model import ServiceModel

BATCH = "batch"
LOGS = "logs"


@cache
def load_service_model(service_name: str) -> ServiceModel:
    loader = Loader()
    api_version = loader.determine_latest_version(service_name, "service-2")
    data = loader.load_service_model(service_name, "service-2", api_version)
    return ServiceModel(data, service_name=service_name)
