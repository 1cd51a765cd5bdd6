"""Pure placement and retry decisions, with no engine (reference §12, §16)."""

from __future__ import annotations

import pytest
from engine_kit import ce_arn, compute_environment, job_queue, make_job, submission

from emulator.engine import scheduling
from emulator.engine.records import Attempt, ExitRule, JobStatus, RetryPolicy, TimeLimitAction
from emulator.engine.scheduling import Fail, Place, SetStatusReason


def runnable_job(job_id: str, vcpus: float = 1.0, status_reason: str | None = None, runnable_at_ms: int = 0):
    from dataclasses import replace

    job = make_job(JobStatus.RUNNABLE)
    container = replace(job.container, vcpus=vcpus)
    return replace(
        job, job_id=job_id, container=container, status_reason=status_reason, runnable_at_ms=runnable_at_ms
    )


def plan(queues, environments, jobs_by_queue, usage=None, slots=100, now=0):
    envs = {env.arn: env for env in environments}
    return scheduling.plan_placements(
        queues, envs, lambda arn: iter(jobs_by_queue.get(arn, [])), usage or {}, slots, now
    )


def test_places_fifo_on_first_ce_with_room():
    queue = job_queue(ces=("a", "b"))
    jobs = [runnable_job("j1", 2), runnable_job("j2", 2), runnable_job("j3", 2)]
    result = plan([queue], [compute_environment("a", 4), compute_environment("b", 2)], {queue.arn: jobs})
    assert result.decisions == (Place("j1", ce_arn("a")), Place("j2", ce_arn("a")), Place("j3", ce_arn("b")))


def test_higher_priority_queue_gets_shared_capacity_first():
    low = job_queue("low", priority=1)
    high = job_queue("high", priority=10)
    jobs = {low.arn: [runnable_job("low1")], high.arn: [runnable_job("high1")]}
    result = plan([low, high], [compute_environment("ce", 1)], jobs)
    assert result.decisions == (Place("high1", ce_arn("ce")),)


def test_head_that_does_not_fit_now_holds_back_its_queue():
    queue = job_queue()
    jobs = {queue.arn: [runnable_job("big", 4), runnable_job("small", 1)]}
    result = plan([queue], [compute_environment("ce", 4)], jobs, usage={ce_arn("ce"): 1.0})
    assert result.decisions == ()


def test_host_limit_caps_placements():
    queue = job_queue()
    jobs = {queue.arn: [runnable_job(f"j{i}") for i in range(5)]}
    result = plan([queue], [compute_environment("ce", None)], jobs, slots=2)
    assert [d.job_id for d in result.decisions] == ["j0", "j1"]


@pytest.mark.parametrize(
    ("changes", "placed"),
    [({}, True), ({"is_enabled": False}, False), ({"is_valid": False}, False)],
    ids=["enabled", "disabled-ce", "invalid-ce"],
)
def test_only_enabled_valid_ces_receive_jobs(changes, placed):
    queue = job_queue()
    result = plan([queue], [compute_environment("ce", 4, **changes)], {queue.arn: [runnable_job("j")]})
    assert any(isinstance(d, Place) for d in result.decisions) is placed


def test_disabled_queue_still_dispatches_its_jobs():
    queue = job_queue(is_enabled=False)
    result = plan([queue], [compute_environment()], {queue.arn: [runnable_job("j")]})
    assert result.decisions == (Place("j", ce_arn("ce")),)


@pytest.mark.parametrize(
    ("environments", "vcpus", "reason"),
    [
        ([compute_environment("ce", 2)], 4, scheduling.COMPUTE_ENVIRONMENT_MAX_RESOURCE),
        ([compute_environment("ce", 8, is_valid=False)], 1, scheduling.ACTION_REQUIRED_INVALID_CES),
        ([compute_environment("ce", 2)], 2, None),
        ([compute_environment("ce", None)], 512, None),
        ([], 1, None),
    ],
    ids=["vcpus-above-every-max", "all-ces-invalid", "fits", "unlimited", "no-known-ce"],
)
def test_blocked_reason(environments, vcpus, reason):
    envs = {env.arn: env for env in environments}
    assert scheduling.blocked_reason(runnable_job("j", vcpus), job_queue(), envs) == reason


def test_blocked_head_gets_reason_and_blocks_the_queue():
    queue = job_queue()
    jobs = {queue.arn: [runnable_job("big", 64), runnable_job("small")]}
    result = plan([queue], [compute_environment("ce", 4)], jobs)
    assert result.decisions == (SetStatusReason("big", scheduling.COMPUTE_ENVIRONMENT_MAX_RESOURCE),)


def test_blocked_reason_is_cleared_when_the_job_fits_again():
    queue = job_queue()
    job = runnable_job("j", 4, status_reason=scheduling.COMPUTE_ENVIRONMENT_MAX_RESOURCE)
    result = plan([queue], [compute_environment("ce", 8)], {queue.arn: [job]})
    assert result.decisions == (SetStatusReason("j", None), Place("j", ce_arn("ce")))


def test_time_limit_action_cancels_blocked_head_and_next_job_runs():
    rule = TimeLimitAction("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "RUNNABLE", 600, "CANCEL")
    queue = job_queue(time_limit_actions=(rule,))
    jobs = {
        queue.arn: [runnable_job("big", 64, runnable_at_ms=0), runnable_job("small", 1, runnable_at_ms=0)]
    }
    early = plan([queue], [compute_environment("ce", 4)], jobs, now=599_999)
    assert early.wake_at_ms == 600_000
    assert early.decisions == (SetStatusReason("big", scheduling.COMPUTE_ENVIRONMENT_MAX_RESOURCE),)
    due = plan([queue], [compute_environment("ce", 4)], jobs, now=600_000)
    assert due.decisions == (
        Fail(
            "big",
            "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
            is_cancelled=True,
        ),
        Place("small", ce_arn("ce")),
    )


def test_time_limit_rule_for_another_reason_does_not_fire():
    rule = TimeLimitAction("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "RUNNABLE", 600, "CANCEL")
    queue = job_queue(time_limit_actions=(rule,))
    result = plan([queue], [compute_environment("ce", 4)], {queue.arn: [runnable_job("big", 64)]}, now=10**9)
    assert not any(isinstance(d, Fail) for d in result.decisions)


# ---- evaluateOnExit (§12.3) ----


def attempt(number=1, exit_code=1, reason=None, status_reason="Essential container in task exited"):
    return Attempt(
        number=number,
        task_id="0" * 32,
        compute_environment_arn="ce",
        created_at_ms=0,
        exit_code=exit_code,
        reason=reason,
        status_reason=status_reason,
    )


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("1", "1", True),
        ("1", "10", False),
        ("1*", "10", True),
        ("*", "anything", True),
        ("*", None, True),
        ("1", None, False),
        ("1*", None, False),
        ("Host EC2*", "Host EC2 (instance i-0abc) terminated.", True),
        ("host ec2*", "Host EC2 (instance i-0abc) terminated.", False),
        ("Task failed to start", "Task failed to start", True),
    ],
    ids=[
        "exact",
        "exact-is-whole-string",
        "prefix",
        "star-anything",
        "star-missing",
        "missing-exact",
        "missing-prefix",
        "prefix-with-punctuation",
        "case-sensitive",
        "status-reason",
    ],
)
def test_pattern_matches(pattern, value, matches):
    assert scheduling.pattern_matches(pattern, value) is matches


@pytest.mark.parametrize(
    ("rules", "failed", "expected"),
    [
        ((), attempt(1), "RETRY"),
        ((), attempt(3), "EXIT"),
        ((ExitRule("EXIT", on_exit_code="1"),), attempt(1, exit_code=1), "EXIT"),
        ((ExitRule("EXIT", on_exit_code="1"),), attempt(1, exit_code=2), "RETRY"),
        (
            (ExitRule("RETRY", on_exit_code="2"), ExitRule("EXIT", on_reason="*")),
            attempt(1, exit_code=2),
            "RETRY",
        ),
        (
            (ExitRule("RETRY", on_exit_code="2"), ExitRule("EXIT", on_reason="*")),
            attempt(1, exit_code=3),
            "EXIT",
        ),
        ((ExitRule("RETRY", on_exit_code="1"),), attempt(3, exit_code=1), "EXIT"),
        (
            (ExitRule("EXIT", on_exit_code="1", on_reason="OOM*"),),
            attempt(1, exit_code=1, reason="x"),
            "RETRY",
        ),
        (
            (ExitRule("EXIT", on_exit_code="1", on_reason="OOM*"),),
            attempt(1, exit_code=1, reason="OOMx"),
            "EXIT",
        ),
        ((ExitRule("EXIT", on_exit_code="*"),), attempt(1, exit_code=None), "EXIT"),
        ((ExitRule("EXIT", on_exit_code="1*"),), attempt(1, exit_code=None), "RETRY"),
        (
            (ExitRule("EXIT", on_status_reason="Task failed to start"),),
            attempt(1, exit_code=None, status_reason="Task failed to start"),
            "EXIT",
        ),
        ((ExitRule("EXIT"),), attempt(1), "EXIT"),
        ((ExitRule("exit", on_exit_code="1"),), attempt(1, exit_code=1), "EXIT"),
    ],
    ids=[
        "no-rules-attempts-left",
        "no-rules-attempts-used-up",
        "exit-rule-matches",
        "exit-rule-misses-so-retry",
        "first-matching-rule-wins-retry",
        "catch-all-exit-last",
        "retry-rule-but-no-attempts-left",
        "all-conditions-must-match-miss",
        "all-conditions-must-match-hit",
        "star-matches-missing-exit-code",
        "prefix-does-not-match-missing-exit-code",
        "on-status-reason",
        "rule-without-conditions-matches-all",
        "action-case-insensitive",
    ],
)
def test_after_failed_attempt(rules, failed, expected):
    assert scheduling.after_failed_attempt(RetryPolicy(attempts=3, rules=rules), failed) == expected


def test_submission_helper_builds_a_container_job():
    assert submission().container.image == "busybox"
