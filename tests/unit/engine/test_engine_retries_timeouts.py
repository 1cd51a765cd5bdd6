"""Retries (§12), timeouts (§13), cancel vs terminate (§7), the execution request (§14.3)."""

from __future__ import annotations

import pytest
from engine_kit import make_world

from emulator.engine.records import ExitRule, JobStatus, RetryPolicy
from emulator.executors.simulated import Outcome

S = JobStatus
LONG = {"BATCH_EMULATOR_DURATION_MS": "100000"}


def statuses(job):
    return [status for status, _ in job.transitions]


# ---- retries ----


def test_failed_attempt_is_retried_and_second_attempt_succeeds(world):
    world.executor.script("flaky", Outcome(exit_code=1), Outcome(exit_code=0))
    job = world.submit("flaky", retry=RetryPolicy(attempts=2))
    world.passes(2)
    retried = world.job(job.job_id)
    assert retried.status is S.STARTING  # back to RUNNABLE, then placed again in the same pass
    assert retried.current_attempt.number == 2
    world.passes()
    done = world.job(job.job_id)
    assert done.status is S.SUCCEEDED
    assert [a.exit_code for a in done.attempts] == [1, 0]
    assert [a.number for a in done.attempts] == [1, 2]
    assert done.attempts[0].task_id != done.attempts[1].task_id
    assert statuses(done) == [
        S.SUBMITTED, S.RUNNABLE, S.STARTING, S.RUNNING, S.RUNNABLE, S.STARTING, S.RUNNING, S.SUCCEEDED,
    ]  # fmt: skip


def test_attempt_number_is_in_the_environment(world):
    world.executor.script("flaky", Outcome(exit_code=1), Outcome(duration_ms=1000))
    job = world.submit("flaky", retry=RetryPolicy(attempts=3))
    world.passes(1)
    assert world.executor._runs[f"{job.job_id}/1"].request.environment["AWS_BATCH_JOB_ATTEMPT"] == "1"
    world.passes(1)
    assert world.executor._runs[f"{job.job_id}/2"].request.environment["AWS_BATCH_JOB_ATTEMPT"] == "2"


def test_attempts_run_out(world):
    job = world.submit(env={"BATCH_EMULATOR_EXIT_CODE": "1"}, retry=RetryPolicy(attempts=3))
    world.passes(10)
    done = world.job(job.job_id)
    assert done.status is S.FAILED and len(done.attempts) == 3
    assert done.status_reason == "Essential container in task exited"


@pytest.mark.parametrize(
    ("rules", "attempts_made"),
    [
        ((ExitRule("EXIT", on_exit_code="1"),), 1),
        ((ExitRule("EXIT", on_exit_code="2"),), 3),
        ((ExitRule("RETRY", on_exit_code="1"), ExitRule("EXIT", on_reason="*")), 3),
        ((ExitRule("RETRY", on_exit_code="9*"), ExitRule("EXIT", on_reason="*")), 1),
        ((ExitRule("EXIT", on_status_reason="Essential*"),), 1),
    ],
    ids=[
        "exit-on-code",
        "unmatched-retries",
        "retry-then-catch-all",
        "catch-all-exit",
        "exit-on-status-reason",
    ],
)
def test_evaluate_on_exit_through_the_engine(world, rules, attempts_made):
    job = world.submit(env={"BATCH_EMULATOR_EXIT_CODE": "1"}, retry=RetryPolicy(attempts=3, rules=rules))
    world.passes(10)
    assert len(world.job(job.job_id).attempts) == attempts_made


def test_task_failed_to_start_is_retried_with_on_status_reason(world):
    world.executor.script("pull", Outcome(fail_to_start_reason="CannotPullContainerError: x"), Outcome())
    rules = (ExitRule("RETRY", on_status_reason="Task failed to start"), ExitRule("EXIT", on_reason="*"))
    job = world.submit("pull", retry=RetryPolicy(attempts=2, rules=rules))
    world.passes(4)
    done = world.job(job.job_id)
    assert done.status is S.SUCCEEDED
    assert done.attempts[0].status_reason == "Task failed to start"


def test_host_termination_is_retried_when_attempts_remain(world):
    job = world.submit(env=LONG, retry=RetryPolicy(attempts=2))
    world.passes(2)
    world.engine.simulate_host_termination(job.job_id)
    world.passes(2)
    retried = world.job(job.job_id)
    assert retried.status is S.STARTING and retried.current_attempt.number == 2
    assert retried.attempts[0].status_reason.startswith("Host EC2 (instance i-")


# ---- timeouts ----


def test_timeout_stops_the_attempt_and_fails_without_retry(world):
    job = world.submit(env=LONG, timeout_seconds=60, retry=RetryPolicy(attempts=3))
    world.passes(2)
    assert world.engine.next_wakeup_ms() == 1_000_000 + 60_000
    world.clock.advance(59_999)
    world.passes()
    assert world.status(job.job_id) is S.RUNNING
    world.advance(1)  # deadline: the engine asks the executor to stop the container
    assert world.status(job.job_id) is S.RUNNING
    world.passes()  # the executor reports it stopped
    done = world.job(job.job_id)
    assert done.status is S.FAILED
    assert done.status_reason == "Job attempt duration exceeded timeout"
    assert len(done.attempts) == 1 and done.attempts[0].exit_code == 143
    assert world.executor.running_attempt_ids() == []


def test_timeout_counts_per_attempt_from_running(world):
    world.executor.script("t", Outcome(exit_code=1, duration_ms=50_000), Outcome(duration_ms=50_000))
    job = world.submit("t", timeout_seconds=60, retry=RetryPolicy(attempts=2))
    world.passes(2)
    world.advance(50_000)  # attempt 1 fails at 50 s and is retried
    world.passes()
    world.advance(50_000)  # attempt 2 finishes 50 s after it started: no timeout
    assert world.status(job.job_id) is S.SUCCEEDED


# ---- cancel vs terminate, in each state ----


def job_in(world, status):
    """A job brought to `status` (SUBMITTED, PENDING, RUNNABLE, STARTING or RUNNING)."""
    from emulator.engine.records import Dependency

    if status is S.PENDING:
        blocker = world.submit("blocker", env=LONG)
        job = world.submit("dependant", depends_on=(Dependency(blocker.job_id),))
        world.passes(1)
    elif status is S.RUNNABLE:
        job = world.submit("big", vcpus=64)
        world.passes(1)
    else:
        job = world.submit(env=LONG)
        world.passes({S.SUBMITTED: 0, S.STARTING: 1, S.RUNNING: 2}[status])
    assert world.status(job.job_id) is status
    return job


@pytest.mark.parametrize("status", [S.SUBMITTED, S.PENDING, S.RUNNABLE], ids=str)
@pytest.mark.parametrize("command", ["cancel", "terminate"])
def test_cancel_and_terminate_fail_waiting_jobs_at_once(status, command):
    world = make_world()
    job = job_in(world, status)
    getattr(world.engine, f"request_{command}")(job.job_id, "Job killed by NF")
    world.passes()
    done = world.job(job.job_id)
    assert done.status is S.FAILED and done.status_reason == "Job killed by NF"
    assert (done.is_cancelled, done.is_terminated) == (command == "cancel", command == "terminate")
    assert done.stopped_at_ms is not None and done.attempts == ()


@pytest.mark.parametrize("status", [S.STARTING, S.RUNNING], ids=str)
def test_cancel_leaves_starting_and_running_jobs_alone(status):
    world = make_world()
    job = job_in(world, status)
    world.engine.request_cancel(job.job_id, "please stop")
    world.passes()
    after = world.job(job.job_id)
    assert after.status is S.RUNNING and not after.is_cancelled


@pytest.mark.parametrize("status", [S.STARTING, S.RUNNING], ids=str)
def test_terminate_stops_starting_and_running_jobs(status):
    world = make_world()
    job = job_in(world, status)
    world.engine.request_terminate(job.job_id, "stop it")
    world.passes(2)
    done = world.job(job.job_id)
    assert done.status is S.FAILED and done.is_terminated and done.status_reason == "stop it"
    (attempt,) = done.attempts
    assert attempt.status_reason == "stop it"
    assert world.executor.running_attempt_ids() == []


def test_terminate_is_never_retried(world):
    job = world.submit(env=LONG, retry=RetryPolicy(attempts=5))
    world.passes(2)
    world.engine.request_terminate(job.job_id, "stop")
    world.passes(3)
    assert world.status(job.job_id) is S.FAILED


@pytest.mark.parametrize("command", ["cancel", "terminate"])
def test_commands_on_finished_jobs_change_nothing(world, command):
    job = world.submit()
    world.passes(2)
    before = world.job(job.job_id)
    getattr(world.engine, f"request_{command}")(job.job_id, "late")
    world.passes()
    assert world.job(job.job_id) == before


# ---- the execution request ----


def test_execution_request_environment_and_labels(world):
    job = world.submit(env={"MINE": "1", "AWS_REGION": "eu-west-1", **LONG})
    world.passes(1)
    request = world.executor._runs[f"{job.job_id}/1"].request
    env = request.environment
    assert env["MINE"] == "1"
    assert env["AWS_BATCH_JOB_ID"] == job.job_id
    assert env["AWS_BATCH_JOB_ATTEMPT"] == "1"
    assert env["AWS_BATCH_JQ_NAME"] == "queue"
    assert env["AWS_BATCH_CE_NAME"] == "ce"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:8734"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("test", "test")
    assert env["AWS_REGION"] == "eu-west-1"  # the user's value wins
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_BATCH_JOB_ARRAY_INDEX" not in env
    assert request.attempt_id == f"{job.job_id}/1"
    assert request.labels["batch-emulator.job-id"] == job.job_id
    assert request.labels["batch-emulator.attempt"] == "1"
    assert request.image == "busybox" and request.command == ("echo", "hi")
    task_id = world.job(job.job_id).current_attempt.task_id
    assert (request.log.group, request.log.stream) == ("/aws/batch/job", f"jd/default/{task_id}")
    assert (request.log.account_id, request.log.region) == ("123456789012", "us-east-1")


def test_no_endpoint_url_means_no_aws_endpoint_variable():
    from emulator.engine.engine import execution_environment

    world = make_world()
    job = world.submit()
    assert "AWS_ENDPOINT_URL" not in execution_environment(job, 1, "ce", "")
