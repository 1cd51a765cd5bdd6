"""Who reaches the dashboard: under --auth only a configured key pair (HTTP Basic), and nothing
about jobs without it; the controls only where test controls are on; and the pytest plugin
pointing a failed test at the dashboard."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from dashboard_pages import ACTION_HEADER, basic, fetch
from kit import run_pytest, serving

from emulator.app import runtime_of
from emulator.config import Settings
from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job

KEY_ID, SECRET = "AKIDDASHBOARD", "dashboard-secret-1"
DEFINITION = {
    "image": "busybox",
    "command": ["echo", "secret-marker-line"],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
}


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[Emulator, str]]:
    """A server under --auth holding one finished array job whose name must not leak."""
    with running_emulator(executor="simulated", bootstrap=True, auth_keys=f"{KEY_ID}:{SECRET}") as emulator:
        batch = emulator.client("batch")
        batch.register_job_definition(
            jobDefinitionName="private", type="container", containerProperties=DEFINITION
        )
        job_id = batch.submit_job(
            jobName="private-payroll-run",
            jobQueue="default",
            jobDefinition="private",
            arrayProperties={"size": 2},
        )["jobId"]
        wait_for_job(batch, job_id)
        yield emulator, job_id


PAGES = [
    "/",
    "/jobs",
    "/jobs/rows",
    "/jobs/{job_id}",
    "/jobs/{job_id}/live",
    "/jobs/{job_id}:0/log",
    "/jobs/{job_id}/children",
    "/events",
    "/controls",
    "/static/dashboard.js",
    "/no/such/page",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("credentials", ["none", "wrong secret", "unknown key", "garbled"])
def test_without_a_configured_key_pair_no_page_shows_job_data(guarded, path, credentials):
    emulator, job_id = guarded
    headers = {
        "none": {},
        "wrong secret": basic(KEY_ID, "guess"),
        "unknown key": basic("AKIDOTHER", SECRET),
        "garbled": {"Authorization": "Basic %%%"},
    }[credentials]

    page = fetch(emulator.url, path.format(job_id=job_id), headers=headers)

    assert page.status == 401
    assert page.headers["WWW-Authenticate"].startswith("Basic ")
    for secret_text in (job_id, "private-payroll-run", "secret-marker-line", "default"):
        assert secret_text not in page.text


def test_a_sigv4_style_authorization_header_is_no_key_pair(guarded):
    emulator, _ = guarded
    forged = {"Authorization": f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20260101/us-east-1/batch/aws4_request"}
    assert fetch(emulator.url, "/jobs", headers=forged).status == 401


@pytest.mark.parametrize("path", ["/", "/jobs", "/jobs/{job_id}", "/events"])
def test_the_configured_key_pair_opens_every_page(guarded, path):
    emulator, job_id = guarded
    page = fetch(emulator.url, path.format(job_id=job_id), headers=basic(KEY_ID, SECRET))
    assert page.status == 200
    assert ("default" if path == "/" else "private-payroll-run") in page.text


def test_actions_need_the_key_pair_too(guarded):
    emulator, job_id = guarded
    refused = fetch(emulator.url, "/controls/reset", method="POST", headers=ACTION_HEADER, body={})
    assert refused.status == 401
    assert emulator.client("batch").describe_jobs(jobs=[job_id])["jobs"], "reset must not have happened"


def test_without_test_controls_the_dashboard_has_no_controls():
    with serving(Settings(executor="simulated", test_controls=False)) as server:
        overview = fetch(server.url, "/")
        assert overview.status == 200
        assert "/_emulator/ui/controls" not in overview.text
        assert fetch(server.url, "/controls").status == 404
        pause = fetch(server.url, "/controls/pause", method="POST", headers=ACTION_HEADER, body={})
        assert pause.status == 404
        assert runtime_of(server.app).clock.is_paused is False


def test_a_failed_test_using_the_emulator_reports_the_dashboard_url(tmp_path):
    test_file = tmp_path / "test_uses_emulator.py"
    test_file.write_text(
        textwrap.dedent(
            """
            def test_fails(batch_client):
                batch_client.describe_job_queues()
                assert False, "deliberately"

            def test_passes(batch_client):
                batch_client.describe_job_queues()
            """
        )
    )
    finished = run_pytest(tmp_path, '{"executor": "simulated"}')
    assert "1 failed, 1 passed" in finished.stdout, finished.stdout[-3000:]
    section = finished.stdout.split("batch-emulator dashboard", 1)
    assert len(section) == 2, finished.stdout[-3000:]
    assert "http://127.0.0.1:" in section[1] and "/_emulator/ui/" in section[1]
    assert finished.stdout.count("batch-emulator dashboard") == 1  # the passing test gets none
