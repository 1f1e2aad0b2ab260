"""Paired comparisons (sim.compare): interval coverage on synthetic paired data with a known
difference, Holm's adjustment, and the command on a small stored study."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import compare

CLI = [sys.executable, "-m", "sim.cli"]


def test_intervals_cover_a_known_difference_at_least_93_percent_of_the_time():
    """400 synthetic studies of 20 paired seeds: a shared seed effect (large), a skewed policy
    effect with known mean 2.0, and noise. The t and the BCa intervals must each cover 2.0 in at
    least 93 % of the studies at nominal 95 %."""
    rng = np.random.default_rng(7)
    covered_t = covered_bca = 0
    trials = 400
    for _ in range(trials):
        seed_effect = rng.normal(100.0, 30.0, 20)
        base = seed_effect + rng.normal(0, 1, 20)
        scen = seed_effect + rng.gamma(4.0, 0.5, 20) + rng.normal(0, 1, 20)  # mean diff 2.0
        e = compare.paired_effect(scen - base, base, resamples=999, seed=int(rng.integers(1 << 30)))
        covered_t += e["t_low"] <= 2.0 <= e["t_high"]
        covered_bca += e["bca_low"] <= 2.0 <= e["bca_high"]
    assert covered_t / trials >= 0.93, covered_t / trials
    assert covered_bca / trials >= 0.93, covered_bca / trials


def test_paired_effect_reports_relative_change_and_shares():
    e = compare.paired_effect([1.0, 2.0, -1.0, 0.0], [10.0, 10.0, 10.0, 10.0], resamples=99)
    assert e["n"] == 4 and e["mean"] == 0.5 and e["relative"] == 0.05
    assert e["share_better"] == 0.5 and e["share_worse"] == 0.25
    assert e["t_low"] < 0.5 < e["t_high"]
    three = compare.paired_effect([1.0, 2.0, 4.0], [10.0] * 3, resamples=199)  # the smallest bootstrapped n
    assert 0 < three["p"] < 1 and three["bca_low"] < three["mean"] < three["bca_high"]
    same = compare.paired_effect([3.0, 3.0, 3.0], [1.0, 1.0, 1.0])
    assert same["bca_low"] == same["bca_high"] == 3.0 and same["p"] == 0.0


def test_holm_adjustment_known_answer():
    # p = (0.01, 0.04, 0.03, nan): sorted 0.01*3, 0.03*2, 0.04*1 -> 0.03, 0.06, 0.06 (monotone)
    np.testing.assert_allclose(compare.holm([0.01, 0.04, 0.03, np.nan]), [0.03, 0.06, 0.06, np.nan])
    np.testing.assert_allclose(compare.holm([0.5, 0.9]), [1.0, 1.0])


def _study(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('description = "t"\nscenarios = ["baseline", "recommended_package"]\n'
                    'baseline = "baseline"\nreplicates = 4\nyears = 2\nroot_seed = 3\n'
                    "[parameters]\nn_firms = 1500\nburn_in_months = 120\n")
    return str(path)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    r = subprocess.run([*CLI, "sweep", _study(tmp), "--out", "res", "--workers", "0", "--quiet"],
                       capture_output=True, text=True, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp


@pytest.mark.subprocess
def test_compare_command_on_a_small_study(small_store):
    tmp_path = small_store
    r = subprocess.run([*CLI, "compare", "res", "--resamples", "199"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "paired differences from baseline" in r.stdout and "recommended_package (n = 4 seeds)" in r.stdout
    assert "effects on served firms and on the rest of the city" in r.stdout
    table = pd.read_csv(tmp_path / "res" / "compare.csv")
    served = table[table["outcome"] == "served"].iloc[0]
    assert served["scenario"] == "recommended_package" and served["n"] == 4
    assert served["mean"] > 0 and served["t_low"] > 0 and served["share_better"] == 1.0
    assert table["p_holm"].dropna().ge(table["p"].dropna()).all()
    time = pd.read_csv(tmp_path / "res" / "compare_over_time.csv")
    assert set(time["month"]) == set(range(25)) and "firms served so far" in set(time["label"])
    md = (tmp_path / "res" / "compare.md").read_text()
    assert "| firms served by the office |" in md and "### Effects on served firms" in md
    # the last month of the differences over time is the headline's paired difference
    from sim import store
    tables = store.load(tmp_path / "res")
    last = time[time["month"] == 24].set_index("outcome")
    head = table.set_index("outcome")
    for outcome, headline, scale in (("served", "served", 1), ("registered_share", "registered_end", 100)):
        np.testing.assert_allclose(last.loc[outcome, ["mean", "low", "high"]].astype(float),
                                   head.loc[headline, ["mean", "t_low", "t_high"]].astype(float) * scale,
                                   rtol=1e-9)
    flipped = compare.over_time(tables, "recommended_package")
    assert set(flipped["scenario"]) == {"baseline"}
    served_end = flipped[(flipped["outcome"] == "served") & (flipped["month"] == 24)]["mean"].iloc[0]
    assert served_end == pytest.approx(-head.loc["served", "mean"])
    bad = subprocess.run([*CLI, "compare", "res", "--baseline", "nope"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert bad.returncode == 2 and "no scenario 'nope' to compare with" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.subprocess
@pytest.mark.parametrize("args,fragment", [
    (["compare", "{store}", "--resamples", "0"], "--resamples 0: give 100 to 1,000,000"),
    (["sensitivity", "{store}", "--resamples", "-5"], "--resamples -5: give 100 to 1,000,000"),
    (["compare", "{store}", "--outcomes", "profit"], "unknown outcome 'profit'"),
    (["compare", "{store}", "--out", "/proc/no/such"], "--out '/proc/no/such': cannot write there"),
    (["report", "{store}", "--out", "/proc/no/such"], "--out '/proc/no/such': cannot write there"),
    (["sensitivity", "{store}"], "this study has no [design] (one point per scenario)"),
    (["compare", "{missing}"], "no result store at"),
])
def test_bad_requests_to_the_analysis_commands_are_refused_cleanly(small_store, tmp_path, args, fragment):
    args = [a.format(store=str(small_store / "res"), missing=str(tmp_path / "nothing")) for a in args]
    bad = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and fragment in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
