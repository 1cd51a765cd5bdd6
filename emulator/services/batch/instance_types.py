"""Which `instanceTypes` a compute environment may name.

AWS refuses a type it does not know at CreateComputeEnvironment with the list of what it accepts:
`Error executing request, Exception : Instance type can only be one of [m6g.xlarge, optimal, m5n,
...], RequestId: ...` (observed in users' CloudFormation failures, and parsed by AWS ParallelCluster
to learn the supported types). What it accepts: EC2 instance types (`c5.large`), instance families
(`c5`, every size of the family) and `optimal`, `default_x86_64`, `default_arm64` (reference §5.1).

The EC2 types are those of botocore's EC2 model (its `InstanceType` enum), so they follow the
installed botocore; AWS's own list for Batch is a subset of EC2's, which this does not know. The
model is read on the first check (about half a second, once). Without it nothing is refused.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)

SPECIAL_VALUES = ("optimal", "default_x86_64", "default_arm64")


def unknown_instance_types(requested: list[str]) -> list[str]:
    """The requested values AWS would refuse, in the order given."""
    accepted = accepted_instance_types()
    if not accepted:
        return []
    return [value for value in requested if value not in accepted]


def refusal_message(requested: list[str]) -> str | None:
    """AWS's message for a list with a value it does not accept; None when all are accepted."""
    if not unknown_instance_types(requested):
        return None
    return f"Instance type can only be one of [{', '.join(accepted_instance_types_in_order())}]"


@functools.cache
def accepted_instance_types() -> frozenset[str]:
    return frozenset(accepted_instance_types_in_order())


@functools.cache
def accepted_instance_types_in_order() -> tuple[str, ...]:
    """The special values, then the families, then the sizes, each group sorted."""
    sizes = _ec2_instance_types()
    families = sorted({size.split(".", 1)[0] for size in sizes})
    return (*SPECIAL_VALUES, *families, *sorted(sizes)) if sizes else ()


def _ec2_instance_types() -> list[str]:
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    loader = Loader()
    try:
        version = loader.determine_latest_version("ec2", "service-2")
        shapes = loader.load_service_model("ec2", "service-2", version)["shapes"]
        return list(shapes["InstanceType"]["enum"])
    except (DataNotFoundError, KeyError) as missing:  # a trimmed botocore: accept every value
        log.warning("no EC2 instance types in botocore's models (%s); instanceTypes are not checked", missing)
        return []
