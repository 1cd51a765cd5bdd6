"""--validate-references: the IAM roles, instance profiles, subnets and security groups that a
compute environment or a job definition names must exist in the account.

Off by default, as before the emulator served the rest of the account: suites that pass made-up
ARNs and subnet ids keep working. When on, app.py hands the provider an `AccountReferences`
(emulator/account/references.py, moto's IAM and EC2) and AWS's outcomes follow (reference §4.2,
§5.1):
- a compute environment whose references are missing is created (or updated) all the same and
  settles INVALID instead of VALID, with a `CLIENT_ERROR - ...` statusReason naming the first
  problem, in the order AWS meets them: the service role it assumes, the instance profile, the
  Spot Fleet role, the subnets, the security groups. An update that repairs them makes it VALID
  again. The service-linked role (the default `serviceRole`) is taken to exist, as AWS creates it;
- RegisterJobDefinition refuses a definition whose job, task or execution role does not exist
  with ECS's `ClientException: Role is not valid`, naming the member and the ARN.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from emulator.protocol.errors import ServiceError

SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"
CLIENT_ERROR = "CLIENT_ERROR - "
_DEFINITION_ROLES = ("jobRoleArn", "executionRoleArn", "taskRoleArn")


class AccountReferences(Protocol):
    """What exists in an account. Names may be ARNs or, where AWS accepts them, bare names."""

    def has_role(self, account_id: str, role: str) -> bool: ...

    def has_instance_profile(self, account_id: str, profile: str) -> bool: ...

    def has_subnet(self, account_id: str, region: str, subnet_id: str) -> bool: ...

    def has_security_group(self, account_id: str, region: str, group_id: str) -> bool: ...


def compute_environment_problem(
    references: AccountReferences, account_id: str, region: str, document: dict[str, Any]
) -> str | None:
    """The INVALID statusReason of a compute environment document (as DescribeComputeEnvironments
    shows it), or None when everything it names exists."""
    service_role = document.get("serviceRole") or ""
    if SERVICE_LINKED_ROLE_PATH not in service_role and not references.has_role(account_id, service_role):
        return (
            f"{CLIENT_ERROR}Not authorized to perform sts:AssumeRole (Service: AWSSecurityTokenService; "
            f"Status Code: 403; Error Code: AccessDenied; Request ID: {uuid.uuid4()})"
        )
    resources = document.get("computeResources") or {}
    profile = resources.get("instanceRole")
    if profile and not references.has_instance_profile(account_id, profile):
        return f"{CLIENT_ERROR}Instance profile {_instance_profile_arn(account_id, profile)} does not exist"
    fleet_role = resources.get("spotIamFleetRole")
    if fleet_role and not references.has_role(account_id, fleet_role):
        return f"{CLIENT_ERROR}Parameter: SpotFleetRequestConfig.IamFleetRole is invalid."
    for subnet in resources.get("subnets") or ():
        if not references.has_subnet(account_id, region, subnet):
            return _ec2_not_found(f"The subnet ID '{subnet}' does not exist", "InvalidSubnetID.NotFound")
    for group in resources.get("securityGroupIds") or ():
        if not references.has_security_group(account_id, region, group):
            return _ec2_not_found(f"The security group '{group}' does not exist", "InvalidGroup.NotFound")
    return None


def check_definition_roles(references: AccountReferences, account_id: str, request: dict[str, Any]) -> None:
    """ClientException for the first job, task or execution role of the definition that does not
    exist (containerProperties, node ranges, ECS task properties)."""
    for member, role in _definition_roles(request):
        if not references.has_role(account_id, role):
            raise ServiceError("ClientException", f"Role is not valid: {member} {role}")


def _definition_roles(request: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for properties in _role_holders(request):
        for member in _DEFINITION_ROLES:
            if properties.get(member):
                yield member, properties[member]


def _role_holders(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every part of a definition that may name roles: a container, an ECS task."""
    holders = [request]
    holders += (request.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    for holder in holders:
        if holder.get("container"):
            yield holder["container"]
        if holder.get("containerProperties"):
            yield holder["containerProperties"]
        yield from (holder.get("ecsProperties") or {}).get("taskProperties") or []


def _instance_profile_arn(account_id: str, profile: str) -> str:
    return profile if profile.startswith("arn:") else f"arn:aws:iam::{account_id}:instance-profile/{profile}"


def _ec2_not_found(message: str, code: str) -> str:
    """An EC2 error as Batch relays the AWS SDK exceptions it meets while creating resources."""
    return (
        f"{CLIENT_ERROR}{message} (Service: AmazonEC2; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()})"
    )
