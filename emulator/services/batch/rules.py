"""What AWS Batch enforces beyond the service model: naming rules, limits and quotas, tag rules,
retry strategies and Fargate sizes (reference §2.5, §3, §12.2, §17.3, §23).

Pure checks that raise ClientException (through `errors`); each family module decides when to apply
them. The protocol layer has already enforced the model's types, required members and enums.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from emulator.engine import numeric_text
from emulator.executors.simulated import read_outcome_environment
from emulator.services.batch import errors

RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SERVICE_JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SHARE_IDENTIFIER = re.compile(r"^[A-Za-z0-9]{1,255}\*?$")
EXIT_CODE_PATTERN = re.compile(r"^[0-9]*\*?$")

MAX_COMPUTE_ENVIRONMENTS = 50
MAX_JOB_QUEUES = 50
MAX_SERVICE_ENVIRONMENTS = 50
MAX_CONSUMABLE_RESOURCES = 50_000
MAX_QUOTA_SHARES_PER_QUEUE = 20
MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE = 3
MAX_DESCRIBE_IDS = 100
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_JOB_DEFINITION_BYTES = 24 * 1024
MAX_SERVICE_REQUEST_PAYLOAD_BYTES = 10 * 1024
MIN_TIME_LIMIT_SECONDS = 600
MAX_TIME_LIMIT_SECONDS = 86_400
MAX_RETRY_ATTEMPTS = 10
MAX_EVALUATE_ON_EXIT = 5
MAX_PATTERN_LENGTH = 512
MAX_SCHEDULING_PRIORITY = 9999
MAX_NODES = 1000  # per multi-node job (reference §3, §11); also what the emulator will lay out
MAX_SHARE_DECAY_SECONDS = 604_800
MAX_COMPUTE_RESERVATION = 99
MIN_WEIGHT_FACTOR = 0.0001
MAX_WEIGHT_FACTOR = 999.9999
RESERVED_TAG_PREFIX = "aws:"
RESERVED_ENVIRONMENT_PREFIX = "AWS_BATCH"
KUBERNETES_QUANTITIES = {
    "cpu": numeric_text.kubernetes_cpu,
    "memory": numeric_text.kubernetes_memory_mib,
    "nvidia.com/gpu": numeric_text.kubernetes_count,
}

# VCPU -> allowed MEMORY values in MiB (reference §17.3).
FARGATE_SIZES: dict[float, frozenset[int]] = {
    0.25: frozenset({512, 1024, 2048}),
    0.5: frozenset({1024, 2048, 3072, 4096}),
    1.0: frozenset(range(2048, 8192 + 1, 1024)),
    2.0: frozenset(range(4096, 16384 + 1, 1024)),
    4.0: frozenset(range(8192, 30720 + 1, 1024)),
    8.0: frozenset(range(16384, 61440 + 1, 4096)),
    16.0: frozenset(range(32768, 122880 + 1, 8192)),
}


def check_name(label: str, name: str, pattern: re.Pattern[str] = RESOURCE_NAME) -> None:
    if not pattern.match(name):
        raise errors.name_pattern(label)


def check_tags(tags: Mapping[str, str] | None) -> None:
    """Tags given by a user: at most 50, keys 1-128 and values 0-256 characters, and no key in the
    reserved `aws:` namespace (any case)."""
    if not tags:
        return
    if len(tags) > MAX_TAGS:
        raise errors.invalid(f"Number of tags must not exceed {MAX_TAGS}")
    for key, value in tags.items():
        check_tag_key(key)
        if len(value) > MAX_TAG_VALUE:
            raise errors.invalid(f"Tag value must be at most {MAX_TAG_VALUE} characters")


def check_tag_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_TAG_KEY:
        raise errors.invalid(f"Tag key must be between 1 and {MAX_TAG_KEY} characters")
    if key.lower().startswith(RESERVED_TAG_PREFIX):
        raise errors.invalid("Tag keys starting with 'aws:' are reserved for AWS use")


def check_range(member: str, value: float | None, low: float, high: float | None = None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise errors.invalid(f"{member} must be {bound}")


def check_describe_ids(label: str, ids: list[str] | None) -> None:
    if ids is not None and len(ids) > MAX_DESCRIBE_IDS:
        raise errors.too_many_ids(label)


def check_environment(environment: list[dict[str, Any]] | None) -> None:
    for variable in environment or ():
        if str(variable.get("name", "")).startswith(RESERVED_ENVIRONMENT_PREFIX):
            # Unverified wording (reference §5.3).
            raise errors.invalid(
                f"Environment variable {variable['name']} is invalid: names starting with "
                f"{RESERVED_ENVIRONMENT_PREFIX} are reserved"
            )
    check_simulation_variables(environment)


def check_simulation_variables(environment: list[dict[str, Any]] | None) -> None:
    """The emulator's own `BATCH_EMULATOR_EXIT_CODE` and `BATCH_EMULATOR_DURATION_MS` (read by
    the simulated executor, whatever executor runs the job) must be numbers in their range:
    refused by the request that sets them, naming the variable."""
    values = {str(v.get("name")): str(v.get("value", "")) for v in environment or () if "name" in v}
    try:
        read_outcome_environment(values)
    except ValueError as error:
        raise errors.invalid(f"Environment variable {error}") from None


def check_retry_strategy(strategy: Mapping[str, Any] | None, *, service_job: bool = False) -> None:
    """Reference §12.2. The protocol layer already checks `action` against RETRY/EXIT (for jobs in any
    letter case)."""
    if strategy is None:
        return
    attempts = strategy.get("attempts")
    if attempts is None:
        raise errors.invalid("RetryAttempts must be provided with retry strategy")
    if not 1 <= attempts <= MAX_RETRY_ATTEMPTS:
        raise errors.invalid(f"Retry attempts should be between 1 and {MAX_RETRY_ATTEMPTS}")
    rules = strategy.get("evaluateOnExit") or []
    if len(rules) > MAX_EVALUATE_ON_EXIT:
        raise errors.invalid(f"Maximum {MAX_EVALUATE_ON_EXIT} evaluateOnExit conditions are allowed")
    for rule in rules:
        _check_exit_rule(rule, service_job)


def _check_exit_rule(rule: Mapping[str, Any], service_job: bool) -> None:
    if service_job and rule.get("action") is None:
        raise errors.invalid("action is required in evaluateOnExit")
    for member in ("onExitCode", "onReason", "onStatusReason"):
        pattern = rule.get(member)
        if pattern is not None and len(pattern) > MAX_PATTERN_LENGTH:
            raise errors.invalid(f"{member} must be at most {MAX_PATTERN_LENGTH} characters")
    exit_code = rule.get("onExitCode")
    if exit_code is not None and not EXIT_CODE_PATTERN.match(exit_code):
        raise errors.invalid("onExitCode should match valid pattern")


def check_share_identifier(identifier: str) -> None:
    if not SHARE_IDENTIFIER.match(identifier):
        raise errors.invalid("shareIdentifier should match valid pattern")


def check_legacy_figures(container: Mapping[str, Any]) -> None:
    """The deprecated `vcpus` and `memory` members, where given: at least 1 vCPU and 4 MiB, as
    for resourceRequirements on EC2 (reference §17.2). A negative figure would otherwise give
    capacity back every time a job is placed."""
    check_range("vcpus", container.get("vcpus"), 1)
    check_range("memory", container.get("memory"), 4)


def read_requirement(kind: str, value: str) -> float:
    """A `resourceRequirements` value, read strictly (numeric_text.resource_requirement) by
    RegisterJobDefinition and for SubmitJob's overrides: a value no container could have is
    refused by the request that sends it, never stored to break a later one."""
    try:
        return numeric_text.resource_requirement(kind, value)
    except numeric_text.NumericTextError:
        raise errors.invalid(f"Invalid {kind} value in resourceRequirements: {value}") from None


def read_kubernetes_quantity(name: str, value: str) -> float:
    """An EKS container's `resources` quantity (`cpu`, `memory`, `nvidia.com/gpu`), read as
    `read_requirement` reads; quantities of other names are not read (0)."""
    reader = KUBERNETES_QUANTITIES.get(name)
    if reader is None:
        return 0
    try:
        return reader(value)
    except numeric_text.NumericTextError:
        raise errors.invalid(f"Invalid {name} value in resources: {value}") from None


def read_epoch_ms(filter_name: str, value: str) -> int:
    """A BEFORE_CREATED_AT / AFTER_CREATED_AT filter value (reference §8): epoch milliseconds."""
    try:
        return numeric_text.epoch_ms(value)
    except numeric_text.NumericTextError:
        raise errors.invalid(f"{filter_name} must be a timestamp in epoch milliseconds") from None


def fargate_size_is_valid(vcpus: float, memory_mib: int) -> bool:
    return memory_mib in FARGATE_SIZES.get(vcpus, frozenset())


def json_size_bytes(document: Any) -> int:
    return len(json.dumps(document, separators=(",", ":")).encode())


def name_matches(pattern: str, name: str) -> bool:
    """List filters on names: case-insensitive; a trailing `*` matches by prefix (reference §5.6)."""
    pattern, name = pattern.lower(), name.lower()
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern
