"""msme-sim validate: known answers on hand-made tables for the figures the other tests left loose
(each test was written against a planted bug that the rest of the suite let through). No simulation."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import grants
from sim import measures as ms
from sim import validate as val
from tests.test_validate import firms  # the same hand-made firm tables


# -- growth of survivors ---------------------------------------------------------------------------
def test_growth_table_drops_firms_without_sales_a_year_later():
    # guards growth_table: a survivor with no sales in the second year has no log growth (not -inf)
    before = firms(firm_id=[1, 2], age_months=[24, 24], annual_sales=[10.0, 10.0])
    after = firms(firm_id=[1, 2], annual_sales=[20.0, 0.0])
    g = ms.growth_table(before, after)
    assert g["firm_id"].tolist() == [1] and g["growth"].tolist() == pytest.approx([np.log(2)])


def test_old_firms_are_those_at_least_120_months_old():
    # guards ms.OLD: 119 months is not "10 years or more", 120 is
    before = firms(firm_id=[1, 2, 3], age_months=[119, 120, 121], annual_sales=[10.0] * 3)
    after = firms(firm_id=[1, 2, 3], annual_sales=[20.0, 40.0, 80.0])
    g = ms.yearly_growth({0: before, 12: after})
    assert ms.mean_growth(g, ms.OLD) == pytest.approx((np.log(4) + np.log(8)) / 2)


def test_mean_growth_is_a_mean_not_a_median():
    # guards mean_growth's mean (a median would hide the fast growers)
    g = pd.DataFrame(dict(age_months=[20, 30, 40], growth=[0.0, 0.0, 0.9]))
    assert ms.mean_growth(g, *ms.YOUNG) == pytest.approx(0.3)


def test_decile_table_known_answer():
    # guards decile_table: mean (not median) size, and the SD with ddof = 1
    g = pd.DataFrame(dict(size=[1.0, 2.0, 6.0, 10.0, 20.0, 60.0], growth=[0.1, 0.3, 0.8, -0.2, 0.4, 0.1],
                          month=0))
    d = ms.decile_table(g, 2)
    assert d["mean_size"].tolist() == pytest.approx([3.0, 30.0])
    assert d["mean_growth"].tolist() == pytest.approx([0.4, 0.1])
    assert d["sd_growth"].tolist() == pytest.approx([np.std([0.1, 0.3, 0.8], ddof=1), np.std([-0.2, 0.4, 0.1], ddof=1)])
    assert d["firms"].tolist() == [3, 3]


def test_volatility_slope_and_intercept_of_an_exact_power_law():
    # guards volatility_slope: natural logs of SD (not variance) on size; empty or zero-SD groups left out
    size = np.array([1e6, 1e7, 1e8, 1e9, 1e10, 1e11])
    sd = 0.5 * size**-0.2
    sd[4], sd[5] = 0.0, np.nan
    slope, intercept = ms.volatility_slope(pd.DataFrame(dict(mean_size=size, sd_growth=sd)))
    assert slope == pytest.approx(-0.2) and intercept == pytest.approx(np.log(0.5))


def test_tent_shape_known_answer():
    # guards tent_shape: maximum-likelihood fits, mean log-likelihood per observation, biased excess kurtosis
    z = np.array([-3.0, -1, -0.5, 0, 0.2, 0.5, 1, 1.5, 2, 4, 7])
    b = np.mean(np.abs(z - np.median(z)))  # Laplace MLE: median and mean absolute deviation
    s = z.std(ddof=0)  # normal MLE
    t = ms.tent_shape(z)
    assert (t["laplace_loc"], t["laplace_scale"]) == pytest.approx((0.5, b))
    assert (t["normal_loc"], t["normal_scale"]) == pytest.approx((z.mean(), s))
    assert t["loglik_diff"] == pytest.approx((-np.log(2 * b) - 1) - (-0.5 * np.log(2 * np.pi * s**2) - 0.5))
    m = z - z.mean()
    assert t["excess_kurtosis"] == pytest.approx(np.mean(m**4) / np.mean(m**2) ** 2 - 3)


# -- the size distribution -------------------------------------------------------------------------
def test_size_histogram_by_distinct_firms_uses_np_histograms_bins_at_the_edges():
    # guards size_histogram with ids: a value on a bin edge goes up (the last edge is inclusive), as np.histogram
    sales = np.array([1e6, 1e7, 1e7, 1e8])
    assert ms.size_histogram(sales).to_dict() == {6.0: 1, 6.5: 0, 7.0: 2, 7.5: 1}
    assert ms.size_histogram(sales, ids=np.array([1, 2, 3, 4])).to_dict() == {6.0: 1, 6.5: 0, 7.0: 2, 7.5: 1}


def test_rises_above_mode_starts_at_the_mode_of_the_counts():
    # guards rises_above_mode: the mode is the bin with most observations, whatever the distinct-firm counts
    assert ms.rises_above_mode([50, 100, 80, 90], 10, firms=[60, 40, 30, 35]) == 1


def test_rises_above_mode_without_a_bin_of_enough_firms_is_0():
    # guards rises_above_mode: no bin with min_count firms means nothing to scan
    assert ms.rises_above_mode([5, 3, 4], 10) == 0


def test_mean_by_age_years_whole_years_up_to_max_years():
    # guards mean_by_age_years (the log size by age curve): whole years, max_years included
    snap = firms(age_months=[0, 11, 12, 23, 480, 491, 492])
    by_age = ms.mean_by_age_years(snap, pd.Series([1.0, 3, 5, 7, 9, 11, 13], index=snap.index))
    assert by_age.to_dict() == {0: 2.0, 1: 6.0, 40: 10.0}


def test_workers_old_over_young_age_windows_and_means():
    # guards workers_old_over_young: young < 60 months, old 420 <= age < 480, means not medians
    snap = firms(age_months=[0, 59, 60, 419, 420, 430, 479, 480],
                 workers=[1.0, 1.0, 50.0, 50.0, 1.0, 2.0, 9.0, 50.0])
    assert ms.workers_old_over_young(snap) == pytest.approx(4.0)


# -- classes and graduation ------------------------------------------------------------------------
def test_by_class_means_is_a_mean_not_a_median():
    # guards by_class_means (workers and sales per class): the mean
    snap = firms(capital=[10e6] * 3, annual_sales=[100e6] * 3, workers=[1.0, 2.0, 6.0])
    assert ms.by_class_means(snap, "law20_2008", "workers")["micro"] == pytest.approx(3.0)


def test_graduation_counts_a_jump_from_micro_to_medium():
    # guards graduation_rate: "small or larger", not "small"
    before = firms(firm_id=[1, 2], registered=[True, True], capital=[10e6] * 2, annual_sales=[100e6] * 2)
    after = firms(firm_id=[1, 2], capital=[1e9, 10e6], annual_sales=[10e9, 100e6])
    assert ms.graduation_rate(before, after, "law20_2008") == (1, 2)


# -- one run into one row per target -----------------------------------------------------------------
def _three_snapshots():
    """Month 0 (not counted for levels), 12 and 24; Law 20/2008: 1 micro firm cap 50 M or sales 300 M."""
    s0 = firms(firm_id=[1, 2, 3, 5], age_months=[12, 118, 36, 200], capital=[10e6] * 4,
               annual_sales=[50e6, 200e6, 250e6, 100e6], workers=[9.0] * 4,
               registered=[True, False, True, True])
    s12 = firms(firm_id=[1, 2, 3, 4], age_months=[24, 130, 48, 60], capital=[10e6, 10e6, 100e6, 1e9],
                annual_sales=[100e6, 200e6, 1e9, 10e9], workers=[1.0, 3.0, 5.0, 50.0],
                registered=[True, True, False, False])
    s24 = firms(firm_id=[1, 2, 3], age_months=[36, 142, 60], capital=[10e6, 10e6, 100e6],
                annual_sales=[150e6, 100e6, 1.5e9], workers=[2.0, 4.0, 7.0])
    return {0: s0, 12: s12, 24: s24}


def test_measure_snapshots_class_figures_known_answer():
    # guards measure_snapshots: shares averaged over the yearly snapshots after month 0 (not pooled,
    # month 0 left out), PP 7/2021 minus Law 20/2008, pooled means per class, sales in Rp M
    v, curves = val.measure_snapshots(_three_snapshots())
    # Law 20/2008: month 12 micro 1, 2, small 3, medium 4; month 24 micro 1, 2, small 3
    assert v["share_micro"] == pytest.approx(100 * (2 / 4 + 2 / 3) / 2)
    assert v["share_small"] == pytest.approx(100 * (1 / 4 + 1 / 3) / 2)
    assert v["share_medium"] == pytest.approx(100 * (1 / 4 + 0) / 2)
    assert v["micro_pp7_minus_law20"] == pytest.approx(100 * (3 / 4 + 1) / 2 - v["share_micro"])
    assert (v["workers_micro"], v["workers_small"], v["workers_medium"]) == pytest.approx((2.5, 6.0, 50.0))
    assert (v["sales_micro"], v["sales_small"], v["sales_medium"]) == pytest.approx((137.5, 1250.0, 10_000.0))
    assert curves["shares_law20"]["small"] == pytest.approx(v["share_small"])


def test_drift_counts_are_small_and_medium_firms_at_the_first_and_last_snapshot_under_each_law():
    # guards measure_snapshots' start and end counts of the drift rows (counts, not shares; the
    # first snapshot, month 0 included; PP 7/2021 and Law 20/2008 each in its own figure)
    v, _ = val.measure_snapshots(_three_snapshots())
    # month 0: all micro under both laws; month 24: firm 3 (capital 100 M, sales 1.5 bn) is small
    # under Law 20/2008 only (PP 7/2021: micro up to Rp 2 bn of sales)
    assert (v["small_medium_start"], v["small_medium_law20_start"]) == (0, 0)
    assert (v["small_medium_end"], v["small_medium_law20_end"]) == (0, 1)
    s = _three_snapshots()
    v, _ = val.measure_snapshots({0: s[12], 12: s[24]})
    # month 12 as the start: firms 3 and 4 above micro under Law 20/2008, firm 4 (Rp 10 bn) under PP 7/2021
    assert (v["small_medium_start"], v["small_medium_law20_start"]) == (1, 2)


def test_measure_snapshots_stock_death_is_over_60_months_from_the_first_snapshot():
    # guards measure_snapshots' stock_death_5y: the first snapshot's firms, 60 months on, in %
    s = _three_snapshots()
    snaps = {0: s[0], 12: s[12], 24: s[24], 60: s[24].iloc[:1]}
    v, _ = val.measure_snapshots(snaps)
    assert v["stock_death_5y"] == pytest.approx(75.0)  # of firms 1, 2, 3, 5 only 1 is there at month 60
    v, _ = val.measure_snapshots(s)
    assert np.isnan(v["stock_death_5y"])


def test_measure_snapshots_growth_and_graduation_known_answer():
    # guards measure_snapshots: growth by age (young 12-47 months, old >= 120) and graduation pooled over years
    v, _ = val.measure_snapshots(_three_snapshots())
    young = (np.log(2) + np.log(4) + np.log(1.5)) / 3  # 1 and 3 from month 0, 1 from month 12
    old = np.log(0.5)  # 2 from month 12 (118 months at month 0 is neither)
    assert v["growth_young"] == pytest.approx(young) and v["growth_old"] == pytest.approx(old)
    assert v["growth_young_minus_old"] == pytest.approx(young - old)
    # registered micro firms: 1, 3, 5 at month 0 (3 moves up), 1, 2 at month 12 (none): 1 of 5
    assert v["graduation"] == pytest.approx(20.0)
    assert np.isnan(v["growth_small_minus_large"]) and np.isnan(v["volatility_slope"])  # too few firms


def test_measure_snapshots_missing_middle_counts_distinct_firms():
    # guards measure_snapshots: a bin seen twice over the years needs 10 distinct firms to count
    sales = [10**6.1] * 30 + [10**6.6] * 3 + [10**7.1] * 6  # the last bin: 6 firms, 12 observations
    snap = firms(firm_id=np.arange(39), annual_sales=np.array(sales))
    v, _ = val.measure_snapshots({0: snap, 12: snap, 24: snap})
    assert v["missing_middle"] == 0.0


def _fake_run():
    rates = np.repeat([0.02, 0.015, 0.012, 0.01, 0.008, 0.006], 12)  # monthly exit rate, year by year
    survival = pd.Series(np.concatenate([[1.0], np.cumprod(1 - rates)]), index=np.arange(73))
    month = np.arange(41)
    monthly = pd.DataFrame(dict(
        export_share=np.where(month == 0, 0.9, 0.15), registered_share=np.where(month == 0, 0.9, 0.4),
        firms=np.where(month == 0, 2000, np.where(month % 2, 900, 1100)), served=month.astype(float),
        sales=1e6 * month))
    return SimpleNamespace(snapshots=_three_snapshots(), survival=survival, monthly=monthly,
                           params=SimpleNamespace(n_firms=1000), seed=7)


def test_measure_run_known_answer():
    # guards measure_run: survival ages, the hazard years (1 minus 5), means over months 1 … end, served in 30 months
    r = val.measure_run(_fake_run())
    v = r.values
    assert r.seed == 7 and list(v) == list(val.TARGET_KEYS + val.AUX_KEYS)
    assert v["survival_24"] == pytest.approx(100 * 0.98**12 * 0.985**12)
    assert v["survival_48"] == pytest.approx(100 * 0.98**12 * 0.985**12 * 0.988**12 * 0.99**12)
    assert v["hazard_falls"] == pytest.approx(100 * ((1 - 0.98**12) - (1 - 0.992**12)))
    assert v["export_share"] == pytest.approx(15.0) and v["registered_share"] == pytest.approx(40.0)
    assert v["firms_ratio"] == pytest.approx(1.0)
    assert v["served_30m"] == pytest.approx(sum(range(11, 41)) * 90_000 / 1000)
    assert np.isnan(v["grant_return_growth"])  # filled in by run_seeds
    # the drift rows' start and end: firms at month 0 and at the end, sales in months 1-12 and the last 12
    assert (v["firms_start"], v["firms_end"]) == (2000, 1100)
    assert v["sales_first_year"] == 1e6 * sum(range(1, 13)) and v["sales_last_year"] == 1e6 * sum(range(29, 41))


def test_run_seeds_puts_each_grant_group_in_its_own_row(monkeypatch):
    # guards run_seeds: subsistence -> grant_return_subsistence, growth-oriented constrained -> grant_return_growth
    import sim.run
    monkeypatch.setattr(sim.run, "run", lambda params, **kw: SimpleNamespace(seed=kw["seed"]))
    monkeypatch.setattr(val, "measure_run", lambda result: val.SeedResult(result.seed, {}))
    monkeypatch.setattr(grants, "grant_experiment", lambda params, seed: None)
    from sim import trials
    monkeypatch.setattr(trials, "training_experiment", lambda params, seed: None)
    monkeypatch.setattr(trials, "summarise_training", lambda trial: {"sales": 6.0, "profit": 8.0, "fade": 0.4,
                                                                    "others_sales": -0.3, "n": 50.0})
    monkeypatch.setattr(trials, "large_grant_trial", lambda params, seed: {"treated": 3.0, "control": 1.0,
                                                                          "effect_pp": 2.0, "n": 800.0})
    monkeypatch.setattr(grants, "summarise", lambda table: {"all": 9.0, "subsistence": 0.5, "growth_constrained": 5.0,
                                                           "n_subsistence": 900.0, "n_growth_constrained": 40.0,
                                                           "frame": 1.0, "frame_growth": 4.0,
                                                           "frame_subsistence": 0.4, "n_frame": 2000.0})
    (r,) = val.run_seeds([3], n_firms=1000, years=1)
    assert r.seed == 3
    assert (r.values["grant_return_subsistence"], r.values["grant_return_growth"]) == (0.5, 5.0)
    assert r.values["grant_n_growth"] == 40.0  # the firms behind the row, in validation-seeds.csv
    assert (r.values["grant_return_frame"], r.values["grant_frame_growth"], r.values["grant_frame_subsistence"],
            r.values["grant_n_frame"]) == (1.0, 4.0, 0.4, 2000.0)
    assert (r.values["training_sales"], r.values["training_profit"], r.values["training_fade"],
            r.values["training_others_sales"]) == (6.0, 8.0, 0.4, -0.3)
    assert (r.values["large_grant_workers"], r.values["large_grant_control"]) == (2.0, 1.0)


# -- verdicts over seeds ---------------------------------------------------------------------------
def _per_seed(**columns):
    inside = {t.key: (t.low + 1 if t.high is None else t.high - 1 if t.low is None else (t.low + t.high) / 2)
              for t in val.TARGETS}
    table = pd.DataFrame([{"seed": s, **inside} for s in (1, 2, 3)])
    for k, values in columns.items():
        table[k] = values
    return table


def test_a_row_is_judged_on_the_mean_over_seeds_not_on_an_interval_bound():
    # guards summarise: the mean passes the band even when the interval crosses it
    table = val.summarise(_per_seed(share_micro=[98.0, 98.6, 99.2]), 120).set_index("key")
    row = table.loc["share_micro"]
    assert row["model"] == pytest.approx(98.6) and row["ci_low"] < 98.0
    assert row["status"] == "pass"
    low = val.summarise(_per_seed(share_micro=[97.3, 97.9, 98.5]), 120).set_index("key")
    assert low.loc["share_micro", "status"] == "fail" and low.loc["share_micro", "ci_high"] > 98.0


def test_a_seed_that_cannot_measure_a_row_is_left_out_of_its_mean():
    # guards summarise: NaN seeds dropped, not counted as 0
    row = val.summarise(_per_seed(growth_old=[0.01, np.nan, 0.03]), 120).set_index("key").loc["growth_old"]
    half = stats.t.ppf(0.975, 1) * np.std([0.01, 0.03], ddof=1) / np.sqrt(2)
    assert (row["model"], row["ci_low"], row["ci_high"]) == pytest.approx((0.02, 0.02 - half, 0.02 + half))


# -- the grant experiment ---------------------------------------------------------------------------
class _StillCity:
    """A city that does not change: the grant experiment's bookkeeping without a simulation."""

    def __init__(self, p, keys, table, record=False):
        self.p, self.firms = p, table

    def step(self):
        pass


def test_grant_return_is_extra_profit_per_month_over_the_grant(monkeypatch):
    # guards grant_experiment: gain summed over the months, divided by months x grant; constrained = at capacity
    from sim import trials
    monkeypatch.setattr(trials, "City", _StillCity)
    monkeypatch.setattr(trials, "initial_table", lambda p, keys, use_cache=True: {
        "firm_id": np.arange(4), "growth_oriented": np.array([True, True, False, False]),
        "utilisation": np.array([1.0, 0.9995, 0.95, 0.5]), "capital": np.full(4, 1e7)})
    # profit 2 % of capital a month: the grant earns 2 % of itself every month
    monkeypatch.setattr(grants, "_profit", lambda city, ids: 0.02 * city.firms["capital"][ids])
    from sim.params import Parameters
    table = grants.grant_experiment(Parameters(), 1, grant=1e6, share=1.0, months=3)
    assert table["return_pct"].to_numpy() == pytest.approx([2.0] * 4)
    assert table["constrained"].tolist() == [True, True, False, False]


def test_a_firm_at_exactly_the_utilisation_bound_is_constrained_and_censused(monkeypatch):
    # guards grant_experiment's ">= 0.999" (utilisation is float32, compared with 0.999 in float32)
    from sim import trials
    monkeypatch.setattr(trials, "City", _StillCity)
    monkeypatch.setattr(trials, "initial_table", lambda p, keys, use_cache=True: {
        "firm_id": np.arange(3), "growth_oriented": np.array([True, True, False]),
        "utilisation": np.array([0.999, 0.998, 0.999], dtype=np.float32), "capital": np.full(3, 1e7)})
    monkeypatch.setattr(grants, "_profit", lambda city, ids: 0.02 * city.firms["capital"][ids])
    from sim.params import Parameters
    # a share so small nobody is drawn at random: only the census treats
    table = grants.grant_experiment(Parameters(), 1, grant=1e6, share=1e-12, months=1)
    assert table["firm_id"].tolist() == [0] and table["constrained"].tolist() == [True]
    assert not table["random"].any()


def test_grant_summary_is_a_mean_over_firms():
    # guards grants.summarise: the mean (a few firms with large returns count)
    table = pd.DataFrame({"firm_id": range(3), "growth_oriented": [False] * 3, "constrained": [True] * 3,
                          "random": [True] * 3, "capital": 1e6, "return_pct": [0.0, 0.0, 9.0]})
    assert grants.summarise(table)["subsistence"] == pytest.approx(3.0)


def test_a_one_year_run_measures_every_row_but_survival_hazard_and_the_office_count():
    # guards TARGETS' min_months: only the rows that need more than 12 months are n/a in a one-year run
    table = val.summarise(_per_seed(), 12)
    assert set(table.loc[table["status"] == "n/a", "key"]) == {"survival_24", "survival_48", "hazard_falls",
                                                                "stock_death_5y", "served_30m", *val.DRIFT}
