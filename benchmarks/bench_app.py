"""How fast the classroom page advances, with its charts updating, as a student sees it.

    .venv/bin/python benchmarks/bench_app.py [--firms 10000] [--seconds 10] [--repeats 3]

Starts `msme-sim app` (side by side with the baseline, as the page opens), opens it in headless
Chromium, presses play and reads the month shown on the page at the start and end of each window
of --seconds; reports simulated months per second (median of --repeats windows). Needs the app
extra and Debian's chromium.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from sim.app import running
    with running(args.firms, seed=1, timeout=240) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.locator(".msme-status").wait_for(timeout=120_000)

            def month() -> int:
                return int(re.search(r"Month (\d+)", page.locator(".msme-status").inner_text()).group(1))

            page.get_by_role("button", name="▶").click()
            time.sleep(2.0)  # warm up
            rates = []
            for _ in range(args.repeats):
                m0, t0 = month(), time.perf_counter()
                time.sleep(args.seconds)
                m1, t1 = month(), time.perf_counter()
                rates.append((m1 - m0) / (t1 - t0))
            page.get_by_role("button", name="❚❚").click()
            browser.close()
    print(f"classroom page, {args.firms:,} firms, side by side with the baseline, charts updating every "
          f"month: {statistics.median(rates):.1f} simulated months/s (median of {args.repeats} windows of "
          f"{args.seconds:g} s: {', '.join(f'{r:.1f}' for r in rates)})")


if __name__ == "__main__":
    main()
