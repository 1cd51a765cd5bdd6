"""Make the dashboard screenshots the README shows: `python docs/images/screenshots.py`.

Starts an emulator in this process (local processes, `--bootstrap`), gives it something to show (a
fair-share queue, finished and failed jobs, a job writing a log line every few tenths of a second,
an array of 10,000 children), and photographs the overview, the array job while it runs and the
logging job's page with headless Chromium (`apt-get install chromium chromium-driver`).
"""

from __future__ import annotations

import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from emulator.testing import running_emulator

HERE = os.path.dirname(os.path.abspath(__file__))
UI = "/_emulator/ui"
RESOURCES = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "256"}]


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def define(batch, name: str, command: list[str]) -> None:
    batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={"image": "busybox", "command": command, "resourceRequirements": RESOURCES},
    )


def populate(emulator) -> tuple[str, str]:
    batch = emulator.client("batch")
    policy = batch.create_scheduling_policy(
        name="teams",
        fairsharePolicy={"shareDecaySeconds": 600, "shareDistribution": [
            {"shareIdentifier": "research", "weightFactor": 1.0},
            {"shareIdentifier": "production", "weightFactor": 0.5},
        ]},
    )["arn"]
    batch.create_job_queue(
        jobQueueName="shared", priority=10, schedulingPolicyArn=policy,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "default"}],
    )
    time.sleep(0.5)
    define(batch, "train", ["sh", "-c", "for i in $(seq 1 400); do echo \"epoch $i: loss=0.$((997 - i)) accuracy=0.$((500 + i))\"; sleep 0.3; done"])
    define(batch, "flaky", ["sh", "-c", "echo 'connecting to db'; echo 'error: timeout' >&2; exit 3"])
    define(batch, "shard", ["sh", "-c", "exit $((AWS_BATCH_JOB_ARRAY_INDEX % 331 == 7))"])
    for index in range(3):
        batch.submit_job(jobName=f"nightly-report-{index}", jobQueue="default", jobDefinition="default")
    batch.submit_job(jobName="flaky-import", jobQueue="default", jobDefinition="flaky")
    train = batch.submit_job(
        jobName="train-model", jobQueue="shared", jobDefinition="train", shareIdentifier="research"
    )["jobId"]
    batch.submit_job(jobName="score", jobQueue="shared", jobDefinition="default", shareIdentifier="production",
                     dependsOn=[{"jobId": train}])
    time.sleep(3)
    array = batch.submit_job(
        jobName="render-frames", jobQueue="default", jobDefinition="shard", arrayProperties={"size": 10_000}
    )["jobId"]
    return train, array


def scroll_to_heading(driver: webdriver.Chrome, starting: str) -> None:
    heading = driver.find_element(By.XPATH, f"//h2[starts-with(normalize-space(), '{starting}')]")
    driver.execute_script("arguments[0].scrollIntoView(); window.scrollBy(0, -12)", heading)


def main(out_dir: str = HERE) -> int:
    with running_emulator(executor="process", bootstrap=True, max_running=6) as emulator:
        train, array = populate(emulator)
        driver = browser()
        try:
            time.sleep(8)
            driver.get(f"{emulator.url}{UI}/jobs/{array}")
            time.sleep(2.5)
            scroll_to_heading(driver, "Array of")
            driver.save_screenshot(os.path.join(out_dir, "dashboard-array.png"))
            driver.get(f"{emulator.url}{UI}/")
            time.sleep(1.5)
            driver.save_screenshot(os.path.join(out_dir, "dashboard-overview.png"))
            driver.get(f"{emulator.url}{UI}/jobs/{train}")
            time.sleep(4)
            scroll_to_heading(driver, "Attempts")
            time.sleep(1)
            driver.save_screenshot(os.path.join(out_dir, "dashboard-job-log.png"))
        finally:
            driver.quit()
            emulator.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
