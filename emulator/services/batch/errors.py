"""ClientException constructors with AWS's wording (reference §1.4 and Appendix B).

`wrapped=True` renders `Error executing request, Exception : <msg>, RequestId: <id>`, the style AWS
uses for request validation; plain messages are the ones observed verbatim for missing resources and
state conflicts. Wording the reference marks unverified is chosen here, in one place, and listed in
docs/known-differences.md.
"""

from __future__ import annotations

from emulator.protocol.errors import ServiceError

CLIENT_EXCEPTION = "ClientException"


def invalid(message: str) -> ServiceError:
    """A request AWS's validation refuses (wrapped style)."""
    return ServiceError(CLIENT_EXCEPTION, message, wrapped=True)


def conflict(message: str) -> ServiceError:
    """A refusal because of a resource's existence or state (plain style)."""
    return ServiceError(CLIENT_EXCEPTION, message)


def already_exists() -> ServiceError:
    # Commonly reported wording for duplicate names; unverified (Appendix B).
    return conflict("Object already exists")


def name_pattern(label: str) -> ServiceError:
    # Observed for SubmitJob ("Job name should match valid pattern"); applied to every name (unverified).
    return invalid(f"{label} name should match valid pattern")


def not_applicable_for_fargate(member: str) -> ServiceError:
    # Observed for desiredvCpus and tags; inferred for the other EC2-only members.
    return invalid(f"{member} is not applicable for Fargate.")


def not_applicable_for_ec2(member: str) -> ServiceError:
    # Observed for networkConfiguration; inferred for the other Fargate-only members.
    return invalid(f"{member} not applicable for EC2.")


def compute_environment_not_found(given: str) -> ServiceError:
    # Modelled on the observed "JobQueue <queue> not found." (unverified for CEs).
    return conflict(f"ComputeEnvironment {given} not found.")


def job_queue_not_found(given: str) -> ServiceError:
    # Observed verbatim on SubmitJob.
    return conflict(f"JobQueue {given} not found.")


def job_definition_not_active(name: str) -> ServiceError:
    # Observed verbatim (some captures add a trailing period).
    return conflict(f"JobDefinition name {name} does not exist or is not in ACTIVE status")


def not_found(label: str, given: str) -> ServiceError:
    # Unverified wording for the newer resources (Appendix D item 1).
    return conflict(f"{label} {given} does not exist")


def has_queue_relationship() -> ServiceError:
    # Observed verbatim.
    return conflict("Cannot delete, found existing JobQueue relationship")


def being_modified() -> ServiceError:
    # Observed verbatim for DeleteJobQueue.
    return conflict("Cannot delete, resource is being modified")


def must_be_disabled(label: str) -> ServiceError:
    # Unverified wording (Appendix D item 1).
    return conflict(f"Cannot delete, {label} must be in DISABLED state")


def limit_exceeded(label: str, limit: int) -> ServiceError:
    # Unverified wording.
    return invalid(f"Maximum number of {label} supported is {limit}")


def too_many_ids(label: str, limit: int = 100) -> ServiceError:
    # Modelled on the observed DescribeJobs message ("Maximum number of jobs supported is  100 .").
    return invalid(f"Maximum number of {label} supported is {limit}")
