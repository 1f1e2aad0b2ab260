import numpy as np
import pytest

from sim import phases
from sim.params import Parameters
from tests.helpers import QUIET, one_firm_city

P = Parameters()


def test_capacity_follows_the_production_function_and_shock_has_mean_one():
    k = np.array([P.capital_ref, 4 * P.capital_ref])
    cap = phases.capacity(P.replace(shock_sd=0.0), k, np.array([1.0, 2.0]), np.zeros(2))
    assert cap == pytest.approx([P.output_at_ref, 2 * P.output_at_ref * 4**P.alpha])
    draws = np.random.default_rng(1).standard_normal(400_000)
    mean = phases.capacity(P, np.full(draws.size, P.capital_ref), np.ones(draws.size), draws).mean()
    assert mean == pytest.approx(P.output_at_ref, rel=0.01)


def test_market_splits_demand_by_weight_and_caps_at_capacity():
    p = P.replace(export_demand_ratio=0.0)
    cap = np.array([100.0, 100.0, 10.0])
    w = np.array([1.0, 3.0, 4.0])
    sold = phases.market(p, cap, w, np.full(3, 0.1), city_demand=160.0)
    assert sold.domestic == pytest.approx([20.0, 60.0, 10.0])  # 80 demanded of the third, 10 sold
    assert sold.export.sum() == 0


def test_export_only_above_access_threshold_and_within_spare_capacity():
    p = P.replace(export_demand_ratio=1.0, export_access_threshold=0.6)
    cap = np.array([100.0, 100.0])
    sold = phases.market(p, cap, np.array([1.0, 1.0]), np.array([0.5, 0.9]), city_demand=100.0)
    assert sold.domestic == pytest.approx([50.0, 50.0])
    assert sold.export == pytest.approx([0.0, 50.0])  # 100 demanded abroad, 50 spare


def test_accumulate_reinvests_only_when_busy_and_losses_eat_capital():
    p = P.replace(depreciation=0.01, reinvest_growth=0.5, reinvest_subsistence=0.1,
                  invest_utilisation=0.9)
    k = np.full(4, 100.0)
    prof = np.array([10.0, 10.0, 10.0, -5.0])
    growth = np.array([True, False, True, True])
    util = np.array([1.0, 1.0, 0.5, 1.0])
    assert phases.accumulate(p, k, prof, growth, util) == pytest.approx([104.0, 100.0, 99.0, 94.0])


def test_exits_on_exhausted_capital_or_outside_hazard():
    p = P.replace(exit_capital=1.0, exit_hazard=0.1)
    out = phases.exits(p, np.array([0.5, 5.0, 5.0]), np.array([0.9, 0.05, 0.9]))
    assert out.tolist() == [True, True, False]


def test_workers_at_least_one_and_pass_reference():
    w = phases.workers(P, np.array([0.0, P.workers_sales_ref, 8 * P.workers_sales_ref]))
    assert w == pytest.approx([1.0, P.workers_at_ref, P.workers_at_ref * 8**P.workers_elasticity])


def test_entrants_are_drawn_from_their_stated_distributions():
    from scipy import stats

    from sim.keyed import Keys
    f = phases.new_firms(P, Keys(3), np.arange(20_000), month=7)
    assert (f["entry_month"] == 7).all()
    assert abs(f["growth_oriented"].mean() - P.growth_share) < 0.005
    assert stats.kstest(f["access"], stats.beta(P.access_alpha, P.access_beta).cdf).pvalue > 0.01
    log_k = np.log(f["capital"] / P.entrant_capital_median) / P.entrant_capital_sd
    assert stats.kstest(log_k, "norm").pvalue > 0.01
    sub = ~f["growth_oriented"]
    log_a = np.log(f["ability"][sub] / P.ability_subsistence_median) / P.ability_sd
    assert stats.kstest(log_a, "norm").pvalue > 0.01
    assert stats.kstest(f["log_quality"] / P.entrant_quality_sd, "norm").pvalue > 0.01
    assert np.bincount(f["district"]).tolist() == pytest.approx([20_000 / P.n_districts] * P.n_districts,
                                                                rel=0.1)
    assert np.bincount(f["sector"]).size == len(phases.SECTORS)
    assert abs(np.corrcoef(log_k, f["access"])[0, 1]) < 0.03  # traits drawn independently


def test_an_entrant_is_a_function_of_its_id():
    from sim.keyed import Keys
    a = phases.new_firms(P, Keys(3), np.arange(100, 200), month=7)
    b = phases.new_firms(P, Keys(3), np.arange(150, 250), month=9)
    for col in ("capital", "ability", "access", "log_quality", "sector", "district"):
        assert np.array_equal(a[col][50:], b[col][:50])
    c = phases.new_firms(P, Keys(4), np.arange(100, 200), month=7)
    assert not np.array_equal(a["capital"], c["capital"])


def test_known_answer_capital_closed_form_with_constant_sales():
    """No shocks, one firm, demand always below capacity: sales = D every month, so
    K_t = (1-d)^t K_0 + s*pi*(1-(1-d)^t)/d with pi = margin*D - F."""
    p = Parameters(**QUIET, demand_per_firm=2e6, invest_utilisation=0.0, exit_capital=0.0)
    city = one_firm_city(p, capital=5e9)  # capacity far above demand
    k0, d, s = 5e9, p.depreciation, p.reinvest_growth
    pi = p.margin * 2e6 - p.fixed_cost
    for t in range(1, 61):
        city.step()
        expected = (1 - d) ** t * k0 + s * pi * (1 - (1 - d) ** t) / d
        assert city.firms["capital"][0] == pytest.approx(expected, rel=1e-12)
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
        prof = p.margin * y - p.fixed_cost
        k = k * (1 - p.depreciation) + (p.reinvest_growth * prof if prof > 0 else prof)
        assert city.firms["capital"][0] == pytest.approx(k, rel=1e-10)


@pytest.mark.parametrize("elasticity", [0.0, 0.3, 0.6, 1.2])
def test_total_workers_equals_sum_of_workers(elasticity):
    p = P.replace(workers_elasticity=elasticity)
    sales = np.random.default_rng(2).lognormal(17, 2, 10_000)
    sales[:10] = 0.0
    assert phases.total_workers(p, sales) == pytest.approx(phases.workers(p, sales).sum(), rel=1e-12)
