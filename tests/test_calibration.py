"""The default city against CALIBRATION.md, and its stationarity (month 0 vs month 120).

Bands are deliberately loose: the model is judged on patterns, not tuned to decimals.
See docs/calibration.md for the values and how each default was chosen.
"""

import numpy as np
import pytest

from sim.classes import classify
from sim.run import run

pytestmark = pytest.mark.calibration  # the full default city for ten years


@pytest.fixture(scope="module")
def default_run():
    return run(seed=2024, months=120, snapshot_months=[0, 120], size_law="law20_2008")


def _shares(snap):
    counts = snap["size_class"].value_counts(normalize=True)
    return {k: float(counts.get(k, 0.0)) for k in ("micro", "small", "medium")}


def test_size_shares_law20_2008(default_run):
    s = _shares(default_run.snapshots[120])
    assert 0.975 <= s["micro"] <= 0.992  # KemenKopUKM 2019: 98.67 %
    assert 0.007 <= s["small"] <= 0.025  # 1.22 %
    assert 0.0003 <= s["medium"] <= 0.003  # 0.10 %


def test_no_missing_middle(default_run):
    snap = default_run.snapshots[120]
    sales = snap["annual_sales"][snap["annual_sales"] > 0]
    hist, _ = np.histogram(np.log10(sales), bins=np.arange(6.5, 11.0, 0.5))
    peak = int(np.argmax(hist))
    assert (np.diff(hist[peak:]) <= 0).all()  # one mode, then falling with size


def test_survival_of_entrants(default_run):
    s = default_run.survival
    assert 0.55 <= s[24] <= 0.75  # Knaup 2005: ~66 % after 2 years
    assert 0.35 <= s[48] <= 0.55  # ~44 % after 4 years
    hazard_young = 1 - s[12]
    hazard_older = 1 - s[60] / s[48]
    assert hazard_older < hazard_young  # exit hazard falls with age


def test_export_share(default_run):
    from sim import validate
    share = default_run.monthly["export_share"].iloc[1:].mean()
    band = {t.key: t for t in validate.TARGETS}["export_share"]  # 1.4-3.5 % of MSME sales
    assert band.low <= 100 * share <= band.high


def test_population_and_composition_are_stationary(default_run):
    m = default_run.monthly
    n0, n1 = m["firms"].iloc[0], m["firms"].iloc[-1]
    assert abs(n1 / n0 - 1) < 0.03
    assert abs(n0 / 90_000 - 1) < 0.10  # about the census count (validate: 0.9-1.1 x; calibrated: 1.06 x)
    a, b = (_shares(default_run.snapshots[k]) for k in (0, 120))
    assert abs(a["micro"] - b["micro"]) < 0.003
    assert abs(a["small"] - b["small"]) < 0.004
    first, last = m.iloc[1:13], m.iloc[-12:]
    assert abs(last["sales"].mean() / first["sales"].mean() - 1) < 0.05
    assert abs(last["sales_gini"].mean() - first["sales_gini"].mean()) < 0.03


def test_pp7_2021_micro_share_higher_than_law20_2008(default_run):
    snap = default_run.snapshots[120]
    pp = classify("pp7_2021", snap["capital"].to_numpy(), snap["annual_sales"].to_numpy(),
                  snap["age_months"].to_numpy())
    assert (pp == 0).mean() > _shares(snap)["micro"]


@pytest.mark.parametrize("firms", [10_000, 20_000, 40_000])
def test_no_firm_takes_the_city(firms):
    """A burn-in of each size (40,000 is the default city's) ends in a city of many firms, not
    one firm with most of the demand (with quality a random walk, one firm's quality could wander
    far enough for that: a 20,000-firm burn-in once ended with 99 % of demand in one firm). A
    large firm (Rp 40 bn a year) is 8 % of a 10,000-firm city's MSME sales, so the bound is 20 %."""
    r = run(n_firms=firms, seed=1, months=12, snapshot_months=[12])
    snap = r.snapshots[12]
    share = snap["annual_sales"] / snap["annual_sales"].sum()
    assert share.max() < 0.2
    assert 0.9 < len(snap) / firms < 1.15
