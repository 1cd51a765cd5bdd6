"""Reads the SageMaker CreateTrainingJob request a SAGEMAKER_TRAINING service job carries as its
`serviceRequestPayload` (JSON text, reference §21) into what the service-job engine needs.

Read: `ResourceConfig.InstanceCount` (the capacity a job takes, default 1) and `InstanceType`;
`HyperParameters` (the simulated outcome, engine/service_jobs.py); and, for running the training
image, `AlgorithmSpecification.TrainingImage` and `TrainingInputMode`, `Environment`,
`StoppingCondition.MaxRuntimeInSeconds` and `InputDataConfig`, from which the config files
SageMaker writes under /opt/ml/input/config are rendered here (their PascalCase keys are
SageMaker's). Whether the image is run is the engine's decision.

A payload that is not a JSON object, or a member of the wrong type, is taken as absent: SageMaker
would validate the request; the emulator does not. So is a count (`InstanceCount`,
`MaxRuntimeInSeconds`) outside SageMaker's Integer: it would otherwise reach DescribeServiceJob's
`capacityUsage` or a deadline as a number no SDK can read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from emulator.engine.numeric_text import INT32_MAX
from emulator.engine.service_records import TrainingContainer
from emulator.engine.training_containers import HOST

# SageMaker's ChannelName pattern; a channel named otherwise is left out.
CHANNEL_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,64}")
NETWORK_INTERFACE = "eth0"


@dataclass(frozen=True, slots=True)
class TrainingPayload:
    instance_count: int = 1
    instance_type: str | None = None
    hyper_parameters: tuple[tuple[str, str], ...] = ()
    training_container: TrainingContainer | None = None  # None: the payload names no image


def read_payload(text: str) -> TrainingPayload:
    payload = _object(_json(text))
    resources = _object(payload.get("ResourceConfig"))
    instance_type = resources.get("InstanceType") if isinstance(resources.get("InstanceType"), str) else None
    instance_count = resources.get("InstanceCount")
    if not _is_count(instance_count):
        instance_count = 1
    hyper_parameters = _string_map(payload.get("HyperParameters"))
    return TrainingPayload(
        instance_count=instance_count,
        instance_type=instance_type,
        hyper_parameters=hyper_parameters,
        training_container=_training_container(payload, instance_type, hyper_parameters),
    )


def _training_container(
    payload: dict[str, Any], instance_type: str | None, hyper_parameters: tuple[tuple[str, str], ...]
) -> TrainingContainer | None:
    algorithm = _object(payload.get("AlgorithmSpecification"))
    image = _string(algorithm.get("TrainingImage"))
    if not image:
        return None
    channels = [
        channel
        for channel in map(_object, _list(payload.get("InputDataConfig")))
        if CHANNEL_NAME.fullmatch(_string(channel.get("ChannelName")) or "")
    ]
    input_mode = _string(algorithm.get("TrainingInputMode")) or "File"
    max_runtime = _object(payload.get("StoppingCondition")).get("MaxRuntimeInSeconds")
    resource_config: dict[str, Any] = {"current_host": HOST, "hosts": [HOST]}
    if instance_type is not None:
        resource_config["current_instance_type"] = instance_type
    resource_config["network_interface_name"] = NETWORK_INTERFACE
    return TrainingContainer(
        image=image,
        environment=_string_map(payload.get("Environment")),
        config_files=(
            ("hyperparameters.json", json.dumps(dict(hyper_parameters))),
            ("resourceconfig.json", json.dumps(resource_config)),
            ("inputdataconfig.json", json.dumps(_input_data_config(channels, input_mode))),
        ),
        channels=tuple(channel["ChannelName"] for channel in channels),
        max_runtime_seconds=max_runtime if _is_count(max_runtime) else None,
    )


def _input_data_config(channels: list[dict[str, Any]], input_mode: str) -> dict[str, Any]:
    """inputdataconfig.json: per channel, its content type, input mode, distribution and wrapper."""
    config: dict[str, Any] = {}
    for channel in channels:
        source = _object(_object(channel.get("DataSource")).get("S3DataSource"))
        entry = {
            "TrainingInputMode": _string(channel.get("InputMode")) or input_mode,
            "S3DistributionType": _string(source.get("S3DataDistributionType")) or "FullyReplicated",
            "RecordWrapperType": _string(channel.get("RecordWrapperType")) or "None",
        }
        content_type = _string(channel.get("ContentType"))
        config[channel["ChannelName"]] = {"ContentType": content_type, **entry} if content_type else entry
    return config


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT32_MAX


def _string_map(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(item)) for key, item in _object(value).items())
