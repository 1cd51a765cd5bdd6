"""CancelJobs, TerminateJobs and TerminateServiceJobs (added to botocore's model in 1.44): every
id is reported, unknown ids count as successful, and each job moves as its single-job operation
would move it. Sent as raw signed requests so they run whatever botocore version is installed."""

from __future__ import annotations

import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.protocol.specs import BATCH, load_service_model

pytestmark = pytest.mark.skipif(
    "CancelJobs" not in load_service_model(BATCH).operation_names,
    reason="the installed botocore (older than 1.44) has no bulk job operations to route",
)


def call(emulator, path: str, body: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = AWSRequest(method="POST", url=f"{emulator.url}{path}", data=json.dumps(body).encode())
    request.headers["Content-Type"] = "application/json"
    SigV4Auth(Credentials("test", "test"), "batch", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def blocked_queue(batch_client):
    """A queue whose only compute environment is DISABLED: its jobs wait in RUNNABLE."""
    batch_client.create_compute_environment(computeEnvironmentName="off", type="UNMANAGED", state="DISABLED")
    batch_client.create_job_queue(
        jobQueueName="held", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "off"}]
    )
    batch_client.register_job_definition(
        jobDefinitionName="sleeper",
        type="container",
        containerProperties={"image": "busybox", "command": ["sleep", "30"]},
    )
    return "held"


def test_cancel_jobs_fails_every_waiting_job_and_counts_unknown_ids_as_successful(
    batch_emulator, batch_client, blocked_queue, wait_for_job
):
    ids = [
        batch_client.submit_job(jobName=f"j{i}", jobQueue=blocked_queue, jobDefinition="sleeper")["jobId"]
        for i in range(3)
    ]
    status, body = call(batch_emulator, "/v1/canceljobs", {"jobs": [*ids, "no-such-job"], "reason": "bulk"})
    assert status == 200
    assert body == {"successful": [*ids, "no-such-job"], "errors": []}
    for job_id in ids:
        detail = wait_for_job(job_id, "FAILED")
        assert detail["statusReason"] == "bulk"
        assert detail["isCancelled"] is True


def test_terminate_jobs_stops_running_jobs(batch_emulator, batch_client, wait_for_job):
    batch_client.create_compute_environment(computeEnvironmentName="on", type="UNMANAGED")
    batch_client.create_job_queue(
        jobQueueName="run", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "on"}]
    )
    batch_client.register_job_definition(
        jobDefinitionName="long",
        type="container",
        containerProperties={"image": "busybox", "command": ["sleep", "30"]},
    )
    job_id = batch_client.submit_job(jobName="long", jobQueue="run", jobDefinition="long")["jobId"]
    wait_for_job(job_id, "RUNNING")
    status, body = call(batch_emulator, "/v1/terminatejobs", {"jobs": [job_id], "reason": "stop all"})
    assert (status, body) == (200, {"successful": [job_id], "errors": []})
    detail = wait_for_job(job_id, "FAILED")
    assert detail["statusReason"] == "stop all"
    assert detail["isTerminated"] is True


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/canceljobs", {"jobs": [f"j{i}" for i in range(51)], "reason": "r"}),
        ("/v1/terminatejobs", {"jobs": [], "reason": "r"}),
        ("/v1/terminateservicejobs", {"jobs": ["j"], "reason": "x" * 1025}),
        ("/v1/canceljobs", {"jobs": ["j"], "reason": ""}),
    ],
    ids=["51-ids", "no-ids", "reason-too-long", "empty-reason"],
)
def test_request_level_limits_are_client_errors(batch_emulator, path, body):
    status, answer = call(batch_emulator, path, body)
    assert status == 400
    assert "Error executing request, Exception : " in answer["message"]


def test_terminate_service_jobs_counts_unknown_ids_as_successful(batch_emulator):
    status, body = call(batch_emulator, "/v1/terminateservicejobs", {"jobs": ["missing"], "reason": "r"})
    assert (status, body) == (200, {"successful": ["missing"], "errors": []})
