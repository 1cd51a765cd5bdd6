"""The dashboard over HTTP: what each page shows of the jobs a client submitted, its filters and
paging, escaping and masking, its buttons and its live views' conditional answers (bad input:
test_dashboard_bad_input.py).

A module server on the simulated executor with the `default` resources (--bootstrap); jobs are
scripted through their environment (`BATCH_EMULATOR_*`) or the outcome control. The browser's
view (live updates, the log following a running job) is in tests/browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from dashboard_pages import ACTION_HEADER, FAIL, HOSTILE, LONG, fetch, row_ids, submit

from emulator.bootstrap import bootstrap
from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated", bootstrap=True, max_running=16) as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    emulator.reset()
    bootstrap(emulator.runtime.batch, emulator.settings)
    yield emulator.client("batch")
    emulator.reset()
    assert not emulator.runtime.server_errors.drain()


def test_overview_shows_the_default_queue_with_counts_linking_to_the_filtered_list(batch, emulator):
    for name in ("one", "two"):
        wait_for_job(batch, submit(batch, name))
    wait_for_job(batch, submit(batch, "bad", FAIL), "FAILED")

    page = fetch(emulator.url, "/")

    assert page.status == 200
    queue = re.search(r'<tr data-queue="default">.*?</tr>', page.text, re.S).group(0)
    succeeded = re.search(r'data-status="SUCCEEDED" href="([^"]+)"[^>]*>\w+ <b>(\d+)</b>', queue)
    failed = re.search(r'data-status="FAILED" href="([^"]+)"[^>]*>\w+ <b>(\d+)</b>', queue)
    assert succeeded.group(2) == "2" and failed.group(2) == "1"
    listed = fetch(emulator.url, succeeded.group(1).replace("&amp;", "&").removeprefix("/_emulator/ui"))
    assert len(row_ids(listed.text)) == 2


def test_overview_shows_what_running_jobs_hold_against_the_maximum(batch, emulator):
    submit(batch, "holds", LONG)
    wait_for_job(batch, submit(batch, "holds-too", LONG), "RUNNING")

    environments = re.search(
        r'<table class="grid" id="environments">.*?</table>', fetch(emulator.url, "/").text, re.S
    )

    assert '<meter min="0" max="256.0" value="2.0">' in environments.group(0)
    assert "2 / 256" in environments.group(0)
    assert "1024 MiB" in environments.group(0)


def test_job_list_is_newest_first_and_filters_by_status_and_name_prefix(batch, emulator):
    first = wait_for_job(batch, submit(batch, "alpha-1"))["jobId"]
    second = wait_for_job(batch, submit(batch, "alpha-2", FAIL), "FAILED")["jobId"]
    other = wait_for_job(batch, submit(batch, "beta"))["jobId"]

    assert row_ids(fetch(emulator.url, "/jobs").text) == [other, second, first]
    assert row_ids(fetch(emulator.url, "/jobs?name=ALPHA").text) == [second, first]
    assert row_ids(fetch(emulator.url, "/jobs?status=SUCCEEDED&queue=default").text) == [other, first]
    assert row_ids(fetch(emulator.url, "/jobs?status=FAILED&name=alpha").text) == [second]


def test_job_list_pages_follow_list_jobs_tokens(batch, emulator):
    submitted = [wait_for_job(batch, submit(batch, f"job-{i}"))["jobId"] for i in range(5)]
    seen: list[str] = []
    path = "/jobs?maxResults=2"
    while path:
        page = fetch(emulator.url, path)
        seen += row_ids(page.text)
        older = re.search(r'<a id="next-page" href="/_emulator/ui([^"]+)"', page.text)
        path = older.group(1).replace("&amp;", "&") if older else ""
    assert seen == submitted[::-1]


def test_rows_fragment_carries_each_jobs_current_status(batch, emulator):
    job_id = submit(batch, "runs", LONG)
    wait_for_job(batch, job_id, "RUNNING")

    rows = fetch(emulator.url, "/jobs/rows?queue=default")

    assert f'<tr data-job-id="{job_id}" data-status="RUNNING">' in rows.text
    assert "<html" not in rows.text


def test_job_page_shows_timeline_attempts_with_exit_codes_and_the_log(batch, emulator):
    emulator.controls.script_outcomes(
        "retried", [{"exitCode": 4, "output": ["first try"]}, {"output": ["ok"]}]
    )
    job_id = submit(batch, "retried", retryStrategy={"attempts": 2})
    wait_for_job(batch, job_id)

    page = fetch(emulator.url, f"/jobs/{job_id}").text
    log = fetch(emulator.url, f"/jobs/{job_id}/log").json()

    timeline = re.findall(r'<li class="status-\w+"><span class="badge status-\w+">(\w+)</span>', page)
    assert timeline == [
        "SUBMITTED",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    attempts = re.findall(r'<tr class="" data-attempt="(\d)">.*?<td class="exit">(\d*)</td>', page, re.S)
    assert attempts == [("1", "4"), ("2", "0")]
    assert [event["m"] for event in log["events"]] == ["ok"]
    older_stream = re.findall(r'<option value="([^"]+)"', page)[0]
    first = fetch(emulator.url, f"/jobs/{job_id}/log?stream={older_stream}").json()
    assert [event["m"] for event in first["events"]] == ["first try"]


def test_dependencies_are_linked_both_ways(batch, emulator):
    first = submit(batch, "first", LONG)
    second = submit(batch, "second", dependsOn=[{"jobId": first}])

    first_page = fetch(emulator.url, f"/jobs/{first}").text
    second_page = fetch(emulator.url, f"/jobs/{second}").text

    waited_on_by = re.search(r'<ul id="dependents">.*?</ul>', first_page, re.S).group(0)
    waits_for = re.search(r'<ul id="depends-on">.*?</ul>', second_page, re.S).group(0)
    assert f"/_emulator/ui/jobs/{second}" in waited_on_by
    assert f"/_emulator/ui/jobs/{first}" in waits_for


def test_array_page_summarises_children_and_every_childs_status_is_served(batch, emulator):
    parent = submit(batch, "array", LONG, arrayProperties={"size": 10})
    wait_for_job(batch, f"{parent}:9", "RUNNING")
    batch.terminate_job(jobId=f"{parent}:3", reason="one fails")
    wait_for_job(batch, f"{parent}:3", "FAILED")
    emulator.controls.advance_clock(600)
    wait_for_job(batch, parent, "FAILED")

    page = fetch(emulator.url, f"/jobs/{parent}").text
    children = fetch(emulator.url, f"/jobs/{parent}/children").json()
    failed = fetch(emulator.url, f"/jobs?array={parent}&status=FAILED").text

    assert re.search(r'data-status="FAILED" href="[^"]+">FAILED <b>1</b>', page)
    assert re.search(r'data-status="SUCCEEDED" href="[^"]+">SUCCEEDED <b>9</b>', page)
    assert children["statuses"] == "5556555555"  # SUCCEEDED but child 3, FAILED
    assert children["legend"][5:] == ["SUCCEEDED", "FAILED"] and children["terminal"] is True
    assert row_ids(failed) == [f"{parent}:3"]


def test_ecs_job_page_shows_each_containers_exit_code(batch, emulator):
    batch.register_job_definition(
        jobDefinitionName="ecs-two",
        type="container",
        ecsProperties={
            "taskProperties": [
                {
                    "containers": [
                        {"name": "app", "image": "busybox", "command": ["true"]},
                        {
                            "name": "sidecar",
                            "image": "busybox",
                            "essential": False,
                            "command": ["false"],
                            "environment": FAIL,
                        },
                    ]
                }
            ]
        },
    )
    job_id = batch.submit_job(jobName="ecs", jobQueue="default", jobDefinition="ecs-two")["jobId"]
    wait_for_job(batch, job_id)

    page = fetch(emulator.url, f"/jobs/{job_id}").text

    containers = re.findall(
        r'<tr class="container-row">\s*<td></td><td colspan="3">↳ (\w+).*?<td class="exit">(\d*)</td>',
        page,
        re.S,
    )
    assert containers == [("app", "0"), ("sidecar", "3")]


def test_multi_node_job_page_lists_its_nodes(batch, emulator):
    batch.register_job_definition(
        jobDefinitionName="mnp",
        type="multinode",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:1",
                    "container": {
                        "image": "busybox",
                        "command": ["true"],
                        "resourceRequirements": [
                            {"type": "VCPU", "value": "1"},
                            {"type": "MEMORY", "value": "128"},
                        ],
                    },
                }
            ],
        },
    )
    job_id = batch.submit_job(jobName="mnp", jobQueue="default", jobDefinition="mnp")["jobId"]
    wait_for_job(batch, job_id)

    nodes = re.search(
        r'<table class="grid small" id="nodes">.*?</table>', fetch(emulator.url, f"/jobs/{job_id}").text, re.S
    )

    assert re.findall(r'jobs/[^"]+%230">0</a> <span class="tag">main</span>', nodes.group(0))
    badges = re.findall(r'<span class="badge status-\w+">(\w+)</span>', nodes.group(0))
    assert len(badges) == 2 and badges[0] == "SUCCEEDED", badges


def test_hostile_text_renders_as_text_on_every_page(batch, emulator):
    batch.register_job_definition(
        jobDefinitionName="hostile",
        type="container",
        parameters={"p": HOSTILE},
        containerProperties={
            "image": "busybox",
            "command": ["echo", "Ref::p"],
            "environment": [{"name": "MODE", "value": HOSTILE}, *LONG],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )
    job_id = batch.submit_job(jobName="hostile", jobQueue="default", jobDefinition="hostile")["jobId"]
    wait_for_job(batch, job_id, "RUNNING")
    batch.terminate_job(jobId=job_id, reason=HOSTILE)
    wait_for_job(batch, job_id, "FAILED")

    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/live", "/jobs", "/jobs/rows", "/events"):
        page = fetch(emulator.url, path)
        assert page.status == 200
        assert "<script>alert" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path


def test_secret_values_are_masked_wherever_the_environment_shows(batch, emulator):
    emulator.client("ssm").put_parameter(Name="token", Value="s3cr3t-token", Type="SecureString")
    batch.register_job_definition(
        jobDefinitionName="secretive",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["true"],
            "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "MODE", "value": "fast"}],
            "secrets": [
                {"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/token"}
            ],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}],
        },
    )
    job_id = batch.submit_job(jobName="secretive", jobQueue="default", jobDefinition="secretive")["jobId"]
    wait_for_job(batch, job_id)

    page = fetch(emulator.url, f"/jobs/{job_id}").text

    assert "hunter2" not in page
    assert "s3cr3t-token" not in page
    assert "fast" in page
    assert "secret from arn:aws:ssm:us-east-1:123456789012:parameter/token" in page


def test_overrides_in_force_are_shown_against_the_definition(batch, emulator):
    job_id = batch.submit_job(
        jobName="overridden",
        jobQueue="default",
        jobDefinition="default",
        containerOverrides={"command": ["echo", "overridden"]},
    )["jobId"]
    wait_for_job(batch, job_id)

    changed = re.search(
        r'<table class="grid small" id="changed">.*?</table>',
        fetch(emulator.url, f"/jobs/{job_id}").text,
        re.S,
    )

    assert "hello from batch-emulator" in changed.group(0) and "overridden" in changed.group(0)


def test_cancel_needs_the_dashboards_header_then_cancels_through_cancel_job(batch, emulator):
    blocker = submit(batch, "blocker", LONG)
    waiting = submit(batch, "waiting", dependsOn=[{"jobId": blocker}])
    wait_for_job(batch, waiting, "PENDING")

    refused = fetch(emulator.url, f"/jobs/{waiting}/cancel", method="POST", body={"reason": "no header"})
    assert refused.status == 403
    assert batch.describe_jobs(jobs=[waiting])["jobs"][0]["status"] == "PENDING"

    sent = fetch(
        emulator.url,
        f"/jobs/{waiting}/cancel",
        method="POST",
        headers=ACTION_HEADER,
        body={"reason": "not needed"},
    )
    assert sent.status == 200
    job = wait_for_job(batch, waiting, "FAILED")
    assert job["statusReason"] == "not needed" and job["isCancelled"] is True


def test_terminate_stops_a_running_job_through_terminate_job(batch, emulator):
    job_id = submit(batch, "long", LONG)
    wait_for_job(batch, job_id, "RUNNING")

    sent = fetch(emulator.url, f"/jobs/{job_id}/terminate", method="POST", headers=ACTION_HEADER, body={})

    assert sent.status == 200
    job = wait_for_job(batch, job_id, "FAILED")
    assert job["statusReason"] == "Stopped from the batch-emulator dashboard" and job["isTerminated"] is True


def test_controls_pause_advance_resume_and_reset(batch, emulator):
    job_id = submit(batch, "short")
    wait_for_job(batch, job_id)

    def control(action: str, body: dict | None = None) -> dict:
        page = fetch(
            emulator.url, f"/controls/{action}", method="POST", headers=ACTION_HEADER, body=body or {}
        )
        assert page.status == 200, page.text
        return page.json()

    paused = control("pause")
    assert paused["paused"] is True
    assert control("advance", {"seconds": 30})["nowMs"] == paused["nowMs"] + 30_000
    assert control("resume")["paused"] is False
    control("reset")
    assert fetch(emulator.url, f"/jobs/{job_id}").status == 404
    assert fetch(emulator.url, "/controls").status == 200


def test_events_page_lists_newest_first_and_filters_by_job(batch, emulator):
    early = wait_for_job(batch, submit(batch, "job-early"))["jobId"]
    wait_for_job(batch, submit(batch, "job-late"))

    everything = fetch(emulator.url, "/events").text
    only_early = fetch(emulator.url, f"/events?jobId={early}").text

    statuses = re.findall(r'<span class="badge status-\w+">(\w+)</span>', only_early)
    assert statuses == ["SUCCEEDED", "RUNNING", "STARTING", "RUNNABLE"]
    assert everything.index("job-late") < everything.index("job-early")
    assert "job-late" not in only_early


def test_assets_ship_in_the_package():
    from importlib import resources

    package = resources.files("emulator.dashboard")
    assert (package / "static" / "dashboard.js").is_file()
    assert (package / "templates" / "dashboard" / "job.html").is_file()


def test_live_rows_answer_not_modified_until_a_row_changes(batch, emulator):
    job_id = wait_for_job(batch, submit(batch, "done"))["jobId"]
    first = fetch(emulator.url, "/jobs/rows?queue=default")
    tag = first.headers["ETag"]

    again = fetch(emulator.url, "/jobs/rows?queue=default", headers={"If-None-Match": tag})
    assert again.status == 304 and again.text == ""

    wait_for_job(batch, submit(batch, "newer"))
    changed = fetch(emulator.url, "/jobs/rows?queue=default", headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    assert row_ids(changed.text)[1] == job_id


def test_array_children_answer_not_modified_while_no_child_moves(batch, emulator):
    parent = submit(batch, "array", LONG, arrayProperties={"size": 3})
    wait_for_job(batch, f"{parent}:2", "RUNNING")
    first = fetch(emulator.url, f"/jobs/{parent}/children")
    assert first.json()["statuses"] == "444"

    tag = {"If-None-Match": first.headers["ETag"]}
    assert fetch(emulator.url, f"/jobs/{parent}/children", headers=tag).status == 304
    batch.terminate_job(jobId=f"{parent}:0", reason="stop one")
    wait_for_job(batch, f"{parent}:0", "FAILED")
    assert fetch(emulator.url, f"/jobs/{parent}/children", headers=tag).json()["statuses"] == "644"


def test_a_name_filter_looks_at_a_bounded_number_of_jobs_per_page(batch, emulator, monkeypatch):
    from emulator.services.batch import observation

    monkeypatch.setattr(observation, "SCAN_CHUNK", 2)
    monkeypatch.setattr(observation, "SCAN_BUDGET", 4)
    wanted = wait_for_job(batch, submit(batch, "wanted"))["jobId"]
    for index in range(9):
        wait_for_job(batch, submit(batch, f"other-{index}"))

    found, short_pages, path = [], 0, "/jobs?name=want"
    while path and not found:
        page = fetch(emulator.url, path).text
        found = row_ids(page)
        short_pages += 'id="short-page"' in page
        older = re.search(r'<a id="next-page" href="/_emulator/ui([^"]+)"', page)
        path = older.group(1).replace("&amp;", "&") if older else ""

    assert found == [wanted]
    assert short_pages >= 2  # 10 jobs, 4 looked at a page: the match is on the third page
