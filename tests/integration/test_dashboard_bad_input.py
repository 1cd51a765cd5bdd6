"""The dashboard's answers to bad input: unknown ids, bad filters, malformed paging and odd
values anywhere get a readable 400 or 404 page, never a 500 or a traceback; another account's
jobs and another job's log stream stay out of reach."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from dashboard_pages import HOSTILE, fetch, row_ids, submit

from emulator.bootstrap import bootstrap
from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(executor="simulated", bootstrap=True) as running:
        yield running


@pytest.fixture
def batch(emulator: Emulator):
    emulator.reset()
    bootstrap(emulator.runtime.batch, emulator.settings)
    yield emulator.client("batch")
    emulator.reset()
    assert not emulator.runtime.server_errors.drain()


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/jobs/no-such-job", 404, "does not exist"),
        ("/jobs/no-such-job/live", 404, "does not exist"),
        ("/jobs/no-such-job/log", 404, "does not exist"),
        ("/jobs/no-such-job/children", 404, "not an array job"),
        ("/jobs?status=DONE", 400, "Unknown job status"),
        ("/jobs?nextToken=not-a-token", 400, "Invalid nextToken"),
        ("/jobs?maxResults=0", 400, "maxResults must be between 1 and 1000"),
        ("/jobs?maxResults=lots", 400, "whole number"),
        ("/jobs?maxResults=101&name=a", 400, "maxResults must be between 1 and 100"),
        ("/jobs?queue=nope", 404, "JobQueue nope not found"),
        ("/jobs?region=mars", 400, "not a region name"),
        ("/events?detailType=Nope", 400, "Unknown detail type"),
        ("/events?skip=-1", 400, "skip must be"),
        ("/no/such/page", 404, "no page"),
    ],
)
def test_bad_input_gets_a_readable_page_never_a_server_error(batch, emulator, path, status, says):
    page = fetch(emulator.url, path)
    assert page.status == status
    assert page.headers["Content-Type"].startswith("text/html")
    assert says in page.text
    assert "Traceback" not in page.text


def test_a_log_stream_of_another_job_or_a_forged_token_is_refused(batch, emulator):
    mine = wait_for_job(batch, submit(batch, "mine"))["jobId"]
    other = wait_for_job(batch, submit(batch, "other"))["jobId"]
    stream = fetch(emulator.url, f"/jobs/{other}/log").json()["stream"]

    assert fetch(emulator.url, f"/jobs/{mine}/log?stream={stream}").status == 404
    assert fetch(emulator.url, f"/jobs/{mine}/log?token=garbage").status == 400


def test_other_accounts_jobs_are_not_shown(batch, emulator):
    job_id = wait_for_job(batch, submit(batch, "mine"))["jobId"]

    assert fetch(emulator.url, f"/jobs/{job_id}?account=210987654321").status == 404
    assert row_ids(fetch(emulator.url, "/jobs?account=210987654321").text) == []


ODD_VALUES = ["\x00", "%", "../../etc/passwd", "a" * 5000, "ü🙂", HOSTILE, "' OR 1=1 --", "-1", "1e9", "[]"]
ODD_PLACES = [
    "/jobs?name={}",
    "/jobs?queue={}",
    "/jobs?status={}",
    "/jobs?nextToken={}",
    "/jobs?maxResults={}",
    "/jobs?array={}",
    "/jobs/rows?array={}&name={}",
    "/jobs/{}",
    "/jobs/{}/live",
    "/jobs/{}/log",
    "/jobs/{}/children",
    "/events?jobId={}&skip={}",
    "/?region={}",
    "/?account={}",
]


@pytest.mark.parametrize("place", ODD_PLACES)
def test_odd_values_anywhere_get_an_answer_below_500(batch, emulator, place):
    job_id = wait_for_job(batch, submit(batch, "present"))["jobId"]
    for value in ODD_VALUES:
        page = fetch(emulator.url, place.format(quote(value, safe=""), quote(value, safe="")))
        assert page.status < 500, (place, value, page.text[:300])
        assert "Traceback" not in page.text
    odd_log = fetch(emulator.url, f"/jobs/{job_id}/log?stream=%00&token=%25")
    assert odd_log.status in (400, 404)
