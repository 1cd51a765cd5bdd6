"""Reading a service job's SageMaker CreateTrainingJob payload: capacity, hyperparameters, and
what running its training image takes (config files, environment, channels, runtime limit)."""

from __future__ import annotations

import json

import pytest

from emulator.services.batch.training_payload import read_payload

FULL = {
    "TrainingJobName": "ignored",
    "AlgorithmSpecification": {"TrainingImage": "trainer:1", "TrainingInputMode": "File"},
    "ResourceConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
    "HyperParameters": {"epochs": "3", "lr": "0.1"},
    "Environment": {"MODE": "fast"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3Uri": "s3://b/train", "S3DataType": "S3Prefix"}},
        },
        {
            "ChannelName": "validation",
            "InputMode": "Pipe",
            "DataSource": {"S3DataSource": {"S3Uri": "s3://b/v", "S3DataDistributionType": "ShardedByS3Key"}},
        },
        {"ChannelName": "../escape"},
    ],
}


def test_a_full_payload_gives_capacity_hyperparameters_and_the_training_container():
    payload = read_payload(json.dumps(FULL))

    assert (payload.instance_count, payload.instance_type) == (2, "ml.m5.large")
    assert payload.hyper_parameters == (("epochs", "3"), ("lr", "0.1"))
    container = payload.training_container
    assert container.image == "trainer:1"
    assert container.environment == (("MODE", "fast"),)
    assert container.max_runtime_seconds == 3600
    assert container.channels == ("train", "validation")  # not one outside SageMaker's pattern
    files = {name: json.loads(text) for name, text in container.config_files}
    assert files["hyperparameters.json"] == {"epochs": "3", "lr": "0.1"}
    assert files["resourceconfig.json"] == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
        "current_instance_type": "ml.m5.large",
        "network_interface_name": "eth0",
    }
    assert files["inputdataconfig.json"] == {
        "train": {
            "ContentType": "text/csv",
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
        "validation": {
            "TrainingInputMode": "Pipe",
            "S3DistributionType": "ShardedByS3Key",
            "RecordWrapperType": "None",
        },
    }


def test_a_payload_without_a_training_image_has_no_container():
    payload = read_payload(json.dumps({"AlgorithmSpecification": {"AlgorithmName": "arn:...:algorithm/x"}}))

    assert payload.training_container is None
    assert (payload.instance_count, payload.instance_type, payload.hyper_parameters) == (1, None, ())


def test_a_minimal_payload_still_gets_every_config_file():
    container = read_payload(
        json.dumps({"AlgorithmSpecification": {"TrainingImage": "t:1"}})
    ).training_container

    assert dict(container.config_files) == {
        "hyperparameters.json": "{}",
        "resourceconfig.json": json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
        ),
        "inputdataconfig.json": "{}",
    }
    assert container.max_runtime_seconds is None and container.channels == ()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[" * 5000, id="nested-deeper-than-the-parser-goes"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param(
            json.dumps(
                {
                    "AlgorithmSpecification": "trainer:1",
                    "ResourceConfig": {"InstanceCount": True},
                    "HyperParameters": ["a"],
                }
            ),
            id="members-of-the-wrong-type",
        ),
    ],
)
def test_what_cannot_be_read_is_taken_as_absent(text):
    payload = read_payload(text)

    assert payload.instance_count == 1
    assert payload.hyper_parameters == ()
    assert payload.training_container is None


def test_a_runtime_limit_that_is_not_a_positive_integer_is_ignored():
    document = {
        "AlgorithmSpecification": {"TrainingImage": "t:1"},
        "StoppingCondition": {"MaxRuntimeInSeconds": "9"},
    }

    assert read_payload(json.dumps(document)).training_container.max_runtime_seconds is None
