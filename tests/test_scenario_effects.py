"""Scenarios end to end: a stored sweep run is the direct run of its spec, every shipped scenario
runs past its last event, and each moves the outcomes it exists to move (paired seeds).

Each documented effect must be *clear*: the same sign in every seed, and a mean paired difference
at least three times its spread across seeds. Where the model gives no effect, the test says so and why.
"""

import numpy as np
import pandas as pd
import pytest

from sim import store
from sim.experiment import load_study
from sim.run import run, run_scenario
from sim.scenario import load
from sim.store import Store
from sim.sweep import SerialExecutor, sweep

from .test_scenarios import SHIPPED

SEEDS = (1, 2, 3, 4)
CITY = dict(n_firms=8000, burn_in_months=240)


def _measures(m: pd.DataFrame) -> dict:
    """What each scenario exists to move, from one run's monthly table (indexed by month)."""
    run_months = m.loc[1:]
    return dict(
        served=run_months["served"].sum(),
        spend=run_months["spend_total"].sum(),
        aware=run_months["aware_share"].mean(),
        registered=run_months["registered_share"].mean(),
        applications=run_months["applications"].sum(),
        match=(run_months["service_match"] * run_months["served"]).sum() / run_months["served"].sum(),
        capacity=run_months["office_capacity"].mean(),
        **{f"spend_{i}": run_months[f"spend_{i}"].sum()
           for i in ("equipment", "training", "market_access", "credit")},
        sales_shock=m.loc[13, "sales"],  # covid_shock: the first month of the shock
        sales_later=m.loc[61:72, "sales"].mean(),  # two and a half years after its recovery
    )


@pytest.fixture(scope="module")
def study():
    """Every shipped scenario on the same four seeds, 10 years, 8,000 firms (60 runs, ~15 s)."""
    rows = []
    for name in SHIPPED:
        sc = load(name)
        for seed in SEEDS:
            r = run(sc.params.replace(**CITY), seed=seed, months=sc.years * 12, events=sc.events)
            rows.append(dict(scenario=name, seed=seed, **_measures(r.monthly.set_index("month"))))
    return pd.DataFrame(rows).set_index(["scenario", "seed"])


def _diff(study, scenario, measure):
    return (study.loc[scenario, measure] - study.loc["baseline", measure]).to_numpy()


def clear(diffs, sign):
    d = sign * np.asarray(diffs, float)
    return bool((d > 0).all() and d.mean() > 3 * d.std(ddof=1))


EFFECTS = {
    "steady_coordination": {"aware": +1, "registered": +1, "capacity": +1},
    "opd_merger": {"served": -1, "registered": -1, "applications": -1, "spend": -1, "capacity": -1},
    "repeated_restructuring": {"served": -1, "registered": -1, "applications": -1, "capacity": -1},
    "austerity": {"spend": -1, "served": -1, "capacity": -1},
    "integrated_database": {"registered": +1, "aware": +1, "applications": +1},
    "socialisation_campaign": {"aware": +1, "registered": +1, "applications": +1},
    "clear_services": {"applications": +1},
    # What is left two and a half years after demand recovers is asserted only to be small (the two
    # covid tests below), not signed: it is about 0.2 % of sales, and its sign is a few leading
    # firms' fate. Traced at month 72 on seeds 1 and 2: the three firms whose sales differ most
    # account for all of a lower total, while the rest of the city sells more (Rp +433 M and +1,009 M
    # a year). Across realisations of the start it has been lower in all four seeds (one burn-in
    # chain; and after the refit of leader_imitation) and higher in one of four (four chains of
    # 40,000 firms), so neither "clear" nor "no effect" is a property of the model.
    "covid_shock": {"sales_shock": -1},
    "recommended_package": {"aware": +1, "registered": +1, "applications": +1, "match": +1,
                            "capacity": +1},
}

NO_EFFECT = {
    ("steady_coordination", "served"): "the budget, not staff capacity, limits how many are served",
    ("clear_services", "served"): "more applicants, but the same budget serves the same number",
}


@pytest.mark.parametrize("scenario,measure,sign",
                         [(s, m, sign) for s, eff in EFFECTS.items() for m, sign in eff.items()])
def test_each_scenario_moves_what_it_exists_to_move(study, scenario, measure, sign):
    diffs = _diff(study, scenario, measure)
    assert clear(diffs, sign), (scenario, measure, diffs)


@pytest.mark.parametrize("scenario,measure", sorted(NO_EFFECT))
def test_where_the_model_gives_no_effect(study, scenario, measure):
    diffs = _diff(study, scenario, measure)
    level = study.loc["baseline", measure].abs().mean()
    assert not clear(diffs, +1) and not clear(diffs, -1), NO_EFFECT[scenario, measure]
    # and no effect above 5 % of the level, unless four seeds cannot resolve 5 % (two standard
    # errors of the mean; e.g. the match share moves by the changed mix of firms served)
    resolution = 2 * diffs.std(ddof=1) / np.sqrt(len(diffs))
    assert abs(diffs.mean()) < max(0.05 * level, resolution), NO_EFFECT[scenario, measure]


SMALL_EFFECT = {
    # (since model version 14: seeds 1-4 gave +3 to +5 of about 660 served, each seed up)
    ("socialisation_campaign", "served"): "more applicants change which instruments the same budget buys "
                                          "(seeds 1-2: less on equipment, more on training or market "
                                          "access), and a cheaper mix serves a few more firms",
}


@pytest.mark.parametrize("scenario,measure", sorted(SMALL_EFFECT))
def test_where_the_model_gives_a_small_effect_from_the_same_budget(study, scenario, measure):
    diffs = _diff(study, scenario, measure)
    assert abs(diffs.mean()) < 0.01 * study.loc["baseline", measure].abs().mean(), SMALL_EFFECT[scenario, measure]
    spend = _diff(study, scenario, "spend")  # the same money: the gain is the mix, not more budget
    assert abs(spend.mean()) < 0.005 * study.loc["baseline", "spend"].mean(), SMALL_EFFECT[scenario, measure]


def test_the_covid_scar_is_small(study):
    diffs = _diff(study, "covid_shock", "sales_later")
    assert abs(diffs.mean()) < 0.01 * study.loc["baseline", "sales_later"].mean()


@pytest.mark.parametrize("instrument", ["equipment", "training", "market_access", "credit"])
def test_focus_scenarios_spend_the_baselines_budget_on_their_instrument(study, instrument):
    focus = study.loc[f"{instrument}_focus"]
    assert (focus[f"spend_{instrument}"] == focus["spend"]).all()
    assert (focus[f"spend_{instrument}"] > 1.5 * study.loc["baseline", f"spend_{instrument}"]).all()
    assert (abs(focus["spend"] / study.loc["baseline", "spend"] - 1) < 0.03).all()


def test_baseline_is_the_defaults():
    assert load("baseline").params == load("baseline").params.replace() and not load("baseline").events
    from sim.params import Parameters
    assert load("baseline").params == Parameters()


def _match(scenario, seed, events=None, months=36, **city):
    sc = load(scenario)
    r = run(sc.params.replace(**(city or dict(n_firms=20_000, burn_in_months=240))), seed=seed,
            months=months, events=sc.events if events is None else events)
    m = r.monthly.set_index("month").loc[1:]
    return (m["service_match"] * m["served"]).sum() / m["served"].sum()


def test_diagnosis_targeting_gives_more_firms_what_they_need():
    """At 8,000 firms the office serves ~5 firms a month, too few to see this; at 20,000 it is clear.
    Diagnosis misreads 0.6 * (1 - 0.5 * 0.4) = 48 % of firms and still beats drawing from the mix."""
    diffs = [_match("diagnosis_targeting", seed, months=60) - _match("baseline", seed, months=60)
             for seed in SEEDS]
    assert clear(diffs, +1) and np.mean(diffs) > 0.05


def test_covid_scars_the_city(study):
    """Demand is back to normal after month 42, and years later sales are back near the baseline's:
    any difference left is far less than in the shock itself (its sign: NO_EFFECT above)."""
    dip = _diff(study, "covid_shock", "sales_shock")
    later = _diff(study, "covid_shock", "sales_later")
    assert (abs(later) < 0.2 * abs(dip)).all()
    assert (abs(later) < 0.05 * study.loc["baseline", "sales_later"]).all()


def test_covid_demand_dips_and_recovers():
    sc = load("covid_shock")
    r = run(sc.params.replace(**CITY), seed=1, months=60, events=sc.events).monthly.set_index("month")
    base = run(sc.params.replace(**CITY), seed=1, months=60).monthly.set_index("month")
    ratio = r["city_demand"] / base["city_demand"]
    assert (ratio.loc[:12] == 1).all() and ratio.loc[13] == pytest.approx(0.65)
    assert (np.diff(ratio.loc[13:43]) > 0).all() and (ratio.loc[43:] == 1).all()


def test_an_integrated_database_improves_diagnosis():
    switch = load("integrated_database").events  # data_integration = 1 from month 25
    diffs = [_match("diagnosis_targeting", seed, switch, months=48)
             - _match("diagnosis_targeting", seed, months=48) for seed in SEEDS]
    assert clear(diffs, +1) and np.mean(diffs) > 0.2


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_scenario_runs_past_its_last_event(name):
    sc = load(name)
    last = max((month for e in sc.events for month, _ in e.firings()), default=0)
    months = min(last + 6, sc.years * 12) if sc.events else 12
    r = run(sc.params.replace(n_firms=1500, burn_in_months=120), seed=1, months=months, events=sc.events)
    assert len(r.monthly) == months + 1 and last < months
    assert r.monthly["firms"].iloc[-1] > 1000


def test_a_stored_sweep_run_is_the_direct_run_of_its_scenario(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('description = "a study for an end-to-end test"\n'
                    'scenarios = ["baseline", "opd_merger", "covid_shock"]\nreplicates = 2\n'
                    'root_seed = 3\nyears = 4\n[parameters]\nn_firms = 1200\nburn_in_months = 120\n')
    study = load_study(path)
    db = Store(tmp_path / "out", study.fingerprint(), str(path))
    try:
        sweep(study, db, SerialExecutor())
    finally:
        db.close()
    tables = store.load(tmp_path / "out")
    runs, monthly = tables["runs"], tables["monthly"]
    assert len(runs) == 6
    for r in runs.itertuples():
        direct = run_scenario(r.scenario, seed=int(r.seed), months=48, n_firms=1200,
                              burn_in_months=120).monthly
        stored = monthly[monthly["run_id"] == r.run_id].drop(columns="run_id").reset_index(drop=True)
        stored = stored[[c for c in direct.columns if c in stored.columns]]
        assert list(stored.columns) == list(direct.columns)
        pd.testing.assert_frame_equal(stored, direct, check_dtype=False)
        assert stored["cost_per_graduation"].dtype == float
