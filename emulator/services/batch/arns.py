"""Batch ARNs: building them from the caller's region and account, parsing them, and resolving the
name-or-ARN inputs AWS accepts (reference §2.1, §2.4).

Every ARN is built from the request context, so a resource is stored under its tenant's prefix and a
lookup never sees another region's or account's resources. Existence checks are left to the
resource families.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.protocol.dispatch import RequestContext

COMPUTE_ENVIRONMENT = "compute-environment"
JOB_QUEUE = "job-queue"
JOB_DEFINITION = "job-definition"
JOB = "job"
SCHEDULING_POLICY = "scheduling-policy"
CONSUMABLE_RESOURCE = "consumable-resource"
SERVICE_ENVIRONMENT = "service-environment"
SERVICE_JOB = "service-job"
QUOTA_SHARE = "quota-share"

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):batch:(?P<region>[^:]+):(?P<account>\d{12}):(?P<resource>.+)$"
)


@dataclass(frozen=True, slots=True)
class ParsedArn:
    partition: str
    region: str
    account_id: str
    resource_type: str  # "job-queue", ...; "quota-share" for job-queue/<q>/quota-share/<s>
    resource_id: str  # the part after the first "/" (for quota shares: "<queue>/quota-share/<share>")


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def tenant_prefix(ctx: RequestContext) -> str:
    """The prefix every ARN of this caller starts with; a store prefix scan is the caller's view."""
    return f"arn:{partition_for(ctx.region)}:batch:{ctx.region}:{ctx.account_id}:"


def build_arn(ctx: RequestContext, resource_type: str, resource_id: str) -> str:
    return f"{tenant_prefix(ctx)}{resource_type}/{resource_id}"


def quota_share_arn(ctx: RequestContext, queue_name: str, share_name: str) -> str:
    return build_arn(ctx, JOB_QUEUE, f"{queue_name}/quota-share/{share_name}")


def parse_arn(text: str) -> ParsedArn | None:
    match = _ARN.match(text)
    if match is None or "/" not in match["resource"]:
        return None
    resource_type, _, resource_id = match["resource"].partition("/")
    if resource_type == JOB_QUEUE and "/quota-share/" in resource_id:
        resource_type = QUOTA_SHARE
    if not resource_id:
        return None
    return ParsedArn(match["partition"], match["region"], match["account"], resource_type, resource_id)


def is_arn(text: str) -> bool:
    return text.startswith("arn:")


def arn_for(ctx: RequestContext, resource_type: str, name_or_arn: str) -> str | None:
    """The ARN a name-or-ARN input designates in the caller's tenant, or None when it is an ARN of
    another type, region or account (which AWS treats as not found)."""
    if not is_arn(name_or_arn):
        return build_arn(ctx, resource_type, name_or_arn)
    if not name_or_arn.startswith(tenant_prefix(ctx) + resource_type + "/"):
        return None
    return name_or_arn


def name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
