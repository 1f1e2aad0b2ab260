import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import phases
from sim.params import Parameters
from tests.helpers import QUIET, one_firm_city

P = Parameters()


def test_capacity_follows_the_production_function_and_shock_has_mean_one():
    k = np.array([P.capital_ref, 4 * P.capital_ref])
    cap = phases.capacity(P.replace(shock_sd=0.0), k, np.array([1.0, 2.0]), np.zeros(2))
    assert cap.dtype == np.float32  # single precision: relative error a few 1e-7
    assert cap == pytest.approx([P.output_at_ref, 2 * P.output_at_ref * 4**P.alpha], rel=1e-5)
    draws = np.random.default_rng(1).standard_normal(400_000)
    mean = phases.capacity(P, np.full(draws.size, P.capital_ref), np.ones(draws.size),
                           P.shock_sd * draws).mean()
    assert mean == pytest.approx(P.output_at_ref, rel=0.01)


def test_market_splits_demand_by_weight_and_caps_at_capacity():
    p = P.replace(export_demand_ratio=0.0, spillover=0.0)
    cap = np.array([100.0, 100.0, 10.0])
    w = np.array([1.0, 3.0, 4.0])
    sold = phases.market(p, cap, w, np.full(3, 0.1), city_demand=160.0)
    assert sold.domestic == pytest.approx([20.0, 60.0, 10.0])  # 80 demanded of the third, 10 sold
    assert sold.export.sum() == 0


@pytest.mark.parametrize("spill, expected", [(0.0, [20.0, 60.0, 10.0]),   # 70 turned away, all lost
                                              (0.5, [155 / 6, 77.5, 10.0]),  # half of the 93.3 tried elsewhere
                                              (1.0, [50.0, 100.0, 10.0])])  # every rupiah finds a seller
def test_demand_a_full_firm_turns_away_spills_over_to_firms_with_spare_capacity(spill, expected):
    p = P.replace(export_demand_ratio=0.0, spillover=spill)
    sold = phases.market(p, np.array([100.0, 100.0, 10.0]), np.array([1.0, 3.0, 4.0]), np.full(3, 0.1),
                         city_demand=160.0)
    assert sold.domestic == pytest.approx(expected)


def test_with_full_spillover_all_capacity_sells_when_demand_exceeds_it():
    p = P.replace(export_demand_ratio=0.0, spillover=1.0)
    cap = np.array([5.0, 7.0, 1.0])
    sold = phases.market(p, cap, np.array([1.0, 2.0, 3.0]), np.full(3, 0.1), city_demand=100.0)
    assert sold.domestic == pytest.approx(cap)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), spill=st.floats(0.0, 1.0), n=st.integers(1, 60),
       demand=st.floats(1.0, 1e4))
def test_clearing_price_spends_demand_as_stated(seed, spill, n, demand):
    """Sales never exceed capacity; sales plus the lost part of what full firms turn away equal
    demand (unless every firm is full); more spillover never lowers a firm's sales."""
    rng = np.random.default_rng(seed)
    cap = rng.lognormal(3.0, 1.5, n)
    w = rng.lognormal(0.0, 2.0, n)
    p = P.replace(export_demand_ratio=0.0, spillover=spill)
    price = phases.clearing_price(p, cap, w, demand)
    sold = np.minimum(cap, price * w)
    assert (sold <= cap * (1 + 1e-12)).all()
    turned_away = np.maximum(price * w - cap, 0.0).sum()
    if sold.sum() < cap.sum() * (1 - 1e-9):
        assert sold.sum() + (1 - spill) * turned_away == pytest.approx(demand, rel=1e-9)
    more = np.minimum(cap, phases.clearing_price(p.replace(spillover=min(1.0, spill + 0.2)), cap, w, demand) * w)
    assert (more >= sold * (1 - 1e-12)).all()


@pytest.mark.parametrize("margin", [0.0, 1e-3, 0.05, 10.0])
def test_clearing_price_is_the_same_whatever_the_bound_on_the_price(margin, monkeypatch):
    """The bound only limits which rows each pass looks at: the price is the same to the bit."""
    rng = np.random.default_rng(5)
    cap = rng.lognormal(3.0, 1.5, 5000)
    w = rng.lognormal(0.0, 2.0, 5000)
    p = P.replace(spillover=0.8)

    def plain(demand):  # the full scan every pass
        total = w.sum()
        price, ratio, n_full = demand / total, cap / w, -1
        while True:
            full = np.flatnonzero(ratio < price)
            if full.size == n_full:
                return price
            n_full = full.size
            price = (demand - 0.8 * float(cap[full].sum())) / (total - 0.8 * float(w[full].sum()))

    monkeypatch.setattr(phases, "BOUND_MARGIN", margin)
    for demand in (1e3, 3e4, 1e5, 2e5):
        assert phases.clearing_price(p, cap, w, demand) == plain(demand)


def test_export_only_above_access_threshold_and_within_spare_capacity():
    p = P.replace(export_demand_ratio=1.0, export_access_threshold=0.6, export_access_spread=0.0,
                  spillover=0.0)
    cap = np.array([100.0, 100.0])
    sold = phases.market(p, cap, np.array([1.0, 1.0]), np.array([0.5, 0.9]), city_demand=100.0)
    assert sold.domestic == pytest.approx([50.0, 50.0])
    assert sold.export == pytest.approx([0.0, 50.0])  # 100 demanded abroad, 50 spare


def test_export_pull_rises_in_a_straight_line_across_the_access_band():
    p = P.replace(export_access_threshold=0.6, export_access_spread=0.2)
    access = np.array([0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.95], np.float32)
    pull = phases.export_pull(p, access)
    assert pull.dtype == np.float32
    assert pull == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0], abs=1e-6)
    # a spread of 0 is the hard threshold, the threshold itself included
    hard = phases.export_pull(p.replace(export_access_spread=0.0), access)
    assert hard.tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_export_demand_is_shared_by_weight_times_pull():
    # three firms of equal weight and ample capacity: pulls 0, 0.25 and 1 share 60 of export demand
    p = P.replace(export_demand_ratio=0.6, export_access_threshold=0.6, export_access_spread=0.2,
                  spillover=0.0)
    sold = phases.market(p, np.full(3, 1e3), np.ones(3), np.array([0.4, 0.55, 0.8]), city_demand=100.0)
    assert sold.export == pytest.approx([0.0, 12.0, 48.0], rel=1e-6)
    assert sold.export.sum() == pytest.approx(0.6 * 100.0, rel=1e-6)


def test_accumulate_replaces_depreciation_first_reinvests_only_when_busy_and_losses_eat_capital():
    p = P.replace(depreciation=0.01, reinvest_growth=0.5, reinvest_subsistence=0.1,
                  invest_utilisation=0.9)
    k = np.full(5, 100.0)
    prof = np.array([10.0, 10.0, 10.0, -5.0, 0.4])
    growth = np.array([True, False, True, True, True])
    util = np.array([1.0, 1.0, 0.5, 1.0, 1.0])
    # net profit = profit - 1 (depreciation): 9 reinvested at 50 % / 10 %, or withdrawn when idle;
    # a loss comes out in full with the depreciation; a profit short of depreciation shrinks capital
    assert phases.accumulate(p, k, prof, growth, util) == pytest.approx([104.5, 100.9, 100.0, 94.0, 99.4])


def test_exits_on_exhausted_capital_or_outside_hazard():
    p = P.replace(exit_capital=1.0, exit_hazard=0.1)
    out = phases.exits(p, np.array([0.5, 5.0, 5.0]), np.array([0.9, 0.05, 0.9]))
    assert out.tolist() == [True, True, False]


def test_household_shocks_close_own_account_firms_only():
    """An own-account firm (fewer than two workers at its annualised sales) closes for outside
    reasons below exit_hazard + household_hazard, a firm with employees below exit_hazard only;
    the same uniform decides both. Off (0), nothing changes."""
    p = P.replace(exit_capital=0.0, exit_hazard=0.1, household_hazard=0.2, review_close=1.0,
                  exit_profit=-1e9, workers_at_ref=1.7, workers_sales_ref=100e6, workers_elasticity=0.5)
    floor = 100e6 * (2.0 / 1.7) ** 2  # two workers: Rp 138.4 M a year
    assert phases.own_account(p, np.array([floor * (1 - 1e-9), floor * (1 + 1e-9)])).tolist() == [True, False]
    uniform = np.array([0.05, 0.25, 0.35, 0.05, 0.25, 0.25])
    annual = np.array([50.0, 50.0, 50.0, 500.0, 500.0, 60.0]) * 1e6
    age = np.array([36, 36, 36, 36, 36, 6])
    sales_12m = annual * np.minimum(age, 12) / 12  # a 6-month-old firm's last 12 months: half a year's
    out = phases.exits(p, np.full(6, 100e6), uniform, sales_12m, age)
    # below 0.1: closes; below 0.3 and own-account: closes (the young firm by its annualised sales)
    assert out.tolist() == [True, True, False, True, False, True]
    off = phases.exits(p.replace(household_hazard=0.0), np.full(6, 100e6), uniform, sales_12m, age)
    assert off.tolist() == [True, False, False, True, False, False]
    # with no workers rule (elasticity 0) everyone has workers_at_ref workers
    flat = p.replace(workers_elasticity=0.0)
    assert phases.own_account(flat, np.array([1e5, 1e12])).all()
    assert not phases.own_account(flat.replace(workers_at_ref=2.0), np.array([1e5, 1e12])).any()
    # a vanishing elasticity puts the two-worker floor out of float range: no overflow (found by
    # hypothesis in the cache test)
    tiny = p.replace(workers_elasticity=1e-250)
    assert phases.own_account(tiny, np.array([1e5, 1e12])).all()
    assert not phases.own_account(tiny.replace(workers_at_ref=2.5), np.array([1e5, 1e12])).any()


def test_yearly_review_closes_firms_that_did_not_cover_their_costs_only_on_anniversaries():
    p = P.replace(exit_capital=0.0, exit_hazard=0.0, margin=0.25, fixed_cost=1.0, exit_profit=1.5,
                  review_close=1.0)  # every owner closes after a losing year
    capital = np.full(6, 100.0)
    # a year's profit = 0.25 * sales_12m - 12 * (1 + 1.5): break-even at sales_12m = 120
    sales_12m = np.array([119.0, 121.0, 119.0, 119.0, 119.0, 121.0])
    age = np.array([12, 12, 13, 0, 24, 36])
    out = phases.exits(p, capital, np.ones(6), sales_12m, age)
    assert out.tolist() == [True, False, False, False, True, False]


def test_after_a_losing_year_only_some_owners_close():
    p = P.replace(exit_capital=0.0, exit_hazard=0.0, margin=0.25, fixed_cost=1.0, exit_profit=1.5,
                  review_close=0.4)
    sales_12m = np.array([119.0, 119.0, 121.0, 119.0, 119.0])
    age = np.array([12, 24, 12, 13, 36])
    asked = []

    def owners(rows):  # the owners' uniforms, by row
        asked.append(rows.tolist())
        return np.array([0.1, 0.7, 0.39999])[: rows.size]

    out = phases.exits(p, np.full(5, 100.0), np.ones(5), sales_12m, age, owners=owners)
    assert asked == [[0, 1, 4]]  # only the losing firms under review are asked
    assert out.tolist() == [True, False, False, False, True]  # u < 0.4 closes
    # with review_close 1 every losing firm closes and no owner is asked
    assert phases.exits(p.replace(review_close=1.0), np.full(5, 100.0), np.ones(5), sales_12m, age,
                        owners=None).tolist() == [True, True, False, False, True]


def test_owners_decisions_are_keyed_and_close_the_stated_share():
    from sim.engine import City
    from sim.state import FirmTable
    p = Parameters(**{**QUIET, "n_firms": 4000, "demand_per_firm": 1e4, "review_close": 0.3,
                      "exit_profit": 0.0})
    t = FirmTable(5000)
    t.append(dict(capital=np.full(4000, 20e6), access=np.full(4000, 0.5), access_base=np.full(4000, 0.5),
                  ability=np.ones(4000), entry_month=np.full(4000, -11, np.int32)), 4000)
    city = City(p, 5, t)  # almost no demand: every firm has a losing year at its review in month 1
    city.step()
    closed = 4000 - city.firms.n
    assert closed == pytest.approx(0.3 * 4000, abs=4 * np.sqrt(4000 * 0.3 * 0.7))
    t2 = FirmTable(5000)
    t2.append(dict(capital=np.full(4000, 20e6), access=np.full(4000, 0.5), access_base=np.full(4000, 0.5),
                   ability=np.ones(4000), entry_month=np.full(4000, -11, np.int32)), 4000)
    t2["entry_month"][:2000] = -10  # half the firms are not under review: the others decide alike
    city2 = City(p, 5, t2)
    city2.step()
    alive = set(city.firms["firm_id"].tolist())
    alive2 = set(city2.firms["firm_id"].tolist())
    assert {i for i in range(2000, 4000) if i in alive} == {i for i in range(2000, 4000) if i in alive2}


def test_quality_walks_with_drift_and_scaled_steps_in_place():
    p = P.replace(quality_drift=-0.01, quality_sd=0.2, quality_persistence=1.0)  # a random walk
    q = np.array([0.0, 1.0, -1.0])
    out = phases.quality_walk(p, q, np.array([0.0, 1.0, -2.0]), out=q)
    assert out is q
    assert q == pytest.approx([-0.01, 1.19, -1.41])


def test_leaders_quality_reverts_more_slowly_by_the_imitation_share():
    p = P.replace(quality_drift=-0.01, quality_sd=0.2, quality_persistence=0.9, leader_imitation=0.25)
    q = np.array([0.0, 1.0, -1.0, 2.0])
    phases.quality_walk(p, q, np.array([0.0, 1.0, -2.0, 0.5]), out=q)
    rho_lead = 1 - 0.25 * 0.1  # 0.975 above 0, 0.9 at and below it
    assert q == pytest.approx([-0.01, rho_lead - 0.01 + 0.2, -0.9 - 0.01 - 0.4, 2 * rho_lead - 0.01 + 0.1])
    # imitation share 0: leaders walk (with the drift); laggards still revert
    q = np.array([1.0, -1.0])
    phases.quality_walk(p.replace(leader_imitation=0.0), q, np.zeros(2), out=q)
    assert q == pytest.approx([0.99, -0.91])


def test_quality_reverts_toward_zero_with_its_persistence():
    p = P.replace(quality_drift=-0.01, quality_sd=0.2, quality_persistence=0.9, leader_imitation=1.0)
    q = np.array([0.0, 1.0, -1.0])
    phases.quality_walk(p, q, np.array([0.0, 1.0, -2.0]), out=q)
    assert q == pytest.approx([-0.01, 0.9 - 0.01 + 0.2, -0.9 - 0.01 - 0.4])
    # long run: mean drift / (1 - rho), SD sd / sqrt(1 - rho^2)
    rng = np.random.default_rng(2)
    x = np.zeros(100_000)
    for _ in range(150):
        phases.quality_walk(p, x, rng.standard_normal(x.size), out=x)
    assert x.mean() == pytest.approx(-0.1, abs=0.005)
    assert x.std() == pytest.approx(0.2 / np.sqrt(1 - 0.81), rel=0.01)


def test_customer_reach_closes_a_constant_share_of_its_gap():
    p = P.replace(reach_build=0.1)
    r = np.array([-1.0, -0.5, 0.0])
    for _ in range(10):
        r = phases.build_reach(p, r)
    assert r == pytest.approx(np.array([-1.0, -0.5, 0.0]) * 0.9**10)


def test_diversification_shrinks_shocks_with_lines_of_business():
    p = P.replace(sales_per_line=10e6, common_shock_share=0.2)
    f = phases.diversification(p, np.array([0.0, 5e6, 10e6, 40e6, 1e18]))
    assert f == pytest.approx(np.sqrt([1.0, 1.0, 1.0, 0.2 + 0.8 / 4, 0.2]), rel=1e-6)
    assert phases.diversification(p.replace(common_shock_share=1.0), np.array([1e9])) == pytest.approx([1.0])
    # single precision, like the shocks it scales (docs/ODD.md §2), on both branches
    assert f.dtype == np.float32
    assert phases.diversification(p.replace(common_shock_share=1.0), np.array([1e9])).dtype == np.float32


def test_productivity_is_an_ar1_with_the_stated_long_run_spread():
    p = P.replace(shock_sd=0.3, shock_persistence=0.9)
    rng = np.random.default_rng(5)
    x = p.shock_sd * rng.standard_normal(200_000)  # entrants start from the long-run distribution
    first = x.copy()
    for _ in range(30):
        x = phases.productivity_walk(p, x, rng.standard_normal(x.size), np.ones(x.size))
    assert x.std() == pytest.approx(0.3, rel=0.01)
    assert np.corrcoef(first, x)[0, 1] == pytest.approx(0.9**30, abs=0.01)
    half = phases.productivity_walk(p, np.zeros(3), np.ones(3), np.full(3, 0.5))
    assert half == pytest.approx(np.full(3, 0.5 * 0.3 * np.sqrt(1 - 0.81)))


def test_workers_at_least_one_and_pass_reference():
    w = phases.workers(P, np.array([0.0, P.workers_sales_ref, 8 * P.workers_sales_ref]))
    assert w == pytest.approx([1.0, P.workers_at_ref, P.workers_at_ref * 8**P.workers_elasticity])


def test_entrants_are_drawn_from_their_stated_distributions():
    from scipy import stats

    from sim.keyed import Keys
    f = phases.new_firms(P, Keys(3), 20_000, month=7)
    assert (f["entry_month"] == 7).all()
    assert abs(f["growth_oriented"].mean() - P.growth_share) < 0.005
    assert stats.kstest(f["access"], stats.beta(P.access_alpha, P.access_beta).cdf).pvalue > 0.01
    log_k = np.log(f["capital"] / P.entrant_capital_median) / P.entrant_capital_sd
    assert stats.kstest(log_k, "norm").pvalue > 0.01
    sub = ~f["growth_oriented"]
    log_a = np.log(f["ability"][sub] / P.ability_subsistence_median) / P.ability_sd
    assert stats.kstest(log_a, "norm").pvalue > 0.01
    assert stats.kstest(f["log_quality"] / P.entrant_quality_sd, "norm").pvalue > 0.01
    assert stats.kstest(f["log_productivity"] / P.shock_sd, "norm").pvalue > 0.01
    assert (f["log_reach"] == P.entrant_reach).all()
    assert abs(np.corrcoef(f["log_quality"], f["log_productivity"])[0, 1]) < 0.03
    assert np.bincount(f["district"]).tolist() == pytest.approx([20_000 / P.n_districts] * P.n_districts,
                                                                rel=0.1)
    assert np.bincount(f["sector"]).size == len(phases.SECTORS)
    assert abs(np.corrcoef(log_k, f["access"])[0, 1]) < 0.03  # traits drawn independently


def test_entrants_draw_their_first_volatility_spell():
    from sim.keyed import Keys
    p = P.replace(volatility_dispersion=0.5, volatility_spell=30.0)
    f = phases.new_firms(p, Keys(3), 40_000, month=7)
    v = f["volatility"] ** 2
    assert v.mean() == pytest.approx(1.0, abs=0.02)
    assert v.var() == pytest.approx(0.5, rel=0.08)
    assert f["volatility_until"].min() == 8  # a spell lasts at least a month
    assert (f["volatility_until"] - 7).mean() == pytest.approx(30.0, rel=0.03)
    assert abs(np.corrcoef(v, f["volatility_until"])[0, 1]) < 0.03  # independent draws


def test_an_entrant_is_a_function_of_its_month_and_rank():
    from sim.keyed import Keys
    a = phases.new_firms(P, Keys(3), 100, month=7)
    b = phases.new_firms(P, Keys(3), 150, month=7)  # a higher entry rate: the first 100 are the same
    for col in ("capital", "ability", "access", "log_quality", "log_productivity", "sector", "district",
                "volatility", "volatility_until"):
        assert np.array_equal(a[col], b[col][:100])
    c = phases.new_firms(P, Keys(4), 100, month=7)
    d = phases.new_firms(P, Keys(3), 100, month=8)
    assert not np.array_equal(a["capital"], c["capital"])
    assert not np.array_equal(a["capital"], d["capital"])


def test_entry_count_is_poisson_and_rises_with_the_rate_on_the_same_seed():
    from scipy import stats

    from sim.keyed import Keys, Purpose
    keys = Keys(11)
    low = np.array([phases.entry_count(P.replace(n_firms=1000, entry_rate=0.02), keys, m) for m in range(2000)])
    high = np.array([phases.entry_count(P.replace(n_firms=1000, entry_rate=0.025), keys, m) for m in range(2000)])
    assert (high >= low).all() and (high > low).any()
    assert abs(low.mean() - 20) < 4 * np.sqrt(20 / 2000)
    observed = np.bincount(low, minlength=45)[10:31]
    pmf = stats.poisson.pmf(np.arange(10, 31), 20)
    assert stats.chisquare(observed, observed.sum() * pmf / pmf.sum()).pvalue > 0.001
    assert phases.entry_count(P.replace(entry_rate=0.0), keys, 5) == 0
    for rate in (0.0005, 0.02, 0.7):  # the quantile function, exactly
        p = P.replace(n_firms=1000, entry_rate=rate)
        for m in range(200):
            u = keys.generator(Purpose.ENTRY_COUNT, m).random()
            assert phases.entry_count(p, keys, m) == int(stats.poisson.ppf(u, rate * 1000))


@pytest.mark.parametrize("k0", [5e9, 5e6])
def test_known_answer_capital_closed_form_with_constant_sales(k0):
    """No shocks, one firm, demand always below capacity: sales = D every month, profit
    pi = margin*D - F. Depreciation is replaced from profit first, so capital moves toward
    K* = pi/d: from above (net loss) as K_t = K* + (K_0 - K*)(1-d)^t; from below (net profit,
    a share s reinvested) as K_t = K* + (K_0 - K*)(1-s*d)^t."""
    p = Parameters(**QUIET, demand_per_firm=2e6, invest_utilisation=0.0, exit_capital=0.0)
    city = one_firm_city(p, capital=k0, ability=50.0)  # capacity far above demand
    d, s = p.depreciation, p.reinvest_growth
    pi = p.margin * 2e6 - p.fixed_cost
    k_star = pi / d
    rate = 1 - d if k0 > k_star else 1 - s * d
    for t in range(1, 61):
        city.step()
        expected = k_star + (k0 - k_star) * rate**t
        # (sales are single-precision demand weight x price: ~1e-7 of D a month, accumulated)
        assert city.firms["capital"][0] == pytest.approx(expected, rel=1e-7)
        assert city.firms["sales"][0] == pytest.approx(2e6)


def test_known_answer_capacity_constrained_growth_matches_scalar_recursion():
    """Demand far above capacity: the firm sells its capacity and reinvests; compare with a
    scalar re-implementation of the rules."""
    p = Parameters(**QUIET, demand_per_firm=1e10, exit_capital=0.0)
    city = one_firm_city(p, capital=2e6, ability=1.3)
    k = 2e6
    for _ in range(48):
        city.step()
        y = p.output_at_ref * 1.3 * (k / p.capital_ref) ** p.alpha
        net = p.margin * y - p.fixed_cost - p.depreciation * k
        k += p.reinvest_growth * net if net > 0 else net
        # (capacity is single precision, a few 1e-7 a month, compounding through capital: with the
        # defaults of 2026-11-29 the firm grows 30-fold in 48 months and the gap reaches 1.1e-6;
        # a rule error moves capital by a percent or more)
        assert city.firms["capital"][0] == pytest.approx(k, rel=1e-5)


@pytest.mark.parametrize("elasticity", [0.0, 1e-250, 0.3, 0.6, 1.2])
def test_total_workers_equals_sum_of_workers(elasticity):
    p = P.replace(workers_elasticity=elasticity)
    sales = np.random.default_rng(2).lognormal(17, 2, 10_000)
    sales[:10] = 0.0
    assert phases.total_workers(p, sales) == pytest.approx(phases.workers(p, sales).sum(), rel=1e-12)


def test_product_events_known_answer():
    """A firm has an event when its uniform is below event_rate; the jump is
    event_sd * spread * ndtri(u / event_rate), read off the same uniform."""
    from scipy.special import ndtri

    from sim.keyed import Keys, Purpose
    p = Parameters(event_rate=0.1, event_sd=0.5)
    u = np.array([0.05, 0.2, 0.01, 0.0999, 0.1, 0.5])
    spread = np.array([1.0, 1.0, 0.5, 2.0, 1.0, 1.0])
    rows, jumps = phases.product_events(p, u, spread)
    assert rows.tolist() == [0, 2, 3]
    np.testing.assert_allclose(jumps, 0.5 * spread[rows] * ndtri(u[rows] / 0.1))
    assert jumps[0] == 0.0 and jumps[1] < 0 < jumps[2]  # u/rate = 0.5 is the median: no change
    # the same from a packed keyed uniform as from its floats
    packed = Keys(4).uniform_triple(Purpose.EXIT, 3, np.arange(5000))[1]
    spread = np.ones(5000)
    r1, j1 = phases.product_events(p, packed, spread)
    r2, j2 = phases.product_events(p, np.asarray(packed), spread)
    assert np.array_equal(r1, r2) and np.array_equal(j1, j2) and 300 < r1.size < 700
    assert phases.product_events(p.replace(event_sd=0.0), u, np.ones(6))[1].tolist() == [0.0, 0.0, 0.0]
    assert phases.product_events(p.replace(event_rate=0.0), u, np.ones(6))[0].size == 0


# -- volatility spells ------------------------------------------------------------------------------
_GRID_U = (np.arange(200_000) + 0.5) / 200_000  # an even grid of uniforms: quadrature, not sampling


def test_gamma_quantile_matches_scipy_in_the_body_and_the_tails():
    from scipy import special
    u = np.concatenate([_GRID_U[::97], [1e-9, 1e-5, 2e-4, 1 - 2e-4, 1 - 1e-6, 1 - 1e-9]])
    for shape in (0.5, 1.0, 3.0):
        assert phases.gamma_quantile(shape, u) == pytest.approx(special.gammaincinv(shape, u), rel=5e-5, abs=1e-8)


@pytest.mark.parametrize("d", [0.25, 1.0, 2.0])
def test_volatility_factor_has_mean_square_one_and_variance_of_square_d(d):
    v = phases.volatility_factor(P.replace(volatility_dispersion=d), _GRID_U) ** 2
    assert v.mean() == pytest.approx(1.0, rel=2e-3)
    assert v.var() == pytest.approx(d, rel=2e-2)
    assert np.all(np.diff(v) >= 0)  # by inversion: a larger uniform, a more volatile spell


def test_volatility_factor_one_is_exponential_and_mixes_normals_into_a_laplace():
    from scipy import stats
    p = P.replace(volatility_dispersion=1.0)
    v = phases.volatility_factor(p, _GRID_U) ** 2
    assert v == pytest.approx(-np.log1p(-_GRID_U), rel=1e-4, abs=1e-9)  # Exp(1) quantiles
    rng = np.random.default_rng(11)
    z = rng.standard_normal(400_000) * phases.volatility_factor(p, rng.random(400_000))
    assert stats.kurtosis(z) == pytest.approx(3.0, abs=0.25)  # a Laplace's excess kurtosis
    assert stats.kstest(z, stats.laplace(scale=np.sqrt(0.5)).cdf).pvalue > 0.01
    half = rng.standard_normal(400_000) * phases.volatility_factor(
        P.replace(volatility_dispersion=0.5), rng.random(400_000))
    assert stats.kurtosis(half) == pytest.approx(1.5, abs=0.15)  # 3 d
    assert (phases.volatility_factor(P.replace(volatility_dispersion=0.0), _GRID_U[:5]) == 1.0).all()


def test_spell_lengths_are_geometric_with_the_stated_mean():
    p = P.replace(volatility_spell=24.0)
    n = phases.spell_length(p, _GRID_U)
    assert n.min() == 1
    assert n.mean() == pytest.approx(24.0, rel=2e-3)
    assert np.mean(n == 1) == pytest.approx(1 / 24, rel=1e-3)
    # memoryless: a spell that has lasted 10 months ends next month with the same chance 1/24
    assert np.sum(n == 11) / np.sum(n > 10) == pytest.approx(1 / 24, rel=1e-2)
    assert (phases.spell_length(P.replace(volatility_spell=1.0), _GRID_U[:7]) == 1).all()


def _spell_table(until, volatility, ids=None):
    from sim.state import FirmTable
    t = FirmTable(16)
    k = len(until)
    t.append(dict(volatility_until=np.asarray(until, np.int32), volatility=np.asarray(volatility, float)), k)
    if ids is not None:
        t["firm_id"][:] = ids
    return t


def test_new_spells_only_for_firms_whose_spell_ended_and_keyed_by_firm():
    from sim.keyed import Keys
    p = P.replace(volatility_dispersion=1.0, volatility_spell=12.0)
    t = _spell_table([5, 6, 9, 4], [0.7, 0.8, 0.9, 1.1])
    phases.new_spells(p, Keys(3), t, 6)
    assert t["volatility"][2] == 0.9 and t["volatility_until"][2] == 9  # not yet over: untouched
    changed = [0, 1, 3]
    assert (t["volatility_until"][changed] > 6).all()
    assert not np.isin(t["volatility"][changed], [0.7, 0.8, 1.1]).any()
    # the same firms in another order draw the same spells
    s = _spell_table([4, 9, 6, 5], [1.1, 0.9, 0.8, 0.7], ids=[3, 2, 1, 0])
    phases.new_spells(p, Keys(3), s, 6)
    assert np.array_equal(s["volatility"][::-1], t["volatility"])
    assert np.array_equal(s["volatility_until"][::-1], t["volatility_until"])
    # without dispersion nothing is drawn
    q = _spell_table([1, 2], [1.0, 1.0])
    phases.new_spells(p.replace(volatility_dispersion=0.0), Keys(3), q, 6)
    assert q["volatility_until"].tolist() == [1, 2]


def test_a_firm_in_a_volatile_spell_gets_proportionally_larger_shocks():
    from sim.engine import City
    from sim.state import FirmTable
    p = Parameters(**{**QUIET, "n_firms": 2, "shock_sd": 0.3, "quality_sd": 0.1,
                      "volatility_dispersion": 1.0, "volatility_spell": 12.0})
    t = FirmTable(8)
    t.append(dict(capital=np.full(2, 20e6), access=np.full(2, 0.5), access_base=np.full(2, 0.5),
                  ability=np.ones(2), growth_oriented=np.ones(2, bool), entry_month=np.full(2, -120, np.int32),
                  volatility=np.array([1.0, 2.5]), volatility_until=np.full(2, 10**6, np.int32)), 2)
    t["firm_id"][:] = [7, 7]  # the same firm id: the same luck
    city = City(p, 0, t)
    city.step()
    lp, lq = city.firms["log_productivity"], city.firms["log_quality"]
    assert lp[0] != 0 and lp[1] == pytest.approx(2.5 * lp[0], rel=1e-6)  # (single precision)
    assert lq[1] == pytest.approx(2.5 * lq[0], rel=1e-6)


@pytest.mark.parametrize("inverse, a, b", [(phases._gamma_inverse, 0.7, 1.0), (phases._gamma_inverse, 2.0, 1.0),
                                           (phases._beta_inverse, 0.8, 2.5), (phases._beta_inverse, 2.0, 5.0)])
def test_quantile_interpolation_is_np_interp_to_the_bit(inverse, a, b):
    """The interval found by u * 2**14 on the even grid gives np.interp's result exactly."""
    assert np.array_equal(phases._GRID, np.arange(phases._NODES) * 2.0**-14)
    u = np.concatenate([np.random.default_rng(3).random(200_000), phases._GRID[1:-1],
                        phases._GRID[1:-1] + 2.0**-15, np.nextafter(phases._GRID[1:-1], 0.0)])
    table, _ = phases._quantile_table(inverse, a, b)
    expected = np.interp(u, phases._GRID, table)
    tails = (u < 4.0 / (phases._NODES - 1)) | (u > 1.0 - 4.0 / (phases._NODES - 1))
    expected[tails] = inverse(a, b, u[tails])
    assert np.array_equal(phases._quantile(inverse, a, b, u), expected)


@pytest.mark.parametrize("g, s", [(0.3, 0.1), (-1.5, 2.0), (0.0, -0.0), (np.inf, -np.inf), (1e-310, 5.0)])
def test_by_type_is_np_where_to_the_bit(g, s):
    flags = np.random.default_rng(4).random(1000) < 0.4
    got = phases.by_type(flags, g, s)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.int32), np.where(flags, np.float32(g), np.float32(s)).view(np.int32))


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0),
       st.lists(st.floats(0.0, 1.0, width=32), min_size=2, max_size=30))
def test_export_pull_is_a_share_that_never_falls_as_access_rises(threshold, spread, access):
    p = P.replace(export_access_threshold=threshold, export_access_spread=spread)
    a = np.sort(np.array(access, np.float32))
    pull = phases.export_pull(p, a)
    assert ((pull >= 0) & (pull <= 1)).all()
    assert (np.diff(pull) >= 0).all()
    # none below the band, all of it above
    assert (pull[a <= threshold - spread / 2 - 1e-6] == 0).all()
    assert (pull[a >= threshold + spread / 2 + 1e-6] == 1).all()


def test_export_demand_follows_weight_as_well_as_pull():
    # two firms above the band with weights 1 and 3: export demand splits 1:3
    p = P.replace(export_demand_ratio=0.4, export_access_threshold=0.6, export_access_spread=0.2,
                  spillover=0.0)
    sold = phases.market(p, np.full(2, 1e3), np.array([1.0, 3.0]), np.array([0.9, 0.75]),
                         city_demand=100.0)
    assert sold.export == pytest.approx([10.0, 30.0], rel=1e-6)


@pytest.mark.parametrize("spread", [1e-7, 1e-9, 1e-300])
def test_a_spread_narrower_than_single_precision_is_the_hard_threshold(spread):
    access = np.array([0.59, 0.6, 0.61], np.float32)
    p = P.replace(export_access_threshold=0.6)
    pull = phases.export_pull(p.replace(export_access_spread=spread), access)
    hard = phases.export_pull(p.replace(export_access_spread=0.0), access)
    assert np.isfinite(pull).all() and pull.tolist() == hard.tolist() == [0.0, 1.0, 1.0]


def test_export_pull_is_single_precision_whatever_the_input():
    assert phases.export_pull(P, np.array([0.3, 0.65])).dtype == np.float32


def test_the_per_agent_reference_model_uses_the_same_export_rule():
    """benchmarks/per_agent_model.py is the speed benchmark's reference: its scalar rule must be
    the array model's."""
    spec = importlib.util.spec_from_file_location(
        "per_agent_model", Path(__file__).parents[1] / "benchmarks" / "per_agent_model.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    grid = np.round(np.arange(0.0, 1.0001, 0.025), 3)
    for threshold in (0.4, 0.6, 0.75):
        for spread in (0.0, 1e-9, 0.1, 0.2, 0.4):
            p = P.replace(export_access_threshold=threshold, export_access_spread=spread)
            edges = [threshold, threshold - spread / 2, threshold + spread / 2]
            access = np.concatenate([grid, np.clip(edges, 0, 1)]).astype(np.float32)
            array_rule = phases.export_pull(p, access)
            scalar_rule = [ref.export_pull(p, float(a)) for a in access]
            assert scalar_rule == pytest.approx(array_rule.tolist(), abs=1e-5), (threshold, spread)


def test_the_per_agent_reference_model_closes_own_account_firms_for_household_reasons():
    """The speed benchmark's reference model shares the household hazard: at 0.5 a month nearly every
    own-account firm is gone within a few months, on the same seed as a city without it."""
    spec = importlib.util.spec_from_file_location(
        "per_agent_model", Path(__file__).parents[1] / "benchmarks" / "per_agent_model.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    counts = {}
    for hh in (0.0, 0.5):
        m = ref.PerAgentModel(300, seed=3, household_hazard=hh, entry_rate=0.0)
        for _ in range(6):
            m.step()
        firms = list(m.agents_by_type[ref.Firm])
        counts[hh] = (len(firms), sum(bool(phases.own_account(m.p, f.annual_sales())) for f in firms))
    assert counts[0.0][1] > 100  # most firms have no paid employee
    assert counts[0.5][1] < 0.1 * counts[0.0][1] and counts[0.5][0] < counts[0.0][0]


@pytest.mark.parametrize("w", [1.0, 2.0, 10.0])
def test_sales_for_workers_inverts_the_workers_rule(w):
    """The sales at which the rule reaches w workers: a known answer (workers there are w) that
    own_account's floor (two workers) and total_workers' (one) both use."""
    p = P.replace(workers_at_ref=1.4, workers_elasticity=0.9, workers_sales_ref=50e6)
    s = phases.sales_for_workers(p, w)
    assert s == pytest.approx(50e6 * (w / 1.4) ** (1 / 0.9), rel=1e-12)
    if w > 1.4:
        assert phases.workers(p, np.array([s]))[0] == pytest.approx(w, rel=1e-12)
    assert not phases.own_account(p, np.array([phases.sales_for_workers(p, 2.0) * 1.0001]))[0]
    assert phases.own_account(p, np.array([phases.sales_for_workers(p, 2.0) * 0.9999]))[0]
