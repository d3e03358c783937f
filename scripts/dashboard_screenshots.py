#!/usr/bin/env python3
"""Take the README's dashboard screenshots with headless Chromium (tests/browser.py).

Run against a neutrino in noauth mode holding `neutrino demo`'s resources, e.g. after
`neutrino demo --keep`:

    .venv/bin/python scripts/dashboard_screenshots.py --url http://127.0.0.1:9696

Writes docs/images/dashboard-topology.png (project demo-a: its network, router,
instances and floating IP, a network's address usage and scheduler ranking),
dashboard-all.png (an admin's view of every project) and dashboard-security.png
(demo-a's security groups and the explain form).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium  # noqa: E402


def enter(driver, url: str, project: str, role: str) -> None:
    from selenium.webdriver.common.by import By
    driver.execute_script("sessionStorage.clear()")
    driver.get(url + "/dashboard/")
    time.sleep(1)
    form = driver.find_element(By.ID, "noauth-login")
    form.find_element(By.NAME, "project").send_keys(project)
    form.find_element(By.NAME, "role").send_keys(role)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    time.sleep(3)


def tap(driver, kind: str, label: str) -> None:
    driver.execute_script(
        "const cy = window.neutrinoDashboard.view.cy;"
        "cy.nodes().filter(n => n.data('kind') === arguments[0]"
        " && n.data('label') === arguments[1]).first().emit('tap');", kind, label)
    time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:9696")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--project", default="demo-a")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from selenium.webdriver.common.by import By
    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile), 1280, 860) as driver:
        driver.get(args.url + "/dashboard/")
        enter(driver, args.url, args.project, "member")
        tap(driver, "network", "private")
        driver.save_screenshot(str(args.out / "dashboard-topology.png"))
        driver.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=security]").click()
        time.sleep(1)
        driver.save_screenshot(str(args.out / "dashboard-security.png"))
        enter(driver, args.url, "admin", "admin")
        scope = driver.find_element(By.ID, "scope")
        scope.send_keys("all projects")
        time.sleep(4)
        driver.save_screenshot(str(args.out / "dashboard-all.png"))
    for png in sorted(args.out.glob("dashboard-*.png")):
        print(f"{png} {png.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
