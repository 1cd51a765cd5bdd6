"""What a job's containers get from the account they run in: credentials to call the emulator back
with, and the values of their definition's `secrets`, read when an attempt starts.

The engine knows neither how an access key names an account (nor which keys --auth accepts) nor
where SSM parameters and Secrets Manager secrets live: app.py injects both as callables built in
emulator/account/. Secret values go into the container's environment and nowhere else: the job's
records keep the `valueFrom` references (what DescribeJobs shows, as on AWS) and no log line
names a value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from emulator.engine.records import EMPTY_MAPPING, ContainerSpec, Job

# (account id) -> (access key id, secret access key) the job's SDK calls the emulator back with.
JobCredentials = Callable[[str], tuple[str, str]]
# (account id, region, valueFrom references) -> {valueFrom: value}; raises SecretUnavailableError.
SecretResolver = Callable[[str, str, tuple[str, ...]], Mapping[str, str]]

DUMMY_CREDENTIALS = ("test", "test")


@dataclass(frozen=True, slots=True)
class JobAccess:
    """One attempt's link to its account: the credentials its SDK calls back with, and
    {valueFrom: value} for its containers' secrets."""

    credentials: tuple[str, str] = DUMMY_CREDENTIALS
    secrets: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)


class SecretUnavailableError(Exception):
    """A secret could not be read; `reason` is the container reason the attempt fails with, in
    the words the ECS agent uses (`ResourceInitializationError: unable to pull secrets ...`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def dummy_credentials(account_id: str) -> tuple[str, str]:
    """Without an account link (engine unit tests): the SDK's usual placeholders."""
    return DUMMY_CREDENTIALS


def container_specs(job: Job) -> Iterable[ContainerSpec]:
    """Every container an attempt of `job` runs: its task's containers, or its one container."""
    return (member.spec for member in job.task.containers) if job.task is not None else (job.container,)


def secret_references(job: Job) -> tuple[str, ...]:
    """The distinct `valueFrom` references of the job's containers, in order of first use."""
    references = (value_from for spec in container_specs(job) for _, value_from in spec.secrets)
    return tuple(dict.fromkeys(references))


def read_secrets(job: Job, resolve: SecretResolver | None) -> Mapping[str, str]:
    """{valueFrom: value} for every secret the job's containers name, read in one call (the ECS
    agent fetches a task's secrets together); {} when it names none. Raises
    SecretUnavailableError, or for a job with secrets and no resolver, says that none is wired."""
    references = secret_references(job)
    if not references:
        return {}
    if resolve is None:
        raise SecretUnavailableError(
            "ResourceInitializationError: unable to pull secrets or registry auth: "
            "this emulator was built without an account to read secrets from"
        )
    return resolve(job.account_id, job.region, references)


def secret_environment(spec: ContainerSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The container's secrets as environment variables, by the names the definition gives."""
    return {name: values[value_from] for name, value_from in spec.secrets}
