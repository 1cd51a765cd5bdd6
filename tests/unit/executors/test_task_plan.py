"""TaskPlan's main container, whose start makes a multi-node parallel node's task count as running
under Docker and whose address is the node's: the first essential container of an ECS task, the
first application container (after the init containers) of an EKS pod."""

from __future__ import annotations

from emulator.executors.base import ExecutionRequest, LogTarget, TaskMember
from emulator.executors.tasks import TaskPlan


def member(
    name: str, *, essential: bool = True, is_init: bool = False, depends_on: tuple[tuple[str, str], ...] = ()
) -> TaskMember:
    request = ExecutionRequest(
        attempt_id="job#0/1",
        job_id="job#0",
        image="busybox",
        command=("true",),
        environment={},
        vcpus=0,
        memory_mib=0,
        log=LogTarget("123456789012", "us-east-1", "/aws/batch/job", name),
    )
    return TaskMember(name, request, essential=essential, depends_on=depends_on, is_init=is_init)


def test_pod_main_container_is_its_first_application_container():
    plan = TaskPlan(
        [
            member("init", essential=False, is_init=True),
            member("main", essential=False, depends_on=(("init", "SUCCESS"),)),
        ]
    )
    assert plan.startable() == ["init"]
    plan.on_started("init")
    assert plan.has_started and plan.main_container() is None
    plan.on_exited("init", 0)
    assert plan.startable() == ["main"]
    plan.on_started("main")
    assert plan.main_container() == "main"


def test_ecs_task_main_container_is_its_first_essential_container_to_start():
    plan = TaskPlan(
        [
            member("sidecar", essential=False),
            member("app", depends_on=(("sidecar", "SUCCESS"),)),
            member("other"),
        ]
    )
    assert plan.startable() == ["sidecar", "other"]
    plan.on_started("sidecar")
    assert plan.main_container() is None
    plan.on_started("other")
    assert plan.main_container() == "other"
    plan.on_exited("sidecar", 0)
    assert plan.startable() == ["app"]
    plan.on_started("app")
    assert plan.main_container() == "app"  # the first in task order once both run
