"""The classroom page (msme-sim app) in headless Chromium on a machine with no internet: it loads
from local files only, plays, fires a merger (the capacity dips), draws its charts, and a slider's
new value takes effect on Reset. Screenshots go to results/app-test/ (artifacts)."""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="pip install -e '.[app]'")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[1] / "results" / "app-test"
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:http://127.0.0.1")

pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from sim.app import running
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with open(log_path, "w") as log:
        try:
            with running(firms=3000, seed=1, log=log) as url:
                yield url
        except RuntimeError as err:
            pytest.fail(f"{err}: {log_path.read_text()[-2000:]}")


def _status(page) -> tuple[int, float]:
    text = page.locator(".msme-status").inner_text()
    m = re.search(r"Month (\d+): office capacity (\d+) %", text)
    return int(m.group(1)), float(m.group(2))


def _wait_month(page, month: int, timeout: float = 60.0) -> list[tuple[int, float]]:
    seen, t0 = [], time.time()
    while time.time() - t0 < timeout:
        seen.append(_status(page))
        if seen[-1][0] >= month:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"the page did not reach month {month}: {seen[-3:]}")


def _drawn(page) -> list[int]:
    """For each chart canvas, how many of its pixels are painted (not transparent or white)."""
    return page.eval_on_selector_all(".msme-chart canvas", """els => els.map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
        return n; })""")


def test_the_classroom_page_offline_in_chromium(server):
    if CHROMIUM is None:
        assert not os.environ.get("MSME_SIM_REQUIRE_BROWSER"), "chromium is missing (.ci/run installs it)"
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server)
        page.locator(".msme-status").wait_for(timeout=90_000)
        assert _status(page) == (0, 60.0)
        assert "outreach 0.020" in page.locator(".msme-levers").inner_text()

        # play, pause, fire a merger, step: the office's capacity dips, then recovers as it plays on
        page.get_by_role("button", name="▶").click()
        _wait_month(page, 6)
        page.get_by_role("button", name="❚❚").click()
        time.sleep(1.0)
        page.get_by_role("button", name="OPD merger").click()
        events = page.locator(".msme-events", has_text="opd merger at month")
        events.wait_for(timeout=10_000)
        month = int(re.search(r"opd merger at month (\d+)", events.inner_text()).group(1))
        while _status(page)[0] < month:  # step to the merger's month
            before = _status(page)[0]
            page.get_by_role("button", name="Step").click()
            _wait_month(page, before + 1)
        assert _status(page) == (month, 39.0)  # 60 % x (1 - 0.35) in the merger's month
        page.get_by_role("button", name="▶").click()
        _wait_month(page, month + 12)
        page.get_by_role("button", name="❚❚").click()
        assert 39.0 < _status(page)[1] < 60.0  # recovering (tau = 9 months)
        page.locator(".msme-chart canvas").first.wait_for()
        time.sleep(1.0)
        page.screenshot(path=str(ARTIFACTS / "merger.png"))
        painted = _drawn(page)
        assert len(painted) == 8 and min(painted) > 2_000, painted  # six charts, the map, the sizes

        # a second browser session gets its own city, at month 0 (students do not step each other's)
        other = browser.new_page(viewport={"width": 1400, "height": 1100})
        other.on("request", lambda r: requests.append(r.url))
        other.goto(server)
        other.locator(".msme-status").wait_for(timeout=90_000)
        assert _status(other) == (0, 60.0) and _status(page)[0] > 0
        other.close()

        # change a slider and reset: the new value takes effect
        slider = page.get_by_role("slider", name="Outreach (per month)")
        slider.focus()
        for _ in range(4):
            slider.press("ArrowRight")
        page.get_by_role("button", name="Reset").click()
        for _ in range(100):
            if "outreach 0.040" in page.locator(".msme-levers").inner_text():
                break
            time.sleep(0.1)
        levers = page.locator(".msme-levers").inner_text()
        assert "outreach 0.040" in levers, levers
        assert _status(page)[0] == 0 and "seed 1." not in levers  # a new city on a fresh seed
        page.screenshot(path=str(ARTIFACTS / "after-reset.png"))
        browser.close()
    leaving = [u for u in requests if not u.startswith(LOCAL)]
    assert leaving == [], leaving[:5]
