"""Headline outcomes on hand-built cities and tables whose answers are known.

What users read off a run or a study: class moves (graduations and downgrades, served firms and
the rest), every headline of ``sim.analysis``, cost per graduation, the survival and cohort tables.
"""

import numpy as np
import pandas as pd
import pytest

from sim import analysis
from sim.classes import LARGE, MEDIUM, MICRO, SMALL
from sim.engine import City, graduations
from sim.model import MSMEModel
from sim.outcomes import OUTCOMES, MonthRecorder, MonthView
from sim.params import Parameters
from sim.state import HISTORY, FirmTable

from .helpers import QUIET


# -- class moves -----------------------------------------------------------------------------------
def _view(moves):
    """A MonthView with only ``moves`` set (the move outcomes read nothing else)."""
    return MonthView(city=None, entries=0, exits=0, moves=moves, firsts=None, annual_sales=np.zeros(0),
                     class_counts=np.zeros(4, int), large=np.zeros(0, np.intp))


def test_move_outcomes_read_the_right_cells():
    moves = np.zeros((2, 4, 4), int)
    moves[0, MICRO, SMALL] = 5  # never served
    moves[1, MICRO, SMALL] = 3  # served
    moves[0, SMALL, MEDIUM] = 7
    moves[1, SMALL, MEDIUM] = 11
    moves[0, MEDIUM, LARGE] = 13
    moves[1, SMALL, MICRO] = 17
    moves[0, SMALL, MICRO] = 19
    moves[1, MEDIUM, SMALL] = 23
    moves[0, MICRO, MICRO] = 1000  # staying put is not a move
    v = _view(moves)
    got = {name: OUTCOMES[name][1](v) for name in
           ("grad_micro_small", "grad_small_medium", "grad_medium_large", "down_small_micro",
            "down_medium_small", "grad_assisted", "grad_never_assisted")}
    assert got == dict(grad_micro_small=8, grad_small_medium=18, grad_medium_large=13,
                       down_small_micro=36, down_medium_small=23, grad_assisted=3 + 11,
                       grad_never_assisted=5 + 7)
    assert all(OUTCOMES[name][1](_view(None)) == 0 for name in got)


def _hand_city(size_class, served, history):
    """Firms ten years old with the given monthly sales history (Rp, one row per firm), service
    history and recorded class (None: as City.__init__ classifies them), in a quiet city without an
    office whose demand (Rp 1 M a month per firm) barely moves a 12-month sum."""
    history = np.asarray(history, float)
    k = len(history)
    t = FirmTable(16)
    t.append(dict(capital=np.full(k, 20e6), access=np.full(k, 0.5), access_base=np.full(k, 0.5),
                  ability=np.ones(k), growth_oriented=np.zeros(k, bool),
                  entry_month=np.full(k, -120, np.int32), sales_history=history,
                  sales_12m=history.sum(axis=1), times_served=np.asarray(served, np.int16)), k)
    city = City(Parameters(**{**QUIET, "n_firms": k, "demand_per_firm": 1e6}), 0, t)
    if size_class is not None:
        t["size_class"][:] = size_class  # what the firms were last month
    return city


def _even(annual):
    return np.repeat(np.asarray(annual, float)[:, None] / HISTORY, HISTORY, axis=1)


def test_the_step_counts_graduations_and_downgrades_of_served_and_other_firms():
    """PP 7/2021 classifies firms over a year old by annual sales: micro up to Rp 2 bn. A month's
    sales of ~Rp 1 M hardly move a 12-month sum, so each firm's class after the step is known."""
    big, tiny = 3e9, 50e6
    big, tiny = 3e9, 50e6
    city = _hand_city(size_class=[MICRO, MICRO, SMALL, SMALL, MICRO, SMALL], served=[1, 0, 1, 0, 2, 1],
                      history=_even([big, big, tiny, tiny, tiny, big]))
    city.step()
    row = city.recorder.rows[-1]
    assert row["grad_micro_small"] == 2 and row["grad_assisted"] == 1 and row["grad_never_assisted"] == 1
    assert row["down_small_micro"] == 2 and row["grad_small_medium"] == 0
    # the two "graduates" were small when the run began (City.__init__ classified them by their
    # sales): they are not graduating for the first time
    assert row["graduated_small"] == 0 and row["graduated_served"] == 0
    assert row["micro"] == 3 and row["small"] == 3
    assert row["assisted_firms"] == 4


def test_graduation_outcomes_read_the_right_cells():
    v = MonthView(city=None, entries=0, exits=0, moves=None, firsts=np.array([[1, 2], [3, 4]]),
                  annual_sales=np.zeros(0), class_counts=np.zeros(4, int), large=np.zeros(0, np.intp))
    got = {name: OUTCOMES[name][1](v) for name in
           ("graduated_small", "graduated_medium", "graduated_served", "graduated_never_served")}
    # firsts[s, c]: s = 1 served; c = 0 out of micro, 1 out of small
    assert got == dict(graduated_small=1 + 3, graduated_medium=2 + 4, graduated_served=3 + 4,
                       graduated_never_served=1 + 2)
    assert all(OUTCOMES[name][1](_view(None)) == 0 for name in got)


def test_a_firm_that_crosses_a_threshold_again_graduates_once():
    """``grad_*`` count every class move; ``graduated_*`` count a firm the first time it rises above
    a class (since month 0). A served firm starts micro, is lifted to small, falls back and is
    lifted again: two moves micro->small, one graduation."""
    big, tiny = 3e9, 50e6
    city = _hand_city(size_class=None, served=[1, 0], history=_even([tiny, tiny]))
    t = city.firms
    rows = []
    for annual in (big, tiny, big):  # the firm's 12-month sales before each month's step
        t["sales_history"][0] = annual / HISTORY
        t["sales_12m"][0] = annual
        city.step()
        rows.append(city.recorder.rows[-1])
    assert [r["grad_micro_small"] for r in rows] == [1, 0, 1]
    assert [r["down_small_micro"] for r in rows] == [0, 1, 0]
    assert [r["graduated_small"] for r in rows] == [1, 0, 0]
    assert [r["graduated_served"] for r in rows] == [1, 0, 0]
    assert sum(r["graduated_never_served"] + r["graduated_medium"] for r in rows) == 0
    assert t["peak_class"].tolist() == [SMALL, MICRO]


def test_graduations_count_each_firm_once_per_class_left_behind():
    t = FirmTable(16)
    #        A: micro->small, served; B: back to small (was small before); C: micro->medium;
    #        D: small->medium; E: back to medium; F: an entrant (row 5, not a survivor)
    peak = np.array([MICRO, SMALL, MICRO, SMALL, MEDIUM, MICRO], np.int8)
    t.append(dict(peak_class=peak, times_served=np.array([1, 0, 0, 0, 2, 0], np.int16),
                  size_class=np.array([SMALL, SMALL, MEDIUM, MEDIUM, MEDIUM, SMALL], np.int8)), 6)
    after = t["size_class"][:5]
    firsts = graduations(t, np.arange(5), after, survivors=5)
    assert firsts.tolist() == [[1, 2],  # never served: C out of micro; C and D out of small
                               [1, 0]]  # served: A out of micro
    assert t["peak_class"].tolist() == [SMALL, SMALL, MEDIUM, MEDIUM, MEDIUM, SMALL]


def test_each_month_reports_that_month():
    """The monthly table's row m describes month m. Month 3 overwrites the history slot holding
    Rp 0.5 bn, so the firm's 12-month sales fall below PP 7/2021's Rp 2 bn bound in month 3 only."""
    history = np.full((1, HISTORY), 0.18e9)
    history[0, :2] = 1e6
    history[0, 2] = 0.5e9  # 2.12 bn in all
    city = _hand_city(size_class=None, served=[0], history=history)
    city.run(4)
    table = city.recorder.monthly_table().set_index("month")
    assert table["small"].tolist() == [1, 1, 1, 0, 0]
    assert table["down_small_micro"].tolist() == [0, 0, 0, 1, 0]
    assert table["grad_micro_small"].sum() == 0


# -- analysis headlines ----------------------------------------------------------------------------
def _monthly(run_id, months, scenario="baseline", replicate=0, **cols):
    df = pd.DataFrame({"month": np.arange(months + 1)})
    for name, values in cols.items():
        df[name] = values
    df.insert(0, "run_id", run_id)
    df["scenario"], df["point"], df["replicate"] = scenario, 0, replicate
    return df


BASE_COLS = ("graduated_small", "graduated_medium", "small", "medium", "firms", "sales",
             "export_share", "served", "graduated_served", "registered_share")


def _run_table(run_id, months=24, scenario="baseline", replicate=0, shift=0.0):
    m = np.arange(months + 1, dtype=float)
    cols = dict(graduated_small=m + shift, graduated_medium=2 * m, small=100 + m, medium=10 + 2 * m,
                firms=1000 - m, sales=1e9 * (1 + m), export_share=m / 100, served=3 * m,
                graduated_served=m % 2, registered_share=m / 1000)
    return _monthly(run_id, months, scenario, replicate, **cols)


def test_headlines_known_answers():
    months = 24
    per_run = analysis.headlines(_run_table(7, months)).loc[7]
    m = np.arange(1, months + 1)  # month 0 is the start, not a month of the run
    assert per_run["graduations"] == m.sum() + (2 * m).sum()
    assert per_run["small_medium_end"] == (100 + 24) + (10 + 48)
    assert per_run["firms_end"] == 1000 - 24
    assert per_run["sales_last_year"] == pytest.approx(1e9 * sum(1 + k for k in range(13, 25)))
    assert per_run["export_share"] == pytest.approx(np.mean(np.arange(13, 25)) / 100)
    assert per_run["served"] == 3 * m.sum()
    assert per_run["grad_assisted"] == 12
    assert per_run["registered_end"] == pytest.approx(0.024)
    assert per_run[["scenario", "point", "replicate"]].tolist() == ["baseline", 0, 0]


def test_headlines_of_runs_in_any_row_order_and_of_different_lengths():
    a, b = _run_table(1, 24), _run_table(2, 12, scenario="opd_merger", shift=1.0)
    mixed = pd.concat([b, a]).sample(frac=1.0, random_state=3)
    per_run = analysis.headlines(mixed)
    alone = pd.concat([analysis.headlines(a), analysis.headlines(b)])
    pd.testing.assert_frame_equal(per_run.sort_index(), alone.sort_index(), check_like=True)
    assert per_run.loc[2, "firms_end"] == 1000 - 12 and per_run.loc[2, "scenario"] == "opd_merger"
    assert per_run.loc[2, "graduations"] == sum(k + 1 + 2 * k for k in range(1, 13))


def test_paired_differences_pair_by_replicate_not_by_row_order():
    rows = []
    for rep in range(4):
        rows.append(_run_table(rep, 12, "baseline", rep, shift=10.0 * rep))
        rows.append(_run_table(10 + rep, 12, "opd_merger", 3 - rep, shift=10.0 * (3 - rep) + 1.0))
    per_run = analysis.headlines(pd.concat(rows))
    diff = analysis.paired_differences(per_run, "baseline").set_index("outcome")
    assert diff.loc["graduations", "mean"] == pytest.approx(12.0)  # +1 in each of 12 months
    assert diff.loc["graduations", "low"] == pytest.approx(12.0)  # the same in every pair
    assert diff.loc["served", "mean"] == 0.0 and diff.loc["graduations", "n"] == 4


def test_cost_per_graduation_is_spending_so_far_over_graduations_of_served_firms_so_far():
    rec = MonthRecorder.__new__(MonthRecorder)
    rec.rows = [dict(month=0, spend_total=0.0, graduated_served=0),
                dict(month=1, spend_total=10.0, graduated_served=0),
                dict(month=2, spend_total=20.0, graduated_served=2),
                dict(month=3, spend_total=30.0, graduated_served=0),
                dict(month=4, spend_total=40.0, graduated_served=3)]
    cost = rec.monthly_table()["cost_per_graduation"].tolist()
    assert np.isnan(cost[0]) and np.isnan(cost[1])
    assert cost[2:] == [15.0, 30.0, 20.0]


# -- survival and cohorts --------------------------------------------------------------------------
def _recorder(entrants, survivors):
    rec = MonthRecorder.__new__(MonthRecorder)
    rec.entrants = list(entrants)
    rec.survivors = [np.array(s) for s in survivors]
    return rec


def test_survival_curve_known_answer():
    # cohort of month 1: 10 entrants, 10, 8, 6 alive after months 1, 2, 3;
    # cohort of month 2: 20 entrants, 20, 10 alive after months 2, 3; cohort of month 3: 5, 5.
    rec = _recorder([10, 20, 5], [[0], [0, 10], [0, 8, 20], [0, 6, 10, 5]])
    s = rec.survival_curve()
    assert s.index.tolist() == [0, 1, 2]
    assert s[0] == pytest.approx((10 + 20 + 5) / 35)
    assert s[1] == pytest.approx((8 + 10) / 30)  # cohorts observed for a month: 1 and 2
    assert s[2] == pytest.approx(6 / 10)  # only cohort 1 is two months old


def test_cohort_table_groups_monthly_entrants_by_year():
    entrants = [10] * 12 + [20]
    # everyone survives until month 12; in month 13 half of every first-year cohort exits
    survivors = [[0]] + [[0] + [10] * t for t in range(1, 13)] + [[0] + [5] * 12 + [20]]
    tab = _recorder(entrants, survivors).cohort_table().set_index(["cohort_year", "month"])
    assert tab.loc[(1, 6)].tolist() == [60, 60, 1.0]
    assert tab.loc[(1, 13), "survivors"] == 60 and tab.loc[(1, 13), "survival"] == 0.5
    assert tab.loc[(2, 13)].tolist() == [20, 20, 1.0]
    assert (2, 12) not in tab.index


def test_cohort_bookkeeping_matches_the_live_firm_table():
    m = MSMEModel(rng=9, n_firms=3000, burn_in_months=60)
    for _ in range(30):
        m.step()
    rec = m.city.recorder
    entry = m.city.firms["entry_month"]
    alive_by_cohort = np.bincount(entry[entry >= 1], minlength=31)
    assert rec.survivors[-1][1:].tolist() == alive_by_cohort[1:].tolist()
    assert rec.entrants == m.outcomes["entries"].iloc[1:].tolist()
    assert sum(rec.entrants) > 500  # the check covered many firms


def test_median_and_gini_known_answers():
    from sim.outcomes import gini, median
    assert median(np.array([4.0, 1.0, 3.0, 2.0])) == 2.5 and median(np.array([3.0, 1.0, 2.0])) == 2.0
    assert np.isnan(median(np.array([])))
    assert np.isnan(gini(np.array([])))
    assert gini(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0, abs=1e-12)
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # (n - 1) / n: one holds all
    assert gini(np.zeros(3)) == 0.0


def test_month_zero_has_no_flows_and_the_survival_curve_is_named():
    m = MSMEModel(rng=2, n_firms=1500, burn_in_months=60)
    row = m.outcomes.iloc[0]
    assert row["month"] == 0 and row["entries"] == 0 and row["exits"] == 0 and row["served"] == 0
    for _ in range(3):
        m.step()
    curve = m.city.recorder.survival_curve()
    assert curve.name == "survival" and curve.index.name == "age_months"
