"""The grant experiment (sim/grants.py): known answers in cities where the answer is a formula."""

import numpy as np
import pytest

from sim.grants import grant_experiment, summarise
from sim.params import Parameters

SMALL = dict(n_firms=400, burn_in_firms=400, burn_in_months=24, office=False)


def test_a_firm_with_idle_capacity_earns_nothing_on_a_grant():
    """Subsistence firms' demand does not grow with capacity (scale_weight_subsistence = 0): with
    demand far below capacity, extra capital sells nothing more."""
    p = Parameters(**SMALL, growth_share=0.0, demand_per_firm=2e5, output_at_ref=5e7,
                   export_demand_ratio=0.0, spillover=0.0, review_close=1.0)
    # (not this test's question: with spillover, a grant that keeps a firm from filling up moves
    # demand between firms; with owners who carry on after a losing year, the grant keeps some
    # losing firms open until their capital runs out, and the extra firms lower everyone's sales)
    table = grant_experiment(p, 3, share=0.5, months=6, use_cache=False)
    assert len(table) > 20
    assert not table["constrained"].any()
    assert table["return_pct"].to_numpy() == pytest.approx(0.0, abs=1e-9)


def test_a_capacity_constrained_firm_earns_the_marginal_product_of_the_grant():
    """Demand far above capacity and no shocks: in month 1 a treated firm sells its capacity with
    K + g instead of K, so its return is margin * (Y(K + g) - Y(K)) / g."""
    p = Parameters(**SMALL, demand_per_firm=1e10, shock_sd=0.0, quality_sd=0.0, event_rate=0.0,
                   export_demand_ratio=0.0, exit_hazard=0.0, exit_capital=0.0, exit_profit=-1e9,
                   fixed_cost=0.0)  # no firm closes in either copy
    from sim.engine import City
    from sim.keyed import Keys
    from sim.population import initial_table
    keys = Keys(5)
    start = City(p, keys, initial_table(p, keys, use_cache=False), record=False).firms
    g = 2.5e6
    table = grant_experiment(p, 5, grant=g, share=0.3, months=1, use_cache=False)
    assert table["constrained"].mean() > 0.9 and len(table) > 50  # (entrants of the last month have not sold yet)
    table = table[table["constrained"]]
    row = start.row_of[table["firm_id"].to_numpy()]
    k, a = start["capital"][row], start["ability"][row]

    def y(cap):
        return p.output_at_ref * a * np.exp(-0.5 * p.shock_sd**2) * (cap / p.capital_ref) ** p.alpha

    expected = 100 * p.margin * (y(k + g) - y(k)) / g
    # capacity is single precision (relative error ~1e-7) and the return is the difference of two
    # capacities 0.1-2 % apart: relative error up to ~2e-4 (a wrong alpha or margin moves it by %)
    assert table["return_pct"].to_numpy() == pytest.approx(expected, rel=1e-3)


def test_summary_groups_and_refusals():
    p = Parameters(**SMALL)
    table = grant_experiment(p, 1, share=0.5, months=3, use_cache=False)
    s = summarise(table)
    assert s["n_subsistence"] == (~table["growth_oriented"]).sum()
    assert s["subsistence"] == pytest.approx(table.loc[~table["growth_oriented"], "return_pct"].mean())
    with pytest.raises(ValueError, match="share"):
        grant_experiment(p, 1, share=0.0)
    with pytest.raises(ValueError, match="grant"):
        grant_experiment(p, 1, grant=-1.0)


def test_summary_averages_each_group_over_its_own_firms_only():
    import pandas as pd
    table = pd.DataFrame({"firm_id": range(6),
                          "growth_oriented": [True, True, False, False, True, False],
                          "constrained": [True, False, True, False, True, True],
                          "return_pct": [6.0, 1.0, 2.0, 0.0, 4.0, 1.0]})
    s = summarise(table)
    assert s["growth_constrained"] == pytest.approx(5.0)  # rows 0 and 4, not the busy subsistence firms
    assert s["subsistence"] == pytest.approx(1.0)  # rows 2, 3, 5
    assert s["all"] == pytest.approx(14.0 / 6)
    assert (s["n_subsistence"], s["n_growth_constrained"]) == (3, 2)


def test_profit_of_a_firm_is_its_operating_profit_and_zero_once_closed():
    """What a grant that keeps a firm alive is worth: in the control copy the firm has closed and
    earns 0; in the treated copy it earns margin x sales - fixed cost (which can be negative)."""
    from sim.grants import _profit
    from tests.helpers import QUIET, one_firm_city
    p = Parameters(**{**QUIET, "fixed_cost": 3e5, "margin": 0.2})
    city = one_firm_city(p, capital=20e6)
    city.firms["sales"][:] = 1e6
    fid = city.firms["firm_id"].copy()
    assert _profit(city, fid) == pytest.approx([0.2 * 1e6 - 3e5])  # -100,000: a loss counts
    city.firms.remove(np.array([True]))
    assert _profit(city, fid).tolist() == [0.0]
