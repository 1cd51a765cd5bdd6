"""The service-job engine on a ManualClock, no threads: each test builds a topology, submits, runs
passes (a pass moves a job at most one step) and asserts on records."""

from __future__ import annotations

import pytest

from emulator.engine.clock import ManualClock
from emulator.engine.ids import SequentialIds
from emulator.engine.service_jobs import (
    ATTEMPT_TIMED_OUT,
    TRAINING_COMPLETED,
    DuplicateServiceJobError,
    ServiceJobEngine,
    ServiceJobFinishedError,
    ServiceOutcome,
)
from emulator.engine.service_records import (
    NUM_INSTANCES,
    IllegalServiceTransitionError,
    QuotaShare,
    ServiceEnvironment,
    ServiceExitRule,
    ServiceJobStatus,
    ServiceJobSubmission,
    ServiceQueue,
    ServiceRetryPolicy,
    ServiceTimeLimitAction,
    ServiceTopology,
    apply_transition,
)
from emulator.engine.service_scheduling import (
    INSUFFICIENT_INSTANCE_CAPACITY,
    QUOTA_MANAGEMENT_LIMIT_EXCEEDED,
    SERVICE_ENVIRONMENT_MAX_RESOURCE,
    pattern_matches,
    should_retry,
)

S = ServiceJobStatus
PREFIX = "arn:aws:batch:us-east-1:123456789012:"
ENV = PREFIX + "service-environment/se"
QUEUE = PREFIX + "job-queue/sq"


class World:
    def __init__(self, max_instances: int = 2) -> None:
        self.clock = ManualClock()
        self.topology = ServiceTopology(
            environments={ENV: ServiceEnvironment(ENV, True, ((NUM_INSTANCES, max_instances),))},
            queues={QUEUE: ServiceQueue(QUEUE, 1, ENV)},
        )
        self.engine = ServiceJobEngine(
            clock=self.clock,
            topology_source=lambda: self.topology,
            new_resource_suffix=SequentialIds("", width=32, hex=True),
        )
        self.ids = SequentialIds("job-")

    def submit(self, name: str = "train", queue: str = QUEUE, **fields) -> str:
        job_id = self.ids()
        self.engine.submit(
            ServiceJobSubmission(
                job_id=job_id,
                job_arn=PREFIX + f"service-job/{job_id}",
                job_name=name,
                queue_arn=queue,
                service_job_type="SAGEMAKER_TRAINING",
                service_request_payload="{}",
                **fields,
            )
        )
        return job_id

    def passes(self, count: int = 1) -> None:
        for _ in range(count):
            self.engine.run_pass()

    def settle(self, limit: int = 50) -> None:
        """Run passes until nothing is due now (the loop does the same)."""
        for _ in range(limit):
            due = self.engine.next_wakeup_ms()
            if due is None or due > self.clock.now_ms():
                return
            self.engine.run_pass()
        raise AssertionError("the engine never settled")

    def status(self, job_id: str) -> ServiceJobStatus:
        return self.engine.get_job(job_id).status

    def job(self, job_id: str):
        return self.engine.get_job(job_id)


@pytest.fixture
def world() -> World:
    return World()


def test_job_moves_one_step_per_pass_through_the_documented_lifecycle(world):
    job_id = world.submit()
    seen = [world.status(job_id)]
    for _ in range(5):
        world.passes()
        seen.append(world.status(job_id))
    assert seen == [S.SUBMITTED, S.RUNNABLE, S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED]
    job = world.job(job_id)
    assert [status for status, _ in job.transitions] == seen
    assert job.status_reason == TRAINING_COMPLETED
    [attempt] = job.attempts
    assert attempt.training_job_arn == (
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/AWSBatchtrain" + "1".zfill(32)
    )
    assert attempt.status_reason == TRAINING_COMPLETED
    assert job.scheduled_at_ms is not None and job.started_at_ms is not None and job.stopped_at_ms is not None


def test_scheduled_at_is_set_when_the_job_is_scheduled_and_durations_follow_the_clock(world):
    world.engine.script("train", ServiceOutcome(scheduled_ms=5_000, starting_ms=1_000, duration_ms=60_000))
    job_id = world.submit()
    world.passes(2)
    job = world.job(job_id)
    assert (job.status, job.scheduled_at_ms, job.started_at_ms) == (S.SCHEDULED, world.clock.now_ms(), None)
    world.settle()
    assert world.status(job_id) is S.SCHEDULED
    world.clock.advance(5_000)
    world.settle()
    assert world.status(job_id) is S.STARTING
    world.clock.advance(1_000)
    world.settle()
    assert world.status(job_id) is S.RUNNING
    world.clock.advance(59_999)
    world.settle()
    assert world.status(job_id) is S.RUNNING
    world.clock.advance(1)
    world.settle()
    assert world.status(job_id) is S.SUCCEEDED
    assert world.job(job_id).stopped_at_ms - world.job(job_id).started_at_ms == 60_000


def test_capacity_limit_keeps_the_third_job_runnable_until_capacity_frees(world):
    world.engine.script("long", ServiceOutcome(duration_ms=10_000))
    first, second = world.submit("long"), world.submit("long")
    third = world.submit("short")
    world.settle()
    assert [world.status(j) for j in (first, second, third)] == [S.RUNNING, S.RUNNING, S.RUNNABLE]
    assert world.job(third).status_reason is None
    world.clock.advance(10_000)
    world.settle()
    assert [world.status(j) for j in (first, second, third)] == [S.SUCCEEDED, S.SUCCEEDED, S.SUCCEEDED]


def test_instance_count_from_the_payload_consumes_capacity(world):
    world.engine.script("big", ServiceOutcome(duration_ms=10_000))
    big = world.submit("big", instance_count=2)
    small = world.submit("small")
    world.settle()
    assert (world.status(big), world.status(small)) == (S.RUNNING, S.RUNNABLE)


def test_fifo_head_that_does_not_fit_holds_back_smaller_jobs_behind_it():
    world = World(max_instances=3)
    world.engine.script("a", ServiceOutcome(duration_ms=10_000))
    running = world.submit("a", instance_count=2)
    head = world.submit("b", instance_count=2)
    behind = world.submit("c")
    world.settle()
    assert [world.status(j) for j in (running, head, behind)] == [S.RUNNING, S.RUNNABLE, S.RUNNABLE]


def test_higher_priority_queue_sharing_the_environment_goes_first():
    world = World(max_instances=1)
    urgent = PREFIX + "job-queue/urgent"
    world.topology.queues[urgent] = ServiceQueue(urgent, 10, ENV)
    world.engine.script("x", ServiceOutcome(duration_ms=10_000))
    low = world.submit("x")
    high = world.submit("x", queue=urgent)
    world.settle()
    assert (world.status(low), world.status(high)) == (S.RUNNABLE, S.RUNNING)


def test_job_that_can_never_fit_is_blocked_then_terminated_by_the_time_limit_action():
    world = World(max_instances=2)
    action = ServiceTimeLimitAction(
        "MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE", "RUNNABLE", 600, "TERMINATE"
    )
    world.topology.queues[QUEUE] = ServiceQueue(QUEUE, 1, ENV, time_limit_actions=(action,))
    too_big = world.submit("huge", instance_count=3)
    behind = world.submit("fits")
    world.settle()
    assert (world.status(too_big), world.job(too_big).status_reason) == (
        S.RUNNABLE,
        SERVICE_ENVIRONMENT_MAX_RESOURCE,
    )
    assert world.status(behind) is S.RUNNABLE
    assert world.engine.next_wakeup_ms() == world.job(too_big).runnable_at_ms + 600_000
    world.clock.advance(600_000)
    world.settle()
    job = world.job(too_big)
    assert (job.status, job.is_terminated, job.status_reason) == (
        S.FAILED,
        True,
        "Terminated by JobStateTimeLimit action due to reason: MISCONFIGURATION:SERVICE_ENVIRONMENT_MAX_RESOURCE",
    )
    assert world.status(behind) is S.SUCCEEDED


def test_insufficient_capacity_goes_back_to_runnable_without_spending_an_attempt(world):
    world.engine.script("train", ServiceOutcome(insufficient_capacity=2))
    job_id = world.submit(retry=ServiceRetryPolicy(attempts=1))
    world.passes(3)
    job = world.job(job_id)
    assert (job.status, job.status_reason, job.attempts) == (S.RUNNABLE, INSUFFICIENT_INSTANCE_CAPACITY, ())
    world.settle()
    job = world.job(job_id)
    assert job.status is S.SUCCEEDED and len(job.attempts) == 1
    statuses = [status for status, _ in job.transitions]
    assert statuses.count(S.SCHEDULED) == 3 and statuses.count(S.RUNNABLE) == 3


def test_time_in_scheduled_before_capacity_failures_counts_toward_the_time_limit(world):
    action = ServiceTimeLimitAction("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "RUNNABLE", 600, "TERMINATE")
    world.topology.queues[QUEUE] = ServiceQueue(QUEUE, 1, ENV, time_limit_actions=(action,))
    world.engine.script("train", ServiceOutcome(scheduled_ms=400_000, insufficient_capacity=10))
    job_id = world.submit()
    world.settle()
    world.clock.advance(400_000)
    world.settle()  # first capacity failure, scheduled again
    assert world.status(job_id) is S.SCHEDULED
    world.clock.advance(400_000)
    world.settle()  # 800 s since first SCHEDULED: terminated at the next RUNNABLE
    job = world.job(job_id)
    assert (job.status, job.status_reason) == (
        S.FAILED,
        "Terminated by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    )


def test_failed_attempt_is_retried_then_the_job_fails(world):
    world.engine.script("train", ServiceOutcome(succeeded=False, failure_reason="AlgorithmError: boom"))
    job_id = world.submit(retry=ServiceRetryPolicy(attempts=3))
    world.settle()
    job = world.job(job_id)
    reason = "Received status from SageMaker: AlgorithmError: boom"
    assert (job.status, job.status_reason, len(job.attempts)) == (S.FAILED, reason, 3)
    assert [a.status_reason for a in job.attempts] == [reason] * 3
    assert len({a.training_job_arn for a in job.attempts}) == 3


def test_scripted_outcomes_apply_per_attempt_and_the_last_repeats(world):
    world.engine.script("train", ServiceOutcome(succeeded=False), ServiceOutcome())
    job_id = world.submit(retry=ServiceRetryPolicy(attempts=5))
    world.settle()
    job = world.job(job_id)
    assert (job.status, len(job.attempts)) == (S.SUCCEEDED, 2)


@pytest.mark.parametrize(
    ("rules", "attempts_made", "expected"),
    [
        pytest.param((), 1, True, id="no-rules-retries-while-attempts-remain"),
        pytest.param((), 3, False, id="no-attempts-left"),
        pytest.param((ServiceExitRule("EXIT", "Received status*"),), 1, False, id="exit-matches"),
        pytest.param((ServiceExitRule("retry", "Received status*"),), 1, True, id="retry-action-any-case"),
        pytest.param((ServiceExitRule("EXIT", "Other*"),), 1, True, id="no-match-retries"),
        pytest.param(
            (ServiceExitRule("RETRY", "Other"), ServiceExitRule("EXIT", "*")),
            1,
            False,
            id="first-match-decides",
        ),
    ],
)
def test_retry_decision_follows_evaluate_on_exit(rules, attempts_made, expected):
    policy = ServiceRetryPolicy(attempts=3, exit_rules=rules)
    assert (
        should_retry(policy, attempts_made, "Received status from SageMaker: Training job failed") is expected
    )


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", None, True),
        ("abc", "abc", True),
        ("ab*", "abc", True),
        ("abc", "abcd", False),
        ("ab", None, False),
    ],
)
def test_pattern_matching(pattern, value, expected):
    assert pattern_matches(pattern, value) is expected


def test_timeout_fails_the_attempt_and_is_never_retried(world):
    world.engine.script("train", ServiceOutcome(duration_ms=3_600_000))
    job_id = world.submit(attempt_duration_seconds=60, retry=ServiceRetryPolicy(attempts=3))
    world.settle()
    assert world.status(job_id) is S.RUNNING
    assert world.engine.next_wakeup_ms() == world.job(job_id).started_at_ms + 60_000
    world.clock.advance(60_000)
    world.settle()
    job = world.job(job_id)
    assert (job.status, job.status_reason, len(job.attempts)) == (S.FAILED, ATTEMPT_TIMED_OUT, 1)


@pytest.mark.parametrize(
    "passes", [0, 1, 2, 3, 4], ids=["SUBMITTED", "RUNNABLE", "SCHEDULED", "STARTING", "RUNNING"]
)
def test_terminate_works_from_every_non_terminal_status(world, passes):
    world.engine.script("train", ServiceOutcome(duration_ms=60_000))
    job_id = world.submit()
    world.passes(passes)
    was = world.status(job_id)
    world.engine.terminate(job_id, "user stop")
    job = world.job(job_id)
    assert (job.status, job.status_reason, job.is_terminated) == (S.FAILED, "user stop", True)
    assert len(job.attempts) == (1 if was in (S.SCHEDULED, S.STARTING, S.RUNNING) else 0)
    world.settle()
    assert world.status(job_id) is S.FAILED


def test_terminate_leaves_a_finished_job_alone_and_frees_capacity(world):
    world.engine.script("long", ServiceOutcome(duration_ms=60_000))
    first, second, third = world.submit("long"), world.submit("long"), world.submit("long")
    world.settle()
    world.engine.terminate(first, "stop")
    world.settle()
    assert world.status(third) is S.RUNNING
    world.engine.terminate(first, "again")
    assert world.job(first).status_reason == "stop"
    assert world.status(second) is S.RUNNING


def test_quota_share_limits_and_fifo_within_a_share():
    world = World(max_instances=10)
    policy_queue = ServiceQueue(QUEUE, 1, ENV, is_quota_share=True)
    world.topology.queues[QUEUE] = policy_queue
    for name, limit in (("a", 1), ("b", 2)):
        world.topology.shares[(QUEUE, name)] = QuotaShare(QUEUE, name, True, (("ml.m5.large", limit),))
    world.engine.script("t", ServiceOutcome(duration_ms=60_000))
    kw = {"instance_type": "ml.m5.large"}
    a1, a2 = world.submit("t", quota_share_name="a", **kw), world.submit("t", quota_share_name="a", **kw)
    b1, b2 = world.submit("t", quota_share_name="b", **kw), world.submit("t", quota_share_name="b", **kw)
    world.settle()
    assert [world.status(j) for j in (a1, a2, b1, b2)] == [S.RUNNING, S.RUNNABLE, S.RUNNING, S.RUNNING]
    world.engine.terminate(a1, "stop")
    world.settle()
    assert world.status(a2) is S.RUNNING


def test_job_larger_than_its_quota_share_is_blocked():
    world = World(max_instances=10)
    world.topology.queues[QUEUE] = ServiceQueue(QUEUE, 1, ENV, is_quota_share=True)
    world.topology.shares[(QUEUE, "a")] = QuotaShare(QUEUE, "a", True, (("ml.m5.large", 1),))
    job_id = world.submit(quota_share_name="a", instance_type="ml.m5.large", instance_count=2)
    world.settle()
    assert (world.status(job_id), world.job(job_id).status_reason) == (
        S.RUNNABLE,
        QUOTA_MANAGEMENT_LIMIT_EXCEEDED,
    )


def test_disabled_environment_schedules_nothing_new(world):
    world.topology.environments[ENV] = ServiceEnvironment(ENV, False, ((NUM_INSTANCES, 2),))
    job_id = world.submit()
    world.settle()
    assert world.status(job_id) is S.RUNNABLE


def test_fair_share_queue_orders_by_scheduling_priority():
    world = World(max_instances=1)
    world.topology.queues[QUEUE] = ServiceQueue(QUEUE, 1, ENV, is_fair_share=True)
    world.engine.script("t", ServiceOutcome(duration_ms=60_000))
    low = world.submit("t", scheduling_priority=1)
    high = world.submit("t", scheduling_priority=1)
    world.engine.update_priority(high, 9)
    world.settle()
    assert (world.status(low), world.status(high)) == (S.RUNNABLE, S.RUNNING)


def test_update_priority_of_a_finished_job_is_refused(world):
    job_id = world.submit()
    world.settle()
    with pytest.raises(ServiceJobFinishedError):
        world.engine.update_priority(job_id, 3)


def test_jobs_of_a_deleted_queue_are_terminated(world):
    world.engine.script("t", ServiceOutcome(duration_ms=60_000))
    job_id = world.submit("t")
    world.settle()
    world.topology.queues[QUEUE] = ServiceQueue(QUEUE, 1, ENV, is_deleted=True)
    world.passes()
    assert (world.status(job_id), world.job(job_id).status_reason) == (S.FAILED, "Job queue deleted")


def test_same_client_token_and_request_is_refused(world):
    world.submit(client_token="tok", request_digest="d1")
    world.submit(client_token="tok", request_digest="d2")
    with pytest.raises(DuplicateServiceJobError):
        world.submit(client_token="tok", request_digest="d1")


def test_hyper_parameters_script_a_failure_when_nothing_else_does(world):
    job_id = world.submit(
        hyper_parameters=(
            ("batch-emulator-exit", "failed"),
            ("batch-emulator-failure-reason", "ClientError: bad"),
        ),
    )
    world.settle()
    job = world.job(job_id)
    assert (job.status, job.status_reason) == (S.FAILED, "Received status from SageMaker: ClientError: bad")


def test_hyper_parameter_duration_is_measured_on_the_clock(world):
    job_id = world.submit(hyper_parameters=(("batch-emulator-duration-seconds", "30"),))
    world.settle()
    assert world.status(job_id) is S.RUNNING
    world.clock.advance(30_000)
    world.settle()
    assert world.status(job_id) is S.SUCCEEDED


def test_a_quiet_engine_has_nothing_due_and_a_pass_changes_nothing(world):
    job_id = world.submit()
    world.settle()
    before = world.job(job_id)
    world.passes(2)
    assert world.job(job_id) == before
    assert world.engine.next_wakeup_ms() is None


def test_transition_table_refuses_illegal_moves(world):
    job_id = world.submit()
    with pytest.raises(IllegalServiceTransitionError):
        apply_transition(world.job(job_id), S.RUNNING, 0)


def test_reset_forgets_jobs_and_scripts(world):
    world.engine.script("train", ServiceOutcome(succeeded=False))
    job_id = world.submit()
    world.engine.reset()
    assert world.engine.get_job(job_id) is None
    job_id = world.submit()
    world.settle()
    assert world.status(job_id) is S.SUCCEEDED
