"""The background loop and the layering rule. These are the only engine tests that use a thread:
the loop is what they test. Waiting is a poll with a deadline, never a bare sleep."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from engine_kit import compute_environment, job_queue, submission

from emulator.engine.clock import ControllableClock, ManualClock, SystemClock
from emulator.engine.engine import Engine
from emulator.engine.pass_loop import PassLoop
from emulator.engine.records import JobStatus
from emulator.executors.simulated import SimulatedExecutor


def wait_for(predicate, timeout_s: float = 5.0) -> bool:
    """Poll `predicate` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        if predicate():
            return True
        pause.wait(0.01)
    return predicate()


def build(clock):
    engine = Engine(clock=clock, executor=SimulatedExecutor(clock), max_running=4)
    engine.put_compute_environment(compute_environment())
    engine.put_queue(job_queue())
    return engine


def test_loop_runs_jobs_to_the_end_and_honours_durations():
    engine = build(SystemClock())
    engine.start()
    try:
        job = engine.submit(submission(env={"BATCH_EMULATOR_DURATION_MS": "200"}))
        assert wait_for(lambda: engine.get_job(job.job_id).status is JobStatus.SUCCEEDED)
        done = engine.get_job(job.job_id)
        assert done.stopped_at_ms - done.started_at_ms >= 200
    finally:
        engine.close()


def test_controllable_clock_jump_wakes_the_loop():
    clock = ControllableClock()
    engine = build(clock)
    engine.start()
    try:
        job = engine.submit(submission(env={"BATCH_EMULATOR_DURATION_MS": "3600000"}))
        assert wait_for(lambda: engine.get_job(job.job_id).status is JobStatus.RUNNING)
        clock.advance(3_600_000)
        assert wait_for(lambda: engine.get_job(job.job_id).status is JobStatus.SUCCEEDED, timeout_s=2)
    finally:
        engine.close()


def test_close_joins_the_loop_and_start_is_idempotent():
    engine = build(ManualClock())
    before = set(threading.enumerate())
    engine.start()
    engine.start()
    # Other tests' servers may start threads of their own meanwhile; only the engine's loop counts.
    (loop,) = [t for t in set(threading.enumerate()) - before if t.name == "batch-engine"]
    engine.close()
    assert not loop.is_alive()


def test_wakes_during_a_pass_are_coalesced_into_one_more_pass():
    passes = []
    first_pass_may_end = threading.Event()

    def run_pass():
        passes.append(len(passes) + 1)
        if len(passes) == 1:
            first_pass_may_end.wait(5)

    loop = PassLoop(
        thread_name="test-pass-loop", run_pass=run_pass, wait_seconds=lambda: None, failure_message="failed"
    )
    loop.start()
    try:
        loop.wake()
        assert wait_for(lambda: passes == [1])
        loop.wake()
        loop.wake()
        first_pass_may_end.set()
        assert wait_for(lambda: passes == [1, 2])
    finally:
        loop.close()
    assert passes == [1, 2]


def test_a_failing_wait_computation_does_not_end_the_loop():
    passes = []
    answers = iter([RuntimeError("executor could not say"), 0.0])

    def wait_seconds():
        answer = next(answers, None)
        if isinstance(answer, Exception):
            raise answer
        return answer

    loop = PassLoop(
        thread_name="test-pass-loop",
        run_pass=lambda: passes.append(len(passes) + 1),
        wait_seconds=wait_seconds,
        failure_message="failed",
    )
    loop.start()
    try:
        loop.wake()
        assert wait_for(lambda: len(passes) >= 2)  # still passing after the failure
    finally:
        loop.close()


def test_controllable_clock_only_moves_forward():
    clock = ControllableClock(ManualClock(1000))
    assert clock.advance(500) == 1500
    assert clock.advance(-100) == 1500


def test_engine_imports_neither_flask_nor_botocore():
    code = (
        "import sys, emulator.engine.engine, emulator.engine.scheduling, emulator.engine.dependencies, "
        "emulator.executors.simulated\n"
        "bad = [m for m in ('flask', 'botocore', 'boto3') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
