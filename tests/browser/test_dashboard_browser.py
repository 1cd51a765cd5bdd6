"""The dashboard in headless Chromium against a real server running jobs as local processes:
every page opens without a script error, the job list follows a job from RUNNABLE to SUCCEEDED
and the job page follows a running job's log, neither reloading the page; Terminate stops a job
through TerminateJob; hostile text in a command and a log line stays text.

The server runs one job at a time (max_running=1), so a job submitted behind a long one waits in
RUNNABLE until that one is terminated through the API.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.bootstrap import bootstrap
from emulator.testing import Emulator, running_emulator
from emulator.testing.waiting import wait_for_job

UI = "/_emulator/ui"
WAIT_SECONDS = 45
RESOURCES = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]
SAME_DOCUMENT = "return window.__sameDocument"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator(
        executor="process", bootstrap=True, max_running=1, stop_timeout_seconds=1
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def blank_page(browser) -> None:
    """Leave the last test's page, whose polls may have logged 404s after its reset, and forget
    what the console logged, so each test reads only its own script errors."""
    browser.get("about:blank")
    browser.get_log("browser")


@pytest.fixture
def batch(emulator: Emulator):
    emulator.reset()
    bootstrap(emulator.runtime.batch, emulator.settings)
    yield emulator.client("batch")
    emulator.reset()
    assert not emulator.runtime.server_errors.drain()


def define(batch, name: str, command: list[str]) -> str:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={"image": "busybox", "command": command, "resourceRequirements": RESOURCES},
    )
    return name


def submit(batch, name: str, definition: str = "default", **extra) -> str:
    return batch.submit_job(jobName=name, jobQueue="default", jobDefinition=definition, **extra)["jobId"]


def wait_until(browser, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1).until(condition, message)


def text_of(browser, selector: str) -> str:
    """The element's rendered text, read in one script call: the live views replace elements
    between a lookup and a read."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : ''"
    return browser.execute_script(script, selector)


def mark_document(browser) -> None:
    """A value that survives only as long as this document: a reload would drop it."""
    browser.execute_script("window.__sameDocument = 'still here'")


def script_errors(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_every_page_opens_and_the_overview_shows_the_default_queue(browser, emulator, batch):
    job_id = submit(batch, "opened")
    wait_for_job(batch, job_id, timeout_seconds=WAIT_SECONDS)

    browser.get(f"{emulator.url}{UI}/")
    assert browser.title.startswith("Overview")
    assert text_of(browser, 'tr[data-queue="default"] td') == "default"
    for path, title in (
        ("/jobs", "Jobs"),
        (f"/jobs/{job_id}", "opened"),
        ("/events", "Events"),
        ("/controls", "Controls"),
    ):
        browser.get(f"{emulator.url}{UI}{path}")
        assert browser.title.startswith(title), path
        assert text_of(browser, "section.error") == "", path
    assert script_errors(browser) == []


def test_job_list_follows_a_job_from_runnable_to_succeeded_without_reloading(browser, emulator, batch):
    blocker = submit(batch, "blocker", define(batch, "sleeper", ["sleep", "60"]))
    wait_for_job(batch, blocker, "RUNNING", timeout_seconds=WAIT_SECONDS)
    job_id = submit(batch, "follow-me")
    wait_for_job(batch, job_id, "RUNNABLE", timeout_seconds=WAIT_SECONDS)

    browser.get(f"{emulator.url}{UI}/jobs?queue=default")
    row = f'tr[data-job-id="{job_id}"]'
    assert text_of(browser, f"{row} .badge") == "RUNNABLE"
    mark_document(browser)
    batch.terminate_job(jobId=blocker, reason="make room")

    wait_until(
        browser, lambda b: text_of(b, f"{row} .badge") == "SUCCEEDED", "the row never showed SUCCEEDED"
    )
    assert browser.execute_script(SAME_DOCUMENT) == "still here"
    assert text_of(browser, f"{row} td.exit") == "0"

    browser.get(f"{emulator.url}{UI}/jobs/{job_id}")
    assert text_of(browser, "#attempts td.exit") == "0"
    wait_until(
        browser, lambda b: "hello from batch-emulator" in text_of(b, "#log"), "the log line never showed"
    )
    assert script_errors(browser) == []


def test_job_page_follows_a_running_jobs_log_and_terminate_stops_it(browser, emulator, batch):
    definition = define(batch, "talker", ["sh", "-c", "echo live-line-1; sleep 60"])
    job_id = submit(batch, "talker", definition)

    browser.get(f"{emulator.url}{UI}/jobs/{job_id}")
    mark_document(browser)
    wait_until(
        browser, lambda b: "live-line-1" in text_of(b, "#log"), "the running job's log line never showed"
    )
    wait_until(browser, lambda b: text_of(b, "#job-status") == "RUNNING", "the page never showed RUNNING")

    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "stop-reason").send_keys("stopped from the browser test")
    browser.find_element(By.ID, "terminate-job").click()

    wait_until(browser, lambda b: text_of(b, "#job-status") == "FAILED", "the page never showed FAILED")
    assert browser.execute_script(SAME_DOCUMENT) == "still here"
    job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    assert job["isTerminated"] is True
    assert job["statusReason"] == "stopped from the browser test"
    assert script_errors(browser) == []


def test_hostile_text_in_a_command_and_a_log_line_renders_as_text(browser, emulator, batch):
    hostile = "<img src=x onerror=alert(1)>"
    definition = define(batch, "hostile", ["sh", "-c", f"echo '{hostile}'; echo '<script>alert(2)</script>'"])
    job_id = submit(batch, "hostile", definition)
    wait_for_job(batch, job_id, timeout_seconds=WAIT_SECONDS)

    browser.get(f"{emulator.url}{UI}/jobs/{job_id}")
    wait_until(browser, lambda b: "<script>alert(2)</script>" in text_of(b, "#log"), "the log never showed")

    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    assert f"echo '{hostile}'" in text_of(browser, "dd.command")
    assert hostile in text_of(browser, "#log")
    assert browser.find_elements(By.CSS_SELECTOR, "main img, #log script, dd.command *") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check that no alert opened
    assert script_errors(browser) == []


def test_array_page_draws_every_child_and_a_click_opens_one(browser, emulator, batch):
    parent = submit(batch, "array", arrayProperties={"size": 4})
    wait_for_job(batch, parent, timeout_seconds=WAIT_SECONDS)

    browser.get(f"{emulator.url}{UI}/jobs/{parent}")
    wait_until(browser, lambda b: "SUCCEEDED 4" in text_of(b, "#grid-legend"), "the grid legend never showed")

    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    grid = browser.find_element(By.ID, "child-grid")
    ActionChains(browser).move_to_element_with_offset(
        grid, -grid.size["width"] // 2 + 3, -grid.size["height"] // 2 + 3
    ).click().perform()
    wait_until(
        browser,
        lambda b: b.title.startswith("array") and f"{parent}:0" in b.current_url,
        "the child never opened",
    )
    assert text_of(browser, "#job-status") == "SUCCEEDED"
