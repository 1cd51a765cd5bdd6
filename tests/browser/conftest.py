"""A real browser for the dashboard: Debian's headless chromium driven through its chromedriver
by Selenium, one browser for the whole session.

Nothing is downloaded at test time: the driver's path is given explicitly, so Selenium Manager
never runs. Without chromium, chromedriver or selenium the tests skip, saying what is missing
(`apt-get install chromium chromium-driver`, `pip install selenium`); under CI=true they fail.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _missing() -> list[str]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    return missing


@pytest.fixture(scope="session")
def browser() -> Iterator:
    missing = _missing()
    if missing:
        reason = f"no browser to test the dashboard with: missing {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
