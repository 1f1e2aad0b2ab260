"""Take the screenshots of docs/classroom.md: the three lessons, as the page shows them.

    .venv/bin/python docs/classroom_screenshots.py      # needs the app extra and Debian's chromium
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

OUT = Path(__file__).parent / "img"
LESSONS = [
    # (file, preset, compare, sliders {label: right-arrow presses}, events at months, months to run)
    ("classroom_merger.png", "baseline", "baseline", {}, {24: "OPD merger"}, 72),
    ("classroom_instruments.png", "equipment_focus", "market_access_focus", {}, {}, 72),
    ("classroom_outreach.png", "baseline", "baseline", {"Outreach (per month)": 8, "Data integration": 10}, {}, 72),
]


def choose(page, label: str, value: str) -> None:
    page.locator(".v-select", has_text=label).first.click()
    page.locator(".menuable__content__active .v-list-item", has_text=re.compile(f"^{value}$")).first.click()
    time.sleep(0.3)


def month(page) -> int:
    return int(re.search(r"Month (\d+)", page.locator(".msme-status").inner_text()).group(1))


def run_to(page, target: int) -> None:
    while month(page) < target:
        page.get_by_role("button", name="Step").click()
        time.sleep(0.05)


def main() -> None:
    from playwright.sync_api import sync_playwright

    from sim.app import running
    with running(seed=1, timeout=240) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for name, preset, compare, sliders, events, months in LESSONS:
                page = browser.new_page(viewport={"width": 1500, "height": 1250})
                page.goto(url)
                page.locator(".msme-status").wait_for(timeout=120_000)
                choose(page, "Scenario", preset)
                choose(page, "Side by side", compare)
                for label, presses in sliders.items():
                    slider = page.get_by_role("slider", name=label)
                    slider.focus()
                    for _ in range(presses):
                        slider.press("ArrowRight")
                page.get_by_role("button", name="Reset").click()
                time.sleep(2.0)
                for at, button in sorted(events.items()):
                    run_to(page, at - 1)
                    page.get_by_role("button", name=button).click()
                    time.sleep(0.5)
                run_to(page, months)
                time.sleep(1.5)
                page.screenshot(path=str(OUT / name))
                print("wrote", OUT / name, page.locator(".msme-status").inner_text())
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
