"""What an attempt gets from its account (engine/job_account.py): the values of its definition's
`secrets`, read when it starts, as environment variables, and credentials naming its account;
an unreadable secret fails the attempt before anything runs, as a failed image pull does."""

from __future__ import annotations

from dataclasses import replace

from engine_kit import make_world, submission

from emulator.engine.engine import TASK_FAILED_TO_START
from emulator.engine.job_account import SecretUnavailableError
from emulator.engine.records import JobStatus, MultiNode, NodeSpec, RetryPolicy, TaskContainer, TaskSpec

MISSING = (
    "ResourceInitializationError: unable to pull secrets or registry auth: ... invalid parameters: /gone"
)


class Account:
    """A stand-in for the account's parameter store: what was asked, and what it holds."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[tuple[str, str, tuple[str, ...]]] = []

    def resolve(self, account_id: str, region: str, references: tuple[str, ...]) -> dict[str, str]:
        self.asked.append((account_id, region, references))
        missing = [reference for reference in references if reference not in self.values]
        if missing:
            raise SecretUnavailableError(MISSING)
        return {reference: self.values[reference] for reference in references}


def submit_with_secrets(world, secrets: tuple[tuple[str, str], ...], **changes):
    sub = submission("with-secrets", env={"PLAIN": "1"})
    return world.engine.submit(replace(sub, container=replace(sub.container, secrets=secrets), **changes))


def started_request(world, job_id: str, attempt: int = 1):
    return world.executor._runs[f"{job_id}/{attempt}"].request


def test_secrets_become_environment_variables_when_the_attempt_starts():
    account = Account({"/db/password": "s3cr3t", "arn:aws:secretsmanager:x": "token"})
    world = make_world(resolve_secrets=account.resolve)
    job = submit_with_secrets(
        world, (("DB_PASSWORD", "/db/password"), ("API_TOKEN", "arn:aws:secretsmanager:x"))
    )
    assert account.asked == []  # nothing is read at submission

    world.passes(1)

    environment = started_request(world, job.job_id).environment
    assert (environment["DB_PASSWORD"], environment["API_TOKEN"], environment["PLAIN"]) == (
        "s3cr3t",
        "token",
        "1",
    )
    assert account.asked == [("123456789012", "us-east-1", ("/db/password", "arn:aws:secretsmanager:x"))]


def test_the_job_record_keeps_references_never_values():
    world = make_world(resolve_secrets=Account({"/db/password": "s3cr3t"}).resolve)
    job = submit_with_secrets(world, (("DB_PASSWORD", "/db/password"),))
    world.passes(2)

    done = world.job(job.job_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.container.secrets == (("DB_PASSWORD", "/db/password"),)
    assert "s3cr3t" not in repr(done)


def test_a_missing_secret_fails_the_attempt_before_it_runs():
    world = make_world(resolve_secrets=Account({}).resolve)
    job = submit_with_secrets(world, (("DB_PASSWORD", "/gone"),))
    world.passes(1)

    done = world.job(job.job_id)
    assert done.status is JobStatus.FAILED
    assert done.status_reason == TASK_FAILED_TO_START
    (attempt,) = done.attempts
    assert attempt.reason == MISSING
    assert attempt.exit_code is None and attempt.started_at_ms is None
    assert world.executor._runs == {}  # nothing was started
    assert [status for status, _ in done.transitions][-2:] == [JobStatus.STARTING, JobStatus.FAILED]


def test_a_missing_secret_is_retried_and_read_again_by_the_next_attempt():
    account = Account({})
    world = make_world(resolve_secrets=account.resolve)
    job = submit_with_secrets(world, (("DB_PASSWORD", "/gone"),), retry=RetryPolicy(attempts=2))
    world.passes(1)
    assert world.status(job.job_id) is JobStatus.RUNNABLE

    account.values["/gone"] = "created meanwhile"
    world.passes(1)

    assert started_request(world, job.job_id, attempt=2).environment["DB_PASSWORD"] == "created meanwhile"
    world.passes(1)
    assert world.status(job.job_id) is JobStatus.SUCCEEDED
    assert len(account.asked) == 2


def test_every_container_of_a_task_gets_its_own_secrets_from_one_read():
    account = Account({"/a": "for-app", "/b": "for-sidecar"})
    world = make_world(resolve_secrets=account.resolve)
    sub = submission("task")
    app = replace(sub.container, secrets=(("APP_SECRET", "/a"),), vcpus=0.0)
    sidecar = replace(sub.container, secrets=(("SIDE_SECRET", "/b"), ("SHARED", "/a")), vcpus=0.0)
    task = TaskSpec("ecs", (TaskContainer("app", app), TaskContainer("sidecar", sidecar)))
    job = world.engine.submit(replace(sub, task=task))
    world.passes(1)

    members = {
        member.name: member.request.environment for member in started_request(world, job.job_id).containers
    }
    assert members["app"]["APP_SECRET"] == "for-app" and "SIDE_SECRET" not in members["app"]
    assert (members["sidecar"]["SIDE_SECRET"], members["sidecar"]["SHARED"]) == ("for-sidecar", "for-app")
    assert account.asked == [("123456789012", "us-east-1", ("/a", "/b"))]


def test_jobs_get_the_credentials_of_their_account():
    world = make_world(job_credentials=lambda account_id: (account_id, f"secret-of-{account_id}"))
    job = world.engine.submit(replace(submission("other-account"), account_id="111122223333"))
    world.passes(1)

    environment = started_request(world, job.job_id).environment
    assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == (
        "111122223333",
        "secret-of-111122223333",
    )


def test_credentials_the_job_sets_itself_win():
    world = make_world(job_credentials=lambda account_id: (account_id, "x"))
    job = world.submit(env={"AWS_ACCESS_KEY_ID": "mine", "AWS_SECRET_ACCESS_KEY": "mine too"})
    world.passes(1)

    environment = started_request(world, job.job_id).environment
    assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == ("mine", "mine too")


def test_a_multi_node_job_whose_main_node_cannot_read_its_secret_fails_with_the_reason():
    world = make_world(resolve_secrets=Account({}).resolve)
    sub = submission("mnp")
    node = NodeSpec(
        replace(sub.container, secrets=(("TOKEN", "/gone"),)), {"container": {"image": "busybox"}}
    )
    totals = replace(sub.container, vcpus=2.0)
    job = world.engine.submit(replace(sub, container=totals, multinode=MultiNode(2, 0, (node, node))))
    world.passes(2)

    parent = world.job(job.job_id)
    assert parent.status is JobStatus.FAILED
    assert parent.attempts[-1].reason == MISSING
    assert [world.status(f"{job.job_id}#{n}") for n in range(2)] == [JobStatus.FAILED, JobStatus.FAILED]
    assert world.executor._runs == {}
