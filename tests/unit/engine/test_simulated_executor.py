"""The simulated executor on its own: outcomes from scripts and environment, timing on the clock."""

from __future__ import annotations

from engine_kit import RecordingLogStore

from emulator.engine.clock import ManualClock
from emulator.executors.base import ExecutionRequest, ExecutionUpdate, LogTarget, UpdateKind
from emulator.executors.simulated import Outcome, SimulatedExecutor


def request(job_id="j", attempt=1, env=None, name="name", definition="jd-arn") -> ExecutionRequest:
    return ExecutionRequest(
        attempt_id=f"{job_id}/{attempt}",
        job_id=job_id,
        image="busybox",
        command=(),
        environment=env or {},
        vcpus=1,
        memory_mib=128,
        log=LogTarget("acct", "region", "group", f"stream-{job_id}-{attempt}"),
        labels={
            "batch-emulator.attempt": str(attempt),
            "batch-emulator.job-name": name,
            "batch-emulator.job-definition": definition,
        },
    )


def make():
    clock = ManualClock(0)
    logs = RecordingLogStore()
    return clock, logs, SimulatedExecutor(clock, log_store=logs)


def test_running_on_first_poll_then_exit_after_duration():
    clock, _, executor = make()
    executor.start(request(env={"BATCH_EMULATOR_DURATION_MS": "100", "BATCH_EMULATOR_EXIT_CODE": "4"}))
    assert executor.next_event_ms() == 0
    assert executor.poll() == [ExecutionUpdate("j/1", UpdateKind.RUNNING)]
    assert executor.next_event_ms() == 100
    clock.advance(99)
    assert executor.poll() == []
    clock.advance(1)
    assert executor.poll() == [ExecutionUpdate("j/1", UpdateKind.EXITED, exit_code=4)]
    assert executor.next_event_ms() is None


def test_fail_to_start_from_environment():
    _, _, executor = make()
    executor.start(request(env={"BATCH_EMULATOR_FAIL_TO_START": "CannotPullContainerError: x"}))
    assert executor.poll() == [
        ExecutionUpdate("j/1", UpdateKind.FAILED_TO_START, reason="CannotPullContainerError: x")
    ]


def test_bad_number_fails_to_start_saying_why():
    _, _, executor = make()
    executor.start(request(env={"BATCH_EMULATOR_EXIT_CODE": "abc"}))
    (update,) = executor.poll()
    assert update.kind is UpdateKind.FAILED_TO_START and "abc" in update.reason


def test_exit_code_no_sdk_can_read_fails_to_start_naming_the_variable():
    # SubmitJob refuses such an environment; one that reaches the executor all the same never
    # becomes an exitCode outside the model's 32-bit integer.
    _, _, executor = make()
    executor.start(request(env={"BATCH_EMULATOR_EXIT_CODE": "99999999999999999999"}))
    (update,) = executor.poll()
    assert (update.kind, update.exit_code) == (UpdateKind.FAILED_TO_START, None)
    assert update.reason == (
        "CannotStartContainerError: BATCH_EMULATOR_EXIT_CODE must be an integer from 0 to 255, "
        "not '99999999999999999999'"
    )


def test_stop_reports_exit_143_on_next_poll():
    _, _, executor = make()
    executor.start(request(env={"BATCH_EMULATOR_DURATION_MS": "100000"}))
    executor.poll()
    executor.stop("j/1", "timeout")
    assert executor.poll() == [ExecutionUpdate("j/1", UpdateKind.EXITED, exit_code=143)]
    assert executor.running_attempt_ids() == []


def test_stop_before_running_reports_failed_to_start():
    _, _, executor = make()
    executor.start(request())
    executor.stop("j/1", "terminated")
    (update,) = executor.poll()
    assert update.kind is UpdateKind.FAILED_TO_START


def test_scripts_by_attempt_job_parent_name_and_definition():
    _, _, executor = make()
    executor.script("j", Outcome(exit_code=1), Outcome(exit_code=2))
    executor.script("parent", Outcome(exit_code=3))
    executor.script("by-name", Outcome(exit_code=4))
    executor.script("by-def", Outcome(exit_code=5))
    executor.start(request("j", 1))
    executor.start(request("j", 2))
    executor.start(request("j", 3))  # the last outcome repeats
    executor.start(request("parent:7"))
    executor.start(request("other", name="by-name"))
    executor.start(request("another", definition="by-def"))
    exits = {u.attempt_id: u.exit_code for u in executor.poll() if u.kind is UpdateKind.EXITED}
    assert exits == {"j/1": 1, "j/2": 2, "j/3": 2, "parent:7/1": 3, "other/1": 4, "another/1": 5}


def test_output_written_to_log_store_when_running():
    clock, logs, executor = make()
    clock.advance(5)
    executor.start(request(env={"BATCH_EMULATOR_OUTPUT": "a\nb", "BATCH_EMULATOR_DURATION_MS": "10"}))
    executor.poll()
    assert logs.streams[("acct", "region", "group", "stream-j-1")] == [(5, "a"), (5, "b")]


def test_empty_stream_is_still_created():
    _, logs, executor = make()
    executor.start(request())
    executor.poll()
    assert logs.streams[("acct", "region", "group", "stream-j-1")] == []


def test_close_forgets_everything():
    _, _, executor = make()
    executor.start(request())
    executor.close()
    assert executor.poll() == [] and executor.next_event_ms() is None
