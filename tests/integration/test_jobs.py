"""Jobs in relation to each other, through real boto3 against the plugin's server with the process
executor: dependencies (plain, failed, N_TO_N between arrays, SEQUENTIAL), array parents and their
children, ListJobs (default status, jobStatus, filters, pagination) and GetJobQueueSnapshot.
"""

from __future__ import annotations

from typing import Any

import pytest
from kit import create_queue, eventually, log_lines

QUEUE = "work-q"
CE = "work-ce"
ALL_STATUSES = {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"}


def describe(batch_client, *job_ids: str) -> list[dict[str, Any]]:
    return batch_client.describe_jobs(jobs=list(job_ids))["jobs"]


@pytest.fixture
def queue(batch_client) -> str:
    return create_queue(batch_client, QUEUE, CE)


# ---- dependencies --------------------------------------------------------------------------


def test_dependent_job_runs_after_its_dependency_succeeds(
    batch_client, define, submit, wait_for_job, batch_emulator_controls
):
    first = submit(define("first", ["sh", "-c", "sleep 0.3"]))
    second = submit(define("second", ["true"]), dependsOn=[{"jobId": first}])
    second_detail = wait_for_job(second, "SUCCEEDED")
    [first_detail] = describe(batch_client, first)

    assert first_detail["stoppedAt"] <= second_detail["startedAt"]
    assert second_detail["dependsOn"] == [{"jobId": first}]
    statuses = [status for status, _ in batch_emulator_controls.job_history(second)]
    assert statuses == ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


def test_failed_dependency_fails_the_chain(batch_client, define, submit, wait_for_job):
    failing = submit(define("failing", ["sh", "-c", "exit 1"]))
    middle = submit(define("middle", ["true"]), dependsOn=[{"jobId": failing}])
    last = submit(define("last", ["true"]), dependsOn=[{"jobId": middle}])

    for job_id in (middle, last):
        detail = wait_for_job(job_id, "FAILED")
        assert detail["statusReason"] == "Dependent Job failed"
        assert detail["attempts"] == []
        assert "startedAt" not in detail


def test_dependency_on_an_already_succeeded_job_is_satisfied(define, submit, wait_for_job):
    done = submit(define("done", ["true"]))
    wait_for_job(done, "SUCCEEDED")
    after = submit(define("after", ["true"]), dependsOn=[{"jobId": done}])
    wait_for_job(after, "SUCCEEDED")


def test_dependency_on_an_already_failed_job_fails_at_once(define, submit, wait_for_job):
    failed = submit(define("failed", ["false"]))
    wait_for_job(failed, "FAILED")
    after = submit(define("after", ["true"]), dependsOn=[{"jobId": failed}])
    assert wait_for_job(after, "FAILED")["statusReason"] == "Dependent Job failed"


def test_dependencies_cross_queues(batch_client, define, submit, wait_for_job):
    batch_client.create_job_queue(
        jobQueueName="other-q", priority=5, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": CE}]
    )
    upstream = submit(define("upstream", ["true"]))
    downstream = submit(define("downstream", ["true"]), jobQueue="other-q", dependsOn=[{"jobId": upstream}])
    wait_for_job(downstream, "SUCCEEDED")


def test_seeds_workflow_n_to_n_between_arrays(
    batch_client, logs_client, define, submit, wait_for_job, tmp_path
):
    """Array A writes one seed per index; array B, N_TO_N on A, reads the seed of its own index."""
    size = 4
    make = submit(
        define(
            "make-seeds",
            [
                "sh",
                "-c",
                f'echo "seed-$AWS_BATCH_JOB_ARRAY_INDEX" > {tmp_path}/seed-$AWS_BATCH_JOB_ARRAY_INDEX',
            ],
        ),
        arrayProperties={"size": size},
    )
    use = submit(
        define("use-seeds", ["sh", "-c", f"cat {tmp_path}/seed-$AWS_BATCH_JOB_ARRAY_INDEX"]),
        arrayProperties={"size": size},
        dependsOn=[{"jobId": make, "type": "N_TO_N"}],
    )
    parent = wait_for_job(use, "SUCCEEDED")
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == size
    assert parent["dependsOn"] == [{"jobId": make, "type": "N_TO_N"}]
    assert describe(batch_client, make)[0]["status"] == "SUCCEEDED"

    for index in range(size):
        maker, user = describe(batch_client, f"{make}:{index}", f"{use}:{index}")
        assert maker["stoppedAt"] <= user["startedAt"]
        assert log_lines(logs_client, user) == [f"seed-{index}"]


def test_n_to_n_child_fails_only_its_counterpart(batch_client, define, submit, wait_for_job):
    size = 3
    make = submit(
        define("make-some", ["sh", "-c", 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1']),
        arrayProperties={"size": size},
    )
    use = submit(
        define("use-some", ["true"]),
        arrayProperties={"size": size},
        dependsOn=[{"jobId": make, "type": "N_TO_N"}],
    )
    detail = wait_for_job(use, "FAILED")
    assert detail["statusReason"] == "Array Child Job failed"
    children = {
        child["arrayProperties"]["index"]: child
        for child in describe(batch_client, *[f"{use}:{i}" for i in range(size)])
    }
    assert children[0]["status"] == "SUCCEEDED"
    assert children[1]["status"] == "FAILED"
    assert children[1]["statusReason"] == "Dependent Job failed"
    assert children[2]["status"] == "SUCCEEDED"
    assert detail["arrayProperties"]["statusSummary"]["FAILED"] == 1
    assert detail["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 2


def test_sequential_array_runs_children_one_after_another(batch_client, define, submit, wait_for_job):
    size = 4
    parent = submit(
        define("seq", ["sh", "-c", "sleep 0.05"]),
        arrayProperties={"size": size},
        dependsOn=[{"type": "SEQUENTIAL"}],
    )
    wait_for_job(parent, "SUCCEEDED")
    children = describe(batch_client, *[f"{parent}:{i}" for i in range(size)])
    for before, after in zip(children, children[1:], strict=False):
        assert before["stoppedAt"] <= after["startedAt"]


def test_sequential_array_stops_at_the_first_failure(batch_client, define, submit, wait_for_job):
    parent = submit(
        define("seqfail", ["sh", "-c", 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1']),
        arrayProperties={"size": 4},
        dependsOn=[{"type": "SEQUENTIAL"}],
    )
    assert wait_for_job(parent, "FAILED")["statusReason"] == "Array Child Job failed"
    children = describe(batch_client, *[f"{parent}:{i}" for i in range(4)])
    assert [c["status"] for c in children] == ["SUCCEEDED", "FAILED", "FAILED", "FAILED"]
    assert [c.get("statusReason") for c in children[2:]] == ["Dependent Job failed"] * 2
    assert children[2]["attempts"] == [] and children[3]["attempts"] == []


def test_job_waits_for_a_whole_array(batch_client, define, submit, wait_for_job):
    array = submit(define("fan-out", ["true"]), arrayProperties={"size": 3})
    join = submit(define("fan-in", ["true"]), dependsOn=[{"jobId": array}])
    join_detail = wait_for_job(join, "SUCCEEDED")
    children = describe(batch_client, *[f"{array}:{i}" for i in range(3)])
    assert max(child["stoppedAt"] for child in children) <= join_detail["startedAt"]


# ---- array parents -------------------------------------------------------------------------


def test_array_parent_status_summary_and_children_listing(batch_client, define, submit, wait_for_job):
    size = 5
    parent = submit(
        define("many", ["sh", "-c", 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 3']), arrayProperties={"size": size}
    )
    detail = wait_for_job(parent, "FAILED")

    assert detail["statusReason"] == "Array Child Job failed"
    properties = detail["arrayProperties"]
    assert properties["size"] == size
    assert set(properties["statusSummary"]) == ALL_STATUSES
    assert properties["statusSummary"]["SUCCEEDED"] == 4
    assert properties["statusSummary"]["FAILED"] == 1
    assert sum(properties["statusSummary"].values()) == size
    assert properties["statusSummaryLastUpdatedAt"] >= detail["createdAt"]
    assert "container" not in detail or "exitCode" not in detail["container"]

    succeeded = batch_client.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted(job["arrayProperties"]["index"] for job in succeeded) == [0, 1, 2, 4]
    assert {job["jobId"] for job in succeeded} == {f"{parent}:{i}" for i in (0, 1, 2, 4)}
    [failed] = batch_client.list_jobs(arrayJobId=parent, jobStatus="FAILED")["jobSummaryList"]
    assert failed["jobId"] == f"{parent}:3"
    assert failed["container"] == {"exitCode": 1}
    assert batch_client.list_jobs(arrayJobId=parent)["jobSummaryList"] == []  # default: RUNNING only


def test_array_parent_is_pending_while_children_run(batch_client, define, submit, wait_for_job):
    parent = submit(define("longarray", ["sleep", "30"]), arrayProperties={"size": 2})
    wait_for_job(f"{parent}:0", "RUNNING")
    wait_for_job(f"{parent}:1", "RUNNING")
    detail = eventually(
        lambda: (
            (d := describe(batch_client, parent)[0])["arrayProperties"]["statusSummary"]["RUNNING"] == 2 and d
        ),
        what="the parent's summary to count two RUNNING children",
    )
    assert detail["status"] == "PENDING"
    running = batch_client.list_jobs(arrayJobId=parent)["jobSummaryList"]
    assert {job["jobId"] for job in running} == {f"{parent}:0", f"{parent}:1"}
    pending = batch_client.list_jobs(jobQueue=QUEUE, jobStatus="PENDING")["jobSummaryList"]
    assert [job["jobId"] for job in pending] == [parent]

    batch_client.terminate_job(jobId=parent, reason="stop the array")
    detail = wait_for_job(parent, "FAILED", timeout_seconds=10)
    assert detail["statusReason"] == "stop the array"
    assert detail["isTerminated"] is True
    for child in describe(batch_client, f"{parent}:0", f"{parent}:1"):
        assert child["status"] == "FAILED"
        assert child["statusReason"] == "stop the array"


def test_cancel_array_parent_cancels_waiting_children(batch_client, define, blocked_queue, wait_for_job):
    parent = batch_client.submit_job(
        jobName="waiting-array",
        jobQueue=blocked_queue,
        jobDefinition=define("wa", ["true"]),
        arrayProperties={"size": 3},
    )["jobId"]
    wait_for_job(f"{parent}:2", "RUNNABLE")
    batch_client.cancel_job(jobId=parent, reason="cancel them all")
    detail = wait_for_job(parent, "FAILED")
    assert detail["statusReason"] == "cancel them all"
    assert detail["isCancelled"] is True
    assert detail["arrayProperties"]["statusSummary"]["FAILED"] == 3
    for child in describe(batch_client, *[f"{parent}:{i}" for i in range(3)]):
        assert child["isCancelled"] is True


# ---- ListJobs ------------------------------------------------------------------------------


def test_list_jobs_defaults_to_running_jobs(batch_client, define, submit, wait_for_job):
    done = submit(define("quick", ["true"]))
    wait_for_job(done, "SUCCEEDED")
    running = submit(define("busy", ["sleep", "30"]))
    wait_for_job(running, "RUNNING")

    listed = batch_client.list_jobs(jobQueue=QUEUE)["jobSummaryList"]
    assert [job["jobId"] for job in listed] == [running]
    assert listed[0]["status"] == "RUNNING"
    assert "startedAt" in listed[0]

    succeeded = batch_client.list_jobs(jobQueue=QUEUE, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert [job["jobId"] for job in succeeded] == [done]
    assert succeeded[0]["container"] == {"exitCode": 0}
    assert succeeded[0]["jobDefinition"].endswith(":job-definition/quick:1")
    assert batch_client.list_jobs(jobQueue=QUEUE, jobStatus="FAILED")["jobSummaryList"] == []

    batch_client.terminate_job(jobId=running, reason="done")
    wait_for_job(running, "FAILED")


def test_list_jobs_accepts_the_queue_arn(batch_client, define, submit, wait_for_job):
    job_id = submit(define("byarn", ["true"]))
    wait_for_job(job_id, "SUCCEEDED")
    arn = batch_client.describe_job_queues(jobQueues=[QUEUE])["jobQueues"][0]["jobQueueArn"]
    assert [
        j["jobId"] for j in batch_client.list_jobs(jobQueue=arn, jobStatus="SUCCEEDED")["jobSummaryList"]
    ] == [job_id]


def test_job_name_filter_ignores_status_and_matches_prefixes(
    batch_client, define, submit, blocked_queue, wait_for_job
):
    definition = define("named", ["true"])
    finished = submit(definition, name="alpha-1")
    wait_for_job(finished, "SUCCEEDED")
    waiting = submit(definition, name="Alpha-2", jobQueue=blocked_queue)
    wait_for_job(waiting, "RUNNABLE")
    submit(definition, name="beta", jobQueue=blocked_queue)

    def names(queue: str, *values: str) -> list[str]:
        result = batch_client.list_jobs(
            jobQueue=queue, filters=[{"name": "JOB_NAME", "values": list(values)}]
        )
        return sorted(job["jobName"] for job in result["jobSummaryList"])

    assert names(QUEUE, "alpha*") == ["alpha-1"]
    assert names(blocked_queue, "alpha*") == ["Alpha-2"]
    assert names(blocked_queue, "ALPHA-2") == ["Alpha-2"]
    assert names(blocked_queue, "alpha") == []
    assert names(blocked_queue, "*") == ["Alpha-2", "beta"]
    # With a filter, jobStatus is ignored.
    result = batch_client.list_jobs(
        jobQueue=QUEUE, jobStatus="RUNNING", filters=[{"name": "JOB_NAME", "values": ["alpha*"]}]
    )
    assert [job["jobId"] for job in result["jobSummaryList"]] == [finished]


def test_job_definition_filter(batch_client, define, submit, wait_for_job):
    a = submit(define("def-a", ["true"]))
    b = submit(define("def-b", ["true"]))
    for job_id in (a, b):
        wait_for_job(job_id, "SUCCEEDED")
    result = batch_client.list_jobs(jobQueue=QUEUE, filters=[{"name": "JOB_DEFINITION", "values": ["def-a"]}])
    assert [job["jobId"] for job in result["jobSummaryList"]] == [a]
    result = batch_client.list_jobs(jobQueue=QUEUE, filters=[{"name": "JOB_DEFINITION", "values": ["def-*"]}])
    assert {job["jobId"] for job in result["jobSummaryList"]} == {a, b}


def test_list_jobs_pages_with_the_paginator_newest_first(batch_client, define, blocked_queue, wait_for_job):
    definition = define("paged", ["true"])
    submitted = [
        batch_client.submit_job(jobName=f"paged-{i}", jobQueue=blocked_queue, jobDefinition=definition)[
            "jobId"
        ]
        for i in range(7)
    ]
    for job_id in submitted:
        wait_for_job(job_id, "RUNNABLE")

    paginator = batch_client.get_paginator("list_jobs")
    pages = list(
        paginator.paginate(jobQueue=blocked_queue, jobStatus="RUNNABLE", PaginationConfig={"PageSize": 2})
    )
    assert [len(page["jobSummaryList"]) for page in pages] == [2, 2, 2, 1]
    assert all("nextToken" in page for page in pages[:-1]) and "nextToken" not in pages[-1]
    listed = [job for page in pages for job in page["jobSummaryList"]]
    assert sorted(job["jobId"] for job in listed) == sorted(submitted)
    created = [job["createdAt"] for job in listed]
    assert created == sorted(created, reverse=True)

    by_hand = batch_client.list_jobs(jobQueue=blocked_queue, jobStatus="RUNNABLE", maxResults=3)
    rest = batch_client.list_jobs(
        jobQueue=blocked_queue, jobStatus="RUNNABLE", maxResults=10, nextToken=by_hand["nextToken"]
    )
    assert [j["jobId"] for j in by_hand["jobSummaryList"] + rest["jobSummaryList"]] == [
        j["jobId"] for j in listed
    ]
    assert "nextToken" not in rest


def test_list_jobs_pages_array_children(batch_client, define, blocked_queue, wait_for_job):
    parent = batch_client.submit_job(
        jobName="paged-array",
        jobQueue=blocked_queue,
        jobDefinition=define("pa", ["true"]),
        arrayProperties={"size": 5},
    )["jobId"]
    wait_for_job(f"{parent}:4", "RUNNABLE")
    pages = batch_client.get_paginator("list_jobs").paginate(
        arrayJobId=parent, jobStatus="RUNNABLE", PaginationConfig={"PageSize": 2}
    )
    listed = [job["jobId"] for page in pages for job in page["jobSummaryList"]]
    assert sorted(listed) == sorted(f"{parent}:{i}" for i in range(5))


def test_list_jobs_needs_exactly_one_of_queue_or_array(batch_client, queue):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        batch_client.list_jobs()
    assert error.value.response["Error"]["Code"] == "ClientException"


# ---- GetJobQueueSnapshot -------------------------------------------------------------------


def test_queue_snapshot_shows_the_front_of_the_queue_in_order(
    batch_client, define, blocked_queue, wait_for_job
):
    definition = define("queued", ["true"])
    submitted = []
    for i in range(4):
        job_id = batch_client.submit_job(
            jobName=f"queued-{i}", jobQueue=blocked_queue, jobDefinition=definition
        )["jobId"]
        wait_for_job(job_id, "RUNNABLE")  # one at a time, so the order is unambiguous
        submitted.append(job_id)
    arns = [detail["jobArn"] for detail in describe(batch_client, *submitted)]

    snapshot = batch_client.get_job_queue_snapshot(jobQueue=blocked_queue)["frontOfQueue"]
    assert [job["jobArn"] for job in snapshot["jobs"]] == arns
    times = [job["earliestTimeAtPosition"] for job in snapshot["jobs"]]
    assert times == sorted(times)
    assert snapshot["lastUpdatedAt"] >= times[-1]

    batch_client.cancel_job(jobId=submitted[1], reason="drop one")
    wait_for_job(submitted[1], "FAILED")
    snapshot = batch_client.get_job_queue_snapshot(jobQueue=blocked_queue)["frontOfQueue"]
    assert [job["jobArn"] for job in snapshot["jobs"]] == [arns[0], *arns[2:]]


def test_queue_snapshot_of_an_empty_queue(batch_client, queue):
    snapshot = batch_client.get_job_queue_snapshot(jobQueue=queue)["frontOfQueue"]
    assert snapshot["jobs"] == []
