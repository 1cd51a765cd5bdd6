"""What exists in an account, asked of moto's IAM and EC2 backends in this process: the
`AccountReferences` that --validate-references gives the Batch provider
(services/batch/references.py). moto is imported on the first question.

An ARN is looked up in the account it names (a role of another account may be used), a bare name
in the caller's. IAM is global: roles and instance profiles are looked up by name, so a role ARN
matches whatever its path; subnets and security groups belong to the caller's region.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class MotoReferences:
    def has_role(self, account_id: str, role: str) -> bool:
        account, name = _account_and_name(account_id, role)
        return _exists(lambda: _iam(account).get_role(name))

    def has_instance_profile(self, account_id: str, profile: str) -> bool:
        account, name = _account_and_name(account_id, profile)
        return _exists(lambda: _iam(account).get_instance_profile(name))

    def has_subnet(self, account_id: str, region: str, subnet_id: str) -> bool:
        return _exists(lambda: _ec2(account_id, region).get_subnet(subnet_id))

    def has_security_group(self, account_id: str, region: str, group_id: str) -> bool:
        return _exists(lambda: _ec2(account_id, region).get_security_group_from_id(group_id))


def _account_and_name(account_id: str, name_or_arn: str) -> tuple[str, str]:
    """`arn:aws:iam::<account>:role/<path>/<name>` -> (account, name); a bare name stays in `account_id`."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":", 5)
        if len(parts) == 6:
            return parts[4] or account_id, parts[5].rsplit("/", 1)[-1]
    return account_id, name_or_arn


def _exists(lookup) -> bool:
    """moto's getters raise (or return None) for what is not there."""
    try:
        return lookup() is not None
    except Exception as error:  # moto's NotFound errors, or a region or account moto refuses
        log.debug("reference not found: %s", error)
        return False


def _iam(account_id: str):
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["global"]


def _ec2(account_id: str, region: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]
