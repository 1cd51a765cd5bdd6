"""CloudFormation's `AWS::Batch::*` resources, created in this endpoint's Batch rather than moto's.

On AWS a stack's Batch resources are ordinary Batch resources: DescribeComputeEnvironments lists the
compute environment a stack made, and jobs run on it. moto's CloudFormation creates each resource
through the model class its type is registered under, and moto registers its own Batch backend's
classes, whose resources this endpoint's Batch API never lists. `install()` registers one class per
Batch resource type instead, which turns the resource's properties into the Batch request
(`CreateComputeEnvironment`, `CreateJobQueue`, `RegisterJobDefinition`, `CreateSchedulingPolicy`)
and sends it to our Batch through the `BatchCall` the front door holds for that request
(`serving`), so validation, defaults and ARNs are Batch's own.

Properties are matched to the request's members through botocore's Batch model: CloudFormation's
`ComputeResources.MinvCpus` is the member `computeResources.minvCpus`; map values (`Tags`,
`Parameters`, `Options`) keep their keys; numbers CloudFormation passes where Batch takes strings
(`ResourceRequirements` values) become strings. Properties CloudFormation has and the request lacks
(`ReplaceComputeEnvironment`, `UpdatePolicy` at creation, `ResourceRetentionPolicy`) are dropped.

Left to someone else: stack updates and deletions. moto has no update or delete for these types,
so UpdateStack leaves the Batch resources as they were and DeleteStack leaves them in place (AWS
would update, disable and delete them); docs/known-differences.md says so.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

from emulator.protocol.errors import ServiceError
from emulator.protocol.specs import BATCH, load_service_model

log = logging.getLogger(__name__)

# (operation name, request members as on the wire, account id, region) -> the result's members
BatchCall = Callable[[str, dict[str, Any], str, str], dict[str, Any]]

CLOUDFORMATION_BACKEND = "cloudformation"
_batch_call: ContextVar[BatchCall | None] = ContextVar("batch_call_for_stacks", default=None)


@dataclass(frozen=True, slots=True)
class BatchResourceType:
    """One `AWS::Batch::*` type: the Batch call that creates it and what CloudFormation reads back
    (`Ref` is the ARN for all four; `Fn::GetAtt` offers the ARN under `arn_attribute`)."""

    cfn_type: str
    name_property: str
    operation: str
    name_member: str
    arn_member: str
    arn_attribute: str


RESOURCE_TYPES = (
    BatchResourceType(
        "AWS::Batch::ComputeEnvironment",
        "ComputeEnvironmentName",
        "CreateComputeEnvironment",
        "computeEnvironmentName",
        "computeEnvironmentArn",
        "ComputeEnvironmentArn",
    ),
    BatchResourceType(
        "AWS::Batch::JobQueue", "JobQueueName", "CreateJobQueue", "jobQueueName", "jobQueueArn", "JobQueueArn"
    ),
    BatchResourceType(
        "AWS::Batch::JobDefinition",
        "JobDefinitionName",
        "RegisterJobDefinition",
        "jobDefinitionName",
        "jobDefinitionArn",
        "JobDefinitionArn",
    ),
    BatchResourceType("AWS::Batch::SchedulingPolicy", "Name", "CreateSchedulingPolicy", "name", "arn", "Arn"),
)


@contextlib.contextmanager
def serving(backend: str, call: BatchCall | None) -> Iterator[None]:
    """Around one request forwarded to moto: a CloudFormation request's Batch resources go to
    `call`, the Batch of the app that received it. Other backends pass straight through."""
    if backend != CLOUDFORMATION_BACKEND or call is None:
        yield
        return
    install()
    token = _batch_call.set(call)
    try:
        yield
    finally:
        _batch_call.reset(token)


@functools.cache
def install() -> None:
    """Register our classes for the four types in moto's CloudFormation, in place of moto's Batch
    backend's. moto builds its type map once from CloudFormationModel's subclasses; both our
    subclassing and the explicit entries below make ours the ones it uses, whichever came first."""
    from moto.cloudformation import parsing

    model_map = parsing.get_model_map()
    for kind in RESOURCE_TYPES:
        model_map[kind.cfn_type] = _model_class(kind, model_map.get(kind.cfn_type))


def request_from_properties(operation: str, properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's properties for a resource -> the members of the Batch request."""
    shape = load_service_model(BATCH).operation_model(operation).input_shape
    return _converted(shape, properties, operation)


def create(
    call: BatchCall,
    kind: BatchResourceType,
    name: str,
    properties: dict[str, Any],
    account_id: str,
    region: str,
) -> str:
    """Create the resource in our Batch; returns its ARN. Batch's refusal fails the stack with
    CloudFormation's ValidationError carrying Batch's message."""
    request = {**request_from_properties(kind.operation, properties), kind.name_member: name}
    try:
        result = call(kind.operation, request, account_id, region)
    except ServiceError as refusal:
        from moto.cloudformation.exceptions import ValidationError

        raise ValidationError(message=f"{kind.cfn_type} {name}: {refusal.message}") from refusal
    return result[kind.arn_member]


def _converted(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return _structure(shape, value, where)
    if kind == "list" and isinstance(value, list):
        return [_converted(shape.member, item, where) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {str(key): _converted(shape.value, item, where) for key, item in value.items()}
    return _scalar(kind, value)


def _structure(shape: Shape, value: dict[str, Any], where: str) -> dict[str, Any]:
    """Members matched by name regardless of case (`MinvCpus` is `minvCpus`)."""
    members = {name.lower(): name for name in shape.members}
    request = {}
    for key, item in value.items():
        member = members.get(str(key).lower())
        if member is None:
            log.debug("%s: CloudFormation property %s has no Batch member; dropped", where, key)
            continue
        request[member] = _converted(shape.members[member], item, where)
    return request


def _scalar(kind: str, value: Any) -> Any:
    """CloudFormation passes numbers where Batch takes strings and strings where it takes numbers
    or booleans (parameters and `Fn::` results are strings); anything else goes as it is, for
    Batch's own validation to judge."""
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if kind in ("integer", "long") and text.lstrip("-").isdigit():
            return int(text)
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value


def _model_class(kind: BatchResourceType, moto_class: Any) -> type:
    """The class moto's CloudFormation creates resources of this type with. A stack created
    outside a request to an emulator (a test using moto's `mock_aws` in the same process) still
    gets moto's own class's behaviour."""
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.common_models import CloudFormationModel

    class StackBatchResource(CloudFormationModel):
        def __init__(self, arn: str) -> None:
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_type() -> str:
            return kind.cfn_type

        @staticmethod
        def cloudformation_name_type() -> str:
            return kind.name_property

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == kind.arn_attribute

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name == kind.arn_attribute:
                return self.arn
            raise UnformattedGetAttTemplateException()

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> StackBatchResource:
            call = _batch_call.get()
            if call is None and moto_class is not None:
                return moto_class.create_from_cloudformation_json(
                    resource_name, cloudformation_json, account_id, region_name, **kwargs
                )
            if call is None:
                raise NotImplementedError(f"{kind.cfn_type} outside a request to the emulator")
            properties = cloudformation_json.get("Properties") or {}
            return cls(create(call, kind, resource_name, properties, account_id, region_name))

        def is_created(self) -> bool:
            return True

    StackBatchResource.__name__ = StackBatchResource.__qualname__ = "Stack" + kind.cfn_type.split("::")[-1]
    return StackBatchResource
