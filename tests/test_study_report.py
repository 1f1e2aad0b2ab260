"""The study report (sim.report): written at the end of a sweep and by `msme-sim report`, its
Markdown twin, and the HTML opened in headless Chromium with no network: every figure loads and
no request leaves the file."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim import report

CLI = [sys.executable, "-m", "sim.cli"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "s.toml").write_text(
        'description = "A small merger study for the report test."\n'
        'scenarios = ["baseline", "opd_merger", "recommended_package"]\nbaseline = "baseline"\n'
        "replicates = 3\nyears = 4\nroot_seed = 5\n[parameters]\nn_firms = 1500\nburn_in_months = 120\n")
    r = subprocess.run([*CLI, "sweep", "s.toml", "--out", "res", "--workers", "0", "--quiet"],
                       capture_output=True, text=True, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert "report: res/report.html (self-contained; opens offline)" in r.stdout
    return tmp / "res"


def test_the_sweep_writes_a_self_contained_report_and_its_markdown_twin(study):
    html = (study / "report.html").read_text()
    assert "A small merger study for the report test." in html
    assert "opd merger at month 37" in html and "recommended_package" in html
    assert html.count("<img ") == 6  # paths, forest, cost, office, classes, sizes
    assert html.count("src='data:image/png;base64,") == 6
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", html)  # nothing fetched from elsewhere
    for title, _ in report.CAVEATS:
        assert title in html
    md = (study / "report.md").read_text()
    for name in ("paths", "forest", "cost", "office", "classes", "sizes"):
        assert f"](report_files/{name}.png)" in md
        assert (study / "report_files" / f"{name}.png").stat().st_size > 5_000
    assert "| firms served by the office |" in md and "## Caveats" in md


def test_report_contents_what_changed_the_full_table_and_the_effects(study):
    from sim import store
    r = report.build(store.load(study), resamples=199)
    facts = dict(report._run_facts(r))
    assert "n_firms = 1500" in facts["set for every scenario"]
    rows = {s: c for s, _, c in report._scenario_rows(r)}
    assert rows["baseline"] == "nothing (the defaults)" and "n_firms" not in rows["recommended_package"]
    assert "office_capacity = 0.8" in rows["recommended_package"]
    html = report.html_report(r, "t")
    assert "<th>95 % BCa interval</th>" in html and html.count("<tr><td>recommended_package</td>") == 8
    assert "<h2>Effects on served firms, on everyone else, and cost</h2>" in html
    assert "<td>recommended_package *</td>" in html  # its reforms are not priced: starred, listed
    assert "<li><code>recommended_package</code>: office_capacity 0.6 -&gt; 0.8, coordination 0.4 -&gt; 0.8" in html
    assert "<li><code>opd_merger</code>: event opd_merger</li>" in html
    md = report.markdown_report(r, "t", "f")
    assert "### Effects on served firms, on everyone else, and cost" in md
    assert "- `recommended_package`: office_capacity 0.6 -> 0.8, coordination 0.4 -> 0.8" in md
    table = r["comparison"].copy()
    table["p"], table["p_holm"] = 0.001, 0.2  # only the adjusted p decides what is called clear
    assert "no headline outcome differs clearly" in report._headline_sentences(table)[0]


def test_report_bands_and_cumulative_paths_known_answers():
    import pandas as pd
    from scipy import stats
    values = pd.DataFrame([[1.0, 3.0, 5.0, 7.0]])
    mean, low, high = report._band(values)
    half = stats.t.ppf(0.975, 3) * values.iloc[0].std(ddof=1) / 2
    assert high[0] - mean[0] == pytest.approx(half) and mean[0] - low[0] == pytest.approx(half)
    m = pd.DataFrame({"scenario": "s", "month": [0, 1, 2] * 2, "replicate": [0] * 3 + [1] * 3,
                      "served": [1, 2, 3, 0, 0, 1]})
    assert report._wide(m, "s", ("served",), True)[0].tolist() == [1, 3, 6]
    assert report._wide(m, "s", ("served",), False)[1].tolist() == [0, 0, 1]


def test_report_command_rewrites_the_report(study, tmp_path):
    r = subprocess.run([*CLI, "report", str(study), "--out", str(tmp_path / "copy")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "copy" / "report.html").stat().st_size > 50_000
    bad = subprocess.run([*CLI, "report", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no result store" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_command_stars_and_lists_the_unpriced_changes(study, tmp_path):
    r = subprocess.run([*CLI, "compare", str(study), "--out", str(tmp_path), "--resamples", "199"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert re.search(r"\n\s+recommended_package \*\s", r.stdout)  # a cost row, starred
    assert "recommended_package: office_capacity 0.6 -> 0.8, coordination 0.4 -> 0.8," in r.stdout
    assert "opd_merger: event opd_merger" in r.stdout
    md = (tmp_path / "compare.md").read_text()
    assert "- `recommended_package`: office_capacity 0.6 -> 0.8" in md
    assert "| recommended_package \\* | extra spending per graduation added, Rp M |" in md


def test_caveats_follow_the_known_gaps_of_the_calibration_notes():
    text = (Path(__file__).parents[1] / "docs" / "calibration.md").read_text()
    gaps = text.split("## Known gaps")[1].split("\n## ")[0]
    titles = re.findall(r"^- \*\*(.+?)\*\*", gaps, flags=re.M)
    assert [t.rstrip(".:") for t in titles] == [t for t, _ in report.CAVEATS]


def test_the_money_caveat_says_the_data_are_value_added_and_money_is_relative():
    """The published class figures are value added per firm (docs/calibration.md, Money scale), and
    the model's firms sell less: a reader must learn to read its rupiah as relative."""
    money = dict(report.CAVEATS)["Money scale"]
    assert "value added" in money and "relative" in money and "below" in money


def test_the_report_opens_offline_in_headless_chromium(study, tmp_path):
    if CHROMIUM is None:
        assert not os.environ.get("MSME_SIM_REQUIRE_BROWSER"), "chromium is missing (.ci/run installs it)"
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    url = (study / "report.html").resolve().as_uri()
    requests = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.on("request", lambda req: requests.append(req.url))
        page.goto(url)
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        browser.close()
    assert len(images) == 6 and all(done and w > 300 and h > 200 for done, w, h in images), images
    leaving = [u for u in requests if not (u == url or u.startswith("data:"))]
    assert leaving == []
