"""Judging a multi-container task's attempt from how each of its containers ended (pure).

ECS properties (reference §18, Appendix D.11 — decided here, unverified on AWS):
- The task succeeds when every essential container that ended on its own exited 0; an essential
  container that never started fails it. Essential containers stopped by the task because another
  essential container exited first do not count (their exit code is the stop signal's).
- The attempt's exit code and reason (what `evaluateOnExit` matches) are those of the deciding
  essential container: the first (in task order) that failed, else the first that exited on its own.
EKS properties (§19): every init container and every application container must exit 0; the exit
code is the first non-zero one (init containers first), else 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emulator.engine.records import ContainerResult, TaskSpec


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    succeeded: bool
    exit_code: int | None
    reason: str | None


def judge(task: TaskSpec, results: Sequence[ContainerResult]) -> TaskOutcome:
    if task.kind == "eks":
        return _judge_pod(results)
    essential = {container.name for container in task.containers if container.essential}
    deciding = [r for r in results if r.name in essential and not r.stopped_by_task]
    if not deciding:  # every essential container was stopped (TerminateJob, timeout)
        deciding = [r for r in results if r.name in essential]
    failed = [r for r in deciding if r.exit_code != 0]
    first = (failed or deciding or [ContainerResult("")])[0]
    return TaskOutcome(not failed and bool(deciding), first.exit_code, first.reason)


def _judge_pod(results: Sequence[ContainerResult]) -> TaskOutcome:
    ordered = [r for r in results if r.is_init] + [r for r in results if not r.is_init]
    for result in ordered:
        if result.exit_code != 0:
            return TaskOutcome(False, result.exit_code, result.reason)
    return TaskOutcome(bool(ordered), 0, None)
