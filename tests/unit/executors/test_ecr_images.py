"""Which local image an ECR image URI stands for (the Docker executor runs it when the daemon has it)."""

from __future__ import annotations

import pytest

from emulator.executors.ecr_images import local_candidates

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs:v1", ("jobs:v1",)),
        ("123456789012.dkr.ecr.eu-west-3.amazonaws.com/team/jobs:2024.1-rc", ("team/jobs:2024.1-rc",)),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs", ("jobs:latest",)),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/jobs:v1", ("jobs:v1",)),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/jobs:v1", ("jobs:v1",)),
        (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs@{DIGEST}", (f"jobs@{DIGEST}", DIGEST)),
    ],
    ids=["tag", "path-and-dotted-tag", "no-tag", "fips", "china", "digest"],
)
def test_an_ecr_uri_stands_for_its_repository_and_tag(image, expected):
    assert local_candidates(image) == expected


@pytest.mark.parametrize(
    "image",
    [
        "busybox:latest",
        "public.ecr.aws/docker/library/busybox:latest",
        "registry.example.com/jobs:v1",
        "12345.dkr.ecr.us-east-1.amazonaws.com/jobs:v1",
    ],
    ids=["docker-hub", "ecr-public", "other-registry", "short-account"],
)
def test_other_images_are_left_as_they_are(image):
    assert local_candidates(image) == ()
