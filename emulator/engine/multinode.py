"""Multi-node parallel jobs, the pure parts (reference §11): node jobs and what each node is told.

The parent is what the scheduler places: it holds the capacity of every node (its `container`
carries the totals) and its status, times and exit come from the main node. When it is placed the
engine spawns (or, for a later attempt, resets) one node job `<job id>#<n>` per node, starts the
main node, and starts the others once the main node is RUNNING, passing them the main node's
address. Applying all that is the engine's business (`engine.py`); this module builds records.

Choices where the reference is silent (Appendix D.4):
- Node jobs are created when the parent is first placed, in RUNNABLE, and are never scheduled on
  their own nor listed by queue; each new attempt of the parent moves them back to RUNNABLE.
- The other nodes are started together in the pass that sees the main node RUNNING. When the
  main node exits they may run on for a grace (AWS takes seconds to notice the exit) and keep
  their own exit if they end in it; then they are stopped as ECS stops a task. A node stopped so
  ends by its own exit code (0: SUCCEEDED, a stop signal: FAILED) with the status reason
  "Essential container in task exited"; a node whose container had not started yet, or that was
  never started, fails with MAIN_NODE_EXITED and no exit code.
- Only the main node's end decides the parent's attempt; retries restart every node.
- A node range with `ecsProperties` or `eksProperties` runs its whole task on each node, judged as
  a single-node task is (`tasks.py`); the MNP variables go to every container of the task. The
  parent's attempt carries the main node's per-container results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from emulator.engine.ids import node_job_id
from emulator.engine.records import Job, JobStatus, TaskSpec, spawned_job

MAIN_NODE_EXITED = "Main node exited before this node started"


def spawn_nodes(parent: Job, now_ms: int) -> list[Job]:
    """The parent's node jobs, created now in RUNNABLE: the queue, definition, retry strategy and
    timeout of the parent; the container (or task) and DescribeJobs detail of the node's range."""
    multinode = parent.multinode
    assert multinode is not None
    return [
        spawned_job(
            parent,
            node_job_id(parent.job_id, index),
            JobStatus.RUNNABLE,
            now_ms,
            container=node.container,
            runnable_at_ms=now_ms,
            detail=node.detail,
            multinode=replace(multinode, nodes=(), node_index=index),
            task=node.task,
        )
        for index, node in enumerate(multinode.nodes)
    ]


def node_ids(parent: Job) -> list[str]:
    multinode = parent.multinode
    return [node_job_id(parent.job_id, index) for index in range(multinode.num_nodes if multinode else 0)]


def main_node_id(parent: Job) -> str:
    assert parent.multinode is not None
    return node_job_id(parent.job_id, parent.multinode.main_node_index)


def other_nodes_running(parent: Job, attempt_number: int, job_of: Callable[[str], Job | None]) -> list[Job]:
    """The parent's nodes, the main node aside, still placed for its attempt `attempt_number`:
    what is left to stop once the main node has exited."""
    main_id = main_node_id(parent)
    found = (job_of(node_id) for node_id in node_ids(parent) if node_id != main_id)
    return [
        node
        for node in found
        if node is not None
        and node.current_attempt is not None
        and node.current_attempt.number == attempt_number
    ]


def main_node_task(parent: Job) -> TaskSpec | None:
    """The task the main node runs, None when its range uses `container`: what shapes the parent's
    attempts in DescribeJobs."""
    multinode = parent.multinode
    if multinode is None or not multinode.nodes:
        return None
    return multinode.nodes[multinode.main_node_index].task


def node_environment(node: Job, main_node_address: str | None) -> dict[str, str]:
    """The MNP variables (§14.3); the main node's address only on the other nodes."""
    multinode = node.multinode
    assert multinode is not None and multinode.node_index is not None
    environment = {
        "AWS_BATCH_JOB_NODE_INDEX": str(multinode.node_index),
        "AWS_BATCH_JOB_NUM_NODES": str(multinode.num_nodes),
        "AWS_BATCH_JOB_MAIN_NODE_INDEX": str(multinode.main_node_index),
    }
    if not multinode.is_main_node and main_node_address:
        environment["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = main_node_address
    return environment


def split_gpus(gpu_ids: tuple[int, ...], wanted: list[int]) -> list[tuple[int, ...]]:
    """Hand out the parent's GPU indexes to its nodes, `wanted[i]` to node i, in order."""
    shares, start = [], 0
    for count in wanted:
        shares.append(gpu_ids[start : start + count])
        start += count
    return shares
