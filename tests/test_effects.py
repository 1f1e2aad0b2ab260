"""Effects on served firms, on the rest of the city and on cost (sim/effects.py), and their
place in sweeps and summaries."""

import numpy as np
import pandas as pd
import pytest

from sim import analysis, store
from sim.effects import GROUPS, PairTracker, compare
from sim.experiment import StudyError, load_study
from sim.model import MSMEModel
from sim.run import run
from sim.scenario import load
from sim.store import Store
from sim.sweep import SerialExecutor, sweep

CITY = dict(n_firms=3000, burn_in_months=240)


def _pair(scenario, baseline, months, seed=4):
    s, b = load(scenario), load(baseline) if isinstance(baseline, str) else baseline
    tracker = PairTracker(MSMEModel(s.params, rng=seed, events=s.events, **CITY),
                          MSMEModel(b.params, rng=seed, events=b.events, **CITY))
    served = []
    for _ in range(months):
        tracker.step()
        served.append((tracker.s.month, tracker.s.city.office.served_ids.copy()))
    return tracker, served


def test_a_scenario_against_itself_has_no_effect_anywhere():
    tracker, _ = _pair("opd_merger", "opd_merger", 48)
    t = tracker.table()
    assert (t["diff"] == 0).all()
    groups = t[t["part"].isin(GROUPS)].set_index(["part", "measure"])
    assert groups.loc[("served_by_baseline_only", "alive"), "n"] == 0


def test_groups_add_up_to_the_city_and_the_city_to_its_firm_count():
    tracker, _ = _pair("recommended_package", "baseline", 48)
    t = tracker.table()
    g = t[t["part"].isin(GROUPS)].pivot_table(index="measure", columns="part", values="diff")
    parts = g[["served_by_scenario", "served_by_baseline_only", "everyone_else"]].sum(axis=1)
    assert np.allclose(parts, g["net"], rtol=1e-9)
    alive = t[(t["part"] == "net") & (t["measure"] == "alive")].iloc[0]
    assert alive["in_scenario"] == tracker.s.city.firms.n and alive["in_baseline"] == tracker.b.city.firms.n
    n = t[(t["measure"] == "alive") & t["part"].isin(GROUPS[:3])]["n"].sum()
    assert n == tracker.s.city.firms.next_id  # every firm that ever existed, in exactly one group


def test_served_rows_follow_each_firm_from_its_first_service():
    tracker, served = _pair("recommended_package", "baseline", 40)
    first = {}
    for month, ids in served:
        for i in ids.tolist():
            first.setdefault(i, month)
    t = tracker.table()
    every = t[(t["part"] == "served") & (t["instrument"] == "all") & (t["measure"] == "alive")]
    due = sum(1 for m in first.values() if m <= 40 - 12)
    assert every.set_index("horizon").loc[12, "n"] == due > 20
    assert 36 in every["horizon"].tolist() and 60 not in every["horizon"].tolist()
    by_instrument = t[(t["part"] == "served") & (t["instrument"] != "all") & (t["measure"] == "alive")
                      & (t["horizon"] == 12)]
    assert by_instrument["n"].sum() == due
    # a firm that is alive in both runs counts 1 in each: shares lie in [0, 1]
    shares = t[(t["part"] == "served") & t["measure"].isin(["alive", "higher_class"])]
    assert ((shares[["in_scenario", "in_baseline"]] >= 0) & (shares[["in_scenario", "in_baseline"]] <= 1)).all().all()


def test_against_no_office_the_served_firms_gain_and_nothing_is_displaced():
    none = load("baseline")
    none = type(none)(**{**none.__dict__, "params": none.params.replace(office=False), "name": "no_office"})
    tracker, _ = _pair("baseline", none, 60)
    t = tracker.table().set_index(["part", "horizon", "instrument", "measure"])
    assert t.loc[("served_by_baseline_only", 60, "all", "alive"), "n"] == 0
    assert t.loc[("cost", 60, "all", "spend"), "in_baseline"] == 0
    assert t.loc[("cost", 60, "all", "spend"), "in_scenario"] > 0
    assert t.loc[("served", 36, "all", "capital"), "diff"] > 0  # grants and loans add capital
    assert t.loc[("served", 12, "all", "alive"), "diff"] >= 0


def test_comparing_does_not_change_the_scenarios_run():
    s, b = load("opd_merger"), load("baseline")
    alone = run(s.params.replace(**CITY), seed=2, months=40, events=s.events)
    paired = run(s.params.replace(**CITY), seed=2, months=40, events=s.events,
                 compare_with=(b.params.replace(**CITY), b.events))
    pd.testing.assert_frame_equal(alone.monthly, paired.monthly)
    assert alone.effects is None and set(paired.effects["part"]) == {"served", *GROUPS, "cost"}
    direct = compare("opd_merger", "baseline", seed=2, months=40, **CITY)
    pd.testing.assert_frame_equal(direct, paired.effects)


def test_a_pair_needs_one_seed():
    with pytest.raises(ValueError, match="one seed"):
        PairTracker(MSMEModel(rng=1, **CITY), MSMEModel(rng=2, **CITY))


STUDY = '''\
description = "a study with a baseline for effects"
scenarios = ["baseline", "recommended_package"]
baseline = "baseline"
replicates = 3
root_seed = 5
years = 4
[parameters]
n_firms = 2000
burn_in_months = 120
'''


def test_a_sweep_stores_effects_for_compared_runs_and_summarises_them(tmp_path):
    path = tmp_path / "fx.toml"
    path.write_text(STUDY)
    study = load_study(path)
    specs = study.runs()
    assert [s.baseline for s in specs] == [None] * 3 + ["baseline"] * 3
    db = Store(tmp_path / "out", study.fingerprint(), str(path))
    try:
        sweep(study, db, SerialExecutor())
    finally:
        db.close()
    tables = store.load(tmp_path / "out")
    fx = tables["effects"]
    assert set(fx["scenario"]) == {"recommended_package"} and fx["run_id"].nunique() == 3
    assert tables["runs"]["baseline"].isna().tolist() == [True] * 3 + [False] * 3
    assert (tables["runs"]["baseline"].dropna() == "baseline").all()
    one = fx[fx["replicate"] == 1].drop(columns=["scenario", "point", "replicate", "seed", "run_id"])
    direct = compare("recommended_package", "baseline", seed=specs[4].seed, months=48, n_firms=2000,
                     burn_in_months=120)
    pd.testing.assert_frame_equal(one.reset_index(drop=True), direct, check_dtype=False)
    text = analysis.report(tables)
    assert "effects on served firms and on the rest of the city (vs baseline" in text
    assert "served firms after 36 months: alive, pp" in text and "per job-year added" in text


def test_the_baseline_must_be_one_of_the_studys_scenarios(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(STUDY.replace('baseline = "baseline"', 'baseline = "opd_merger"'))
    with pytest.raises(StudyError, match="key 'baseline' = 'opd_merger' must name one of"):
        load_study(path)


def _effects(rows):
    return pd.DataFrame(rows)


def test_effect_intervals_and_cost_ratios_known_answers():
    rows = []
    for rep, (spend, jobs, sales) in enumerate([(10.0, 2.0, 100.0), (12.0, 3.0, 120.0), (14.0, 4.0, 140.0)]):
        for measure, diff in (("spend", spend), ("job_years", jobs), ("graduations", -1.0),
                              ("sales_total", sales)):
            rows.append(dict(scenario="x", point=0, replicate=rep, part="cost", horizon=48,
                             instrument="all", measure=measure, n=0, diff=diff))
        rows.append(dict(scenario="x", point=0, replicate=rep, part="net", horizon=48, instrument="all",
                         measure="workers", n=100, diff=float(rep)))
    fx = _effects(rows)
    ratios = analysis.cost_ratios(fx).set_index("label")
    per_job = ratios.loc["extra spending per job-year added, Rp M"]
    assert per_job["mean"] == pytest.approx(12.0 / 3.0)
    assert per_job["low"] <= 4.0 <= per_job["high"] and per_job["high"] - per_job["low"] < 2
    assert np.isnan(ratios.loc["extra spending per graduation added, Rp M", "mean"])  # no gain: n/a
    assert ratios.loc["extra spending per rupiah of extra MSME sales", "mean"] == pytest.approx(0.1)
    table = analysis.effect_table(fx).set_index("label")
    workers = table.loc["at the end, the whole city: workers"]
    assert workers["mean"] == 1.0 and workers["low"] < 1.0 < workers["high"] and workers["n"] == 3


def test_a_month_that_serves_only_firms_served_before_is_no_first_service():
    # a small city, a rich office and no wait to reapply: soon it serves only firms it served before
    s = load("baseline")
    kw = dict(n_firms=300, burn_in_months=120, reapply_months=0, office_throughput=20_000,
              office_budget=1e12, apply_rate=0.5, service_clarity=1.0)
    tracker = PairTracker(MSMEModel(s.params, rng=3, **kw), MSMEModel(s.params, rng=3, **kw))
    for _ in range(30):
        tracker.step()
    months = tracker.served_s.by_month
    assert any(len(months.get(m, [0])) == 0 for m in range(1, 19))  # reached 12 months later
    t = tracker.table()
    assert (t["diff"] == 0).all()  # the same scenario twice


def _cost_rows(gains, spends, scenario="x", point=0, measure="job_years"):
    rows = []
    for rep, (gain, spend) in enumerate(zip(gains, spends, strict=True)):
        for m, diff in (("spend", spend), (measure, gain)):
            rows.append(dict(scenario=scenario, point=point, replicate=rep, part="cost", horizon=48,
                             instrument="all", measure=m, n=0, diff=diff))
    return rows


def _ratio(rows, label="extra spending per job-year added, Rp M", **kw):
    fx = pd.DataFrame(rows)
    for m in ("graduations", "sales_total", "job_years"):  # every ratio needs its measure
        if m not in set(fx["measure"]):
            extra = fx[fx["measure"] == "spend"].assign(measure=m, diff=-1.0)
            fx = pd.concat([fx, extra], ignore_index=True)
    return analysis.cost_ratios(fx, **kw).set_index("label").loc[label]


def test_cost_ratio_needs_a_gain_clearly_above_zero():
    # the lower end of the gain's t interval must be above zero: [2, 2.1, 2.2] is, [1, 2, 3] is not
    assert _ratio(_cost_rows([2.0, 2.1, 2.2], [6.3, 6.3, 6.3]))["mean"] == pytest.approx(3.0)
    assert np.isnan(_ratio(_cost_rows([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))["mean"])
    assert np.isnan(_ratio(_cost_rows([0.0, 0.0, 0.0], [5.0, 5.0, 5.0]))["mean"])  # no gain at all
    two = _ratio(_cost_rows([2.0, 2.2], [4.0, 4.4]))  # two seeds: a ratio, too few for a bootstrap
    assert two["mean"] == pytest.approx(2.0) and np.isnan(two["low"]) and np.isnan(two["high"])
    one = _ratio(_cost_rows([2.0], [4.0]))
    assert np.isnan(one["mean"])  # one seed: no interval, no claim


def test_cost_ratio_bootstrap_interval_is_seeded_and_known():
    gains = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    spends = [10.0, 18.0, 33.0, 40.0, 52.0, 57.0]
    a = _ratio(_cost_rows(gains, spends))
    b = _ratio(_cost_rows(gains, spends))
    assert (a["low"], a["high"]) == (b["low"], b["high"])  # the same table every time
    assert a["mean"] == pytest.approx(sum(spends) / sum(gains))
    # golden: scipy.stats.bootstrap, percentile, 2,000 paired resamples, rng 0
    assert (a["low"], a["high"]) == pytest.approx((9.5294, 10.4805), abs=1e-3)
    narrow = _ratio(_cost_rows(gains, spends), level=0.5)
    assert a["low"] < narrow["low"] < narrow["high"] < a["high"]


def test_effect_table_selects_each_part_horizon_and_scenario():
    rows = []
    for scenario, point, shift in (("a", 0, 0.0), ("b", 1, 100.0)):
        for rep in range(3):
            for horizon, value in ((12, 1.0), (36, 2.0), (60, 3.0)):
                for instrument, extra in (("all", 0.0), ("training", 50.0)):
                    rows.append(dict(scenario=scenario, point=point, replicate=rep, part="served",
                                     horizon=horizon, instrument=instrument, measure="alive", n=10 + rep,
                                     diff=shift + value + extra + rep))
            rows.append(dict(scenario=scenario, point=point, replicate=rep, part="net", horizon=120,
                             instrument="all", measure="alive", n=1000, diff=-1.0 - rep))
            rows.append(dict(scenario=scenario, point=point, replicate=rep, part="everyone_else",
                             horizon=120, instrument="all", measure="alive", n=900, diff=7.0))
    table = analysis.effect_table(pd.DataFrame(rows))
    got = table.set_index(["scenario", "label"])
    served = got.loc[("a", "served firms after 36 months: alive, pp")]
    assert served["mean"] == pytest.approx(3.0) and served["n"] == 3 and served["firms"] == 11
    assert served["point"] == 0
    assert got.loc[("b", "served firms after 36 months: alive, pp"), "mean"] == pytest.approx(103.0)
    assert got.loc[("b", "served firms after 36 months: alive, pp"), "point"] == 1
    net = got.loc[("a", "at the end, the whole city: firms")]
    assert net["mean"] == pytest.approx(-2.0) and net["low"] < -2.0 < net["high"]
    lo, hi = net["low"], net["high"]
    assert hi - lo == pytest.approx(2 * 4.302653 * 1.0 / np.sqrt(3), rel=1e-5)  # t(2), sd 1
    assert ("a", "at the end, everyone else: annual sales, Rp bn") not in got.index  # alive is not sales
    assert list(table["scenario"].unique()) == ["a", "b"]


def test_effects_report_prints_labels_values_and_intervals():
    rows = _cost_rows([2.0, 2.1, 2.2], [5.25e6, 5.25e6, 5.25e6], scenario="merger")
    for rep in range(3):
        rows.append(dict(scenario="merger", point=0, replicate=rep, part="net", horizon=48,
                         instrument="all", measure="sales", n=500, diff=2e9 + 1e9 * rep))
    fx = pd.DataFrame(rows).assign(baseline_name="today")
    for m in ("graduations", "sales_total"):
        fx = pd.concat([fx, fx[fx["measure"] == "spend"].assign(measure=m, diff=-1.0)], ignore_index=True)
    lines = analysis.effects_report(fx)
    text = "\n".join(lines)
    assert lines[0] == "  effects on served firms and on the rest of the city (vs today, same firms, same seeds)"
    i = lines.index("    at the end, the whole city: annual sales, Rp bn")
    assert lines[i + 1].split() == ["merger", "+3.00", "[+0.52,", "+5.48]", "n=3"]
    j = lines.index("    extra spending per job-year added, Rp M")
    assert lines[j + 1].split()[:2] == ["merger", "2.5"]
    k = lines.index("    extra spending per graduation added, Rp M")
    assert lines[k + 1].split()[:2] == ["merger", "n/a"]
    assert "negative: it spends less and gains" in text
    several = analysis.effects_report(fx, several_points=True)
    assert any(line.split()[:2] == ["merger", "#0"] for line in several)


def test_cost_ratio_bootstrap_with_resamples_of_no_gain_warns_nothing():
    """Whole graduations: some resamples of [0, 0, 1, 1, 1, 1] gain nothing, so their ratio is
    infinite. That is part of the answer (it sorts above every finite ratio), not a numpy warning
    on the user's terminal (the quick study printed two)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 20,000 resamples: about 27 draw only the two zeros (1 in 729)
        r = _ratio(_cost_rows([0.0, 0.0, 1.0, 1.0, 1.0, 1.0], [5.0] * 6), resamples=20_000)
    assert r["mean"] == pytest.approx(7.5) and r["low"] == pytest.approx(5.0) and 7.5 < r["high"] < np.inf
