"""Images named by an Amazon ECR URI, run from the local Docker daemon when it has them.

A definition written for AWS names its image `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`
(or `@sha256:<digest>`). Locally that image is usually built as `<repo>:<tag>` and never pushed,
and no ECR registry answers here, so the Docker executor runs the local image the URI stands for
when the daemon has it, and otherwise pulls the URI as it pulls any image (a failure is the usual
`CannotPullContainerError`). The repositories themselves are moto's ECR, which holds no layers.
"""

from __future__ import annotations

import re

# Registry host: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], as ECR documents it.
_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def local_candidates(image: str) -> tuple[str, ...]:
    """The local names an ECR `image` may go by, best first: `<repo>@<digest>` then the image id
    `<digest>` for a digest reference, `<repo>:<tag>` for a tag (`latest` when none is given).
    () for an image that is not in ECR."""
    match = _ECR_IMAGE.fullmatch(image)
    if match is None:
        return ()
    repository, digest = match["repository"], match["digest"]
    if digest:
        return (f"{repository}@{digest}", digest)
    return (f"{repository}:{match['tag'] or 'latest'}",)
