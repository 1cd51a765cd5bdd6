"""TaskPlan: the order in which a multi-container task's containers start and stop.

Shared by the Docker and process executors (the simulated one needs no ordering). It is a plain
state machine with no I/O: the executor asks `startable()`, starts those containers, and reports
`on_started` / `on_failed_to_start` / `on_exited`, then stops whatever `take_stops()` names; the
plan says when the task is over (`is_done`). Judging whether the task succeeded is
the engine's business (`engine/tasks.py`); the plan only records what happened (`results()`).

ECS semantics (reference §18), as implemented:
- `dependsOn` conditions: START (the dependency has started), COMPLETE (it has exited), SUCCESS
  (it exited 0). HEALTHY is treated as START: the emulator runs no health checks.
- A container whose condition can no longer be met (its dependency never started, or exited
  non-zero under SUCCESS) never starts; it ends with no exit code.
- When an essential container exits (or can never start), every other running container is
  stopped and nothing more is started; those stopped are marked `stopped_by_task`.
- The task is over when every container has exited or will never start.
EKS pods are expressed with the same parts: init containers chained by SUCCESS, app containers
depending on the last init container, and no container essential, so the pod runs until every
container has ended.
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.engine.records import ContainerResult
from emulator.executors.base import TaskMember

WAITING, RUNNING, EXITED, SKIPPED = "WAITING", "RUNNING", "EXITED", "SKIPPED"
NEVER_STARTED = "CannotStartContainerError: dependency {name} ({condition}) can no longer be met"
STOPPED_WITH_TASK = "CannotStartContainerError: the task stopped before this container started"


class TaskPlan:
    def __init__(self, members: Sequence[TaskMember]) -> None:
        self.members = {member.name: member for member in members}
        self._order = [member.name for member in members]
        self._state = {name: WAITING for name in self._order}
        self._results: dict[str, ContainerResult] = {}
        self._stopping = False
        self._stops: list[str] = []

    # ---- questions ----
    def startable(self) -> list[str]:
        """Containers to start now; those that can never start are settled on the way."""
        if self._stopping:
            self._skip_waiting(STOPPED_WITH_TASK)
            return []
        ready: list[str] = []
        changed = True
        while changed:  # skipping one container can make its dependants unstartable too
            changed = False
            for name in self._order:
                if self._state[name] != WAITING or name in ready:
                    continue
                verdict = self._dependencies_verdict(self.members[name])
                if verdict is True:
                    ready.append(name)
                elif isinstance(verdict, str):
                    self._settle(
                        name, SKIPPED, ContainerResult(name, reason=verdict, is_init=self._init(name))
                    )
                    changed = True
                    if self._stopping:
                        self._skip_waiting(STOPPED_WITH_TASK)
                        return []
        return ready

    @property
    def has_started(self) -> bool:
        return any(state in (RUNNING, EXITED) for state in self._state.values())

    def main_container(self) -> str | None:
        """The container that stands for the task once it runs (a multi-node parallel node's
        address is its address): the first essential container, in task order, that has started;
        in a task with none essential (an EKS pod), the first application container. None before."""
        members = [self.members[name] for name in self._order]
        candidates = [m for m in members if m.essential] or [m for m in members if not m.is_init]
        return next((m.name for m in candidates if self._state[m.name] in (RUNNING, EXITED)), None)

    @property
    def is_done(self) -> bool:
        return all(state in (EXITED, SKIPPED) for state in self._state.values())

    def running(self) -> list[str]:
        return [name for name in self._order if self._state[name] == RUNNING]

    def results(self) -> tuple[ContainerResult, ...]:
        return tuple(
            self._results.get(name, ContainerResult(name, is_init=self._init(name))) for name in self._order
        )

    # ---- events ----
    def on_started(self, name: str, container_id: str | None = None) -> None:
        self._state[name] = RUNNING
        self._results[name] = ContainerResult(name, container_id=container_id, is_init=self._init(name))

    def take_stops(self) -> list[str]:
        """Running containers the executor must stop now (each named once)."""
        stops, self._stops = self._stops, []
        return stops

    def on_failed_to_start(self, name: str, reason: str) -> None:
        self._settle(name, SKIPPED, ContainerResult(name, reason=reason, is_init=self._init(name)))

    def on_exited(self, name: str, exit_code: int | None, reason: str | None = None) -> None:
        previous = self._results.get(name) or ContainerResult(name, is_init=self._init(name))
        result = ContainerResult(
            name,
            exit_code=exit_code,
            reason=reason,
            container_id=previous.container_id,
            is_init=previous.is_init,
            stopped_by_task=previous.stopped_by_task,
        )
        self._settle(name, EXITED, result)

    def stop_all(self) -> None:
        """The whole task is being stopped (TerminateJob, timeout): start nothing more."""
        if not self._stopping:
            self._stopping = True
            self._stops.extend(self.running())
        self._skip_waiting(STOPPED_WITH_TASK)

    # ---- internals ----
    def _init(self, name: str) -> bool:
        return self.members[name].is_init

    def _settle(self, name: str, state: str, result: ContainerResult) -> None:
        self._state[name] = state
        self._results[name] = result
        if not self.members[name].essential or self._stopping:
            return
        self._stopping = True  # an essential container ended: the task stops (§18)
        for other in self.running():
            before = self._results[other]
            self._results[other] = ContainerResult(
                other, container_id=before.container_id, is_init=before.is_init, stopped_by_task=True
            )
            self._stops.append(other)

    def _skip_waiting(self, reason: str) -> None:
        for name in self._order:
            if self._state[name] == WAITING:
                self._state[name] = SKIPPED
                self._results[name] = ContainerResult(name, reason=reason, is_init=self._init(name))

    def _dependencies_verdict(self, member: TaskMember) -> bool | str | None:
        """True: every condition holds; None: some may later; a reason string: one never will."""
        verdict: bool | None = True
        for dependency, condition in member.depends_on:
            if dependency not in self._state:
                continue  # RegisterJobDefinition checks the names; an unknown one is ignored
            state = self._state[dependency]
            exit_code = self._results.get(dependency, ContainerResult(dependency)).exit_code
            condition = condition.upper()
            if state == SKIPPED:
                return NEVER_STARTED.format(name=dependency, condition=condition)
            if condition in ("START", "HEALTHY"):
                met = state in (RUNNING, EXITED)
            elif condition == "SUCCESS" and state == EXITED and exit_code != 0:
                return NEVER_STARTED.format(name=dependency, condition=condition)
            else:  # COMPLETE, SUCCESS
                met = state == EXITED
            if not met:
                verdict = None
        return verdict
