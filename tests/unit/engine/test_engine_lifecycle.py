"""A job's way through the lifecycle, driven pass by pass on a ManualClock."""

from __future__ import annotations

from engine_kit import REGION, make_world

from emulator.engine.engine import JobNotFoundError
from emulator.engine.records import JobStatus
from emulator.executors.simulated import Outcome

S = JobStatus


def statuses(job):
    return [status for status, _ in job.transitions]


def test_job_without_dependencies_visits_every_state_to_success(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "5000"})
    assert job.status is S.SUBMITTED
    world.passes()
    assert world.status(job.job_id) is S.STARTING
    world.passes()
    assert world.status(job.job_id) is S.RUNNING
    world.advance(5000)
    done = world.job(job.job_id)
    assert done.status is S.SUCCEEDED
    assert statuses(done) == [S.SUBMITTED, S.RUNNABLE, S.STARTING, S.RUNNING, S.SUCCEEDED]
    assert done.status_reason == "Essential container in task exited"


def test_zero_duration_job_succeeds_in_two_passes(world):
    job = world.submit()
    world.passes(2)
    assert world.status(job.job_id) is S.SUCCEEDED


def test_timestamps_and_attempt_follow_the_reference(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.clock.advance(10)
    world.passes()
    starting = world.job(job.job_id)
    assert starting.started_at_ms is None and starting.attempts == ()
    assert starting.current_attempt.started_at_ms is None
    assert starting.current_attempt.log_stream_name is None
    world.clock.advance(10)
    world.passes()
    running = world.job(job.job_id)
    task_id = running.current_attempt.task_id
    assert len(task_id) == 32 and int(task_id, 16) >= 0
    assert running.started_at_ms == 1_000_020 == running.current_attempt.started_at_ms
    assert running.current_attempt.log_stream_name == f"jd/default/{task_id}"
    assert running.stopped_at_ms is None
    world.advance(1000)
    done = world.job(job.job_id)
    assert done.current_attempt is None
    assert done.stopped_at_ms == 1_001_020
    (attempt,) = done.attempts
    assert attempt.number == 1 and attempt.exit_code == 0
    assert (attempt.started_at_ms, attempt.stopped_at_ms) == (1_000_020, 1_001_020)
    assert attempt.status_reason == "Essential container in task exited"
    assert done.created_at_ms == 1_000_000


def test_nonzero_exit_fails_with_essential_container_reason(world):
    job = world.submit(env={"BATCH_EMULATOR_EXIT_CODE": "3"})
    world.passes(2)
    done = world.job(job.job_id)
    assert done.status is S.FAILED
    assert done.status_reason == "Essential container in task exited"
    assert done.attempts[-1].exit_code == 3


def test_failed_to_start_has_no_exit_code_and_no_started_at(world):
    job = world.submit(env={"BATCH_EMULATOR_FAIL_TO_START": "CannotPullContainerError: nope"})
    world.passes(2)
    done = world.job(job.job_id)
    assert done.status is S.FAILED
    assert done.status_reason == "Task failed to start"
    assert statuses(done) == [S.SUBMITTED, S.RUNNABLE, S.STARTING, S.FAILED]
    (attempt,) = done.attempts
    assert attempt.reason == "CannotPullContainerError: nope"
    assert attempt.status_reason == "Task failed to start"
    assert attempt.exit_code is None and attempt.started_at_ms is None
    assert done.started_at_ms is None and done.stopped_at_ms is not None


def test_output_lines_go_to_the_log_stream(world):
    job = world.submit(env={"BATCH_EMULATOR_OUTPUT": "one\ntwo"})
    world.passes(2)
    stream = world.job(job.job_id).attempts[0].log_stream_name
    assert world.logs.streams[("123456789012", REGION, "/aws/batch/job", stream)] == [
        (1_000_000, "one"),
        (1_000_000, "two"),
    ]


def test_scripted_outcome_wins_over_environment(world):
    world.executor.script("scripted", Outcome(exit_code=7))
    job = world.submit("scripted", env={"BATCH_EMULATOR_EXIT_CODE": "0"})
    world.passes(2)
    assert world.job(job.job_id).attempts[0].exit_code == 7


def test_host_termination_fault_has_no_exit_code(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    world.passes(2)
    world.engine.simulate_host_termination(job.job_id)
    world.passes()  # the engine asks the executor to stop the attempt
    assert world.status(job.job_id) is S.RUNNING
    world.passes()  # the executor reports it gone
    done = world.job(job.job_id)
    assert done.status is S.FAILED
    task_id = done.attempts[0].task_id
    assert done.status_reason == f"Host EC2 (instance i-{task_id[:17]}) terminated."
    assert done.attempts[0].exit_code is None


def test_fail_attempt_fault_reports_exit_code_and_reason(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    world.passes(2)
    world.engine.fail_attempt(job.job_id, "OutOfMemoryError: Container killed due to memory usage", 137)
    world.passes(2)
    done = world.job(job.job_id)
    assert done.status is S.FAILED
    assert done.status_reason == "Essential container in task exited"
    assert (done.attempts[0].exit_code, done.attempts[0].reason) == (
        137,
        "OutOfMemoryError: Container killed due to memory usage",
    )


def test_running_a_pass_twice_changes_nothing(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "1000"})
    world.passes(2)
    before = world.job(job.job_id)
    world.passes(3)
    assert world.job(job.job_id) == before


def test_unknown_job_ids_raise_for_commands(world):
    for command in (world.engine.request_cancel, world.engine.request_terminate):
        try:
            command("nope", "reason")
        except JobNotFoundError:
            continue
        raise AssertionError("expected JobNotFoundError")


def test_jobs_in_unknown_queue_wait_until_the_queue_appears():
    world = make_world(topology=False)
    job = world.submit()
    world.passes(3)
    assert world.status(job.job_id) is S.RUNNABLE
    from engine_kit import compute_environment, job_queue

    world.engine.put_compute_environment(compute_environment())
    world.engine.put_queue(job_queue())
    world.passes(2)
    assert world.status(job.job_id) is S.SUCCEEDED


def test_list_jobs_newest_first_and_by_status(world):
    first = world.submit("a")
    world.clock.advance(1)
    second = world.submit("b")
    listed = world.engine.list_jobs(queue_arn=first.queue_arn)
    assert [job.job_id for job in listed] == [second.job_id, first.job_id]
    assert world.engine.list_jobs(queue_arn=first.queue_arn, status=S.RUNNING) == []
    world.passes(1)
    assert len(world.engine.list_jobs(queue_arn=first.queue_arn, status=S.STARTING)) == 2


def test_get_jobs_keeps_order_and_skips_unknown(world):
    a = world.submit("a")
    b = world.submit("b")
    found = world.engine.get_jobs([b.job_id, "missing", a.job_id])
    assert [job.job_id for job in found] == [b.job_id, a.job_id]


def test_reset_forgets_jobs_and_stops_attempts(world):
    job = world.submit(env={"BATCH_EMULATOR_DURATION_MS": "60000"})
    world.passes(2)
    world.engine.reset()
    assert world.engine.get_job(job.job_id) is None
    world.passes()
    assert world.executor.running_attempt_ids() == []
