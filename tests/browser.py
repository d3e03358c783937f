"""A real headless Chromium for the dashboard's tests and screenshots: Debian's
``chromium`` and ``chromium-driver`` (scripts/apt-packages.txt) driven by selenium.

:func:`chromium` (context manager) starts one browser with a private profile under
``profile_dir`` and quits it (chromedriver and every Chromium process it started) on
exit, also when the test fails. The driver paths are given explicitly, so selenium's
driver manager never tries to download anything. :func:`skip_reason` says why no
browser can run here (None when it can).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = os.environ.get("NEUTRINO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("NEUTRINO_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def skip_reason() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            return f"{path} is not installed (apt packages chromium, chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra)"
    return None


@contextlib.contextmanager
def chromium(profile_dir: Path, width: int = 1400, height: int = 860) -> Iterator:
    """A selenium ``webdriver.Chrome`` on headless Chromium, browser console kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update",
                f"--window-size={width},{height}", f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@contextlib.contextmanager
def explained(driver, screenshot: Path) -> Iterator[None]:
    """On a failure inside, save a screenshot and add the page's status line and
    console to the error."""
    try:
        yield
    except Exception as exc:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(screenshot))
        try:
            status = driver.execute_script(
                "const e = document.getElementById('status'); return e && e.textContent;")
            console = [f"{e['level']} {e['message']}" for e in driver.get_log("browser")]
        except Exception as inner:  # noqa: BLE001 - the browser itself may be gone
            status, console = None, [repr(inner)]
        raise AssertionError(f"{exc}\nstatus line: {status!r}\nscreenshot: {screenshot}\n"
                             "console:\n" + "\n".join(console)) from exc


def js_errors(driver) -> list[str]:
    """The page's script errors since the last call: SEVERE console entries, except
    the browser's own notes of HTTP error statuses (source ``network``: answers such as
    a 404 the page handles itself)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]
