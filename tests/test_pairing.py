"""Exact counterfactuals: every firm draws the same luck in every scenario run on the same seed.

See sim/keyed.py. Guarantees: scenarios identical until an event have identical firm tables until
then; a firm that two scenarios treat alike differs between them only through the shared market;
a firm's draws do not depend on the row it occupies.
"""

import numpy as np
import pytest

from sim.engine import City
from sim.keyed import Keys, Purpose
from sim.model import MSMEModel
from sim.scenario import load
from sim.state import COLUMNS, FirmTable

KW = dict(n_firms=3000, burn_in_months=240)


def _table(model) -> dict:
    t = model.city.firms
    return {name: t[name].copy() for name in COLUMNS}


def test_scenarios_are_bit_identical_until_their_first_event():
    merger = load("opd_merger")  # announced at month 31, merged at 37
    first = min(month for e in merger.events for month, _ in e.firings())
    a = MSMEModel(rng=5, events=merger.events, **KW)
    b = MSMEModel(rng=5, **KW)
    for month in range(1, first + 1):
        a.step()
        b.step()
        ta, tb = _table(a), _table(b)
        if month < first:
            for name in COLUMNS:
                assert np.array_equal(ta[name], tb[name]), (month, name)
    assert a.city.office.capacity_now < b.city.office.capacity_now  # month `first`: the announcement
    rows_a, rows_b = a.outcomes.iloc[:first], b.outcomes.iloc[:first]
    assert rows_a.equals(rows_b)


def test_firms_treated_alike_follow_identical_paths_when_the_market_does_not_link_them():
    """With demand far above what firms can make, every firm sells its capacity
    whatever the others do. A firm served by neither office then has the same path in both
    scenarios, draw for draw (were draws taken in row order, the paths would part at the first
    exit that differs)."""
    city = dict(KW, demand_per_firm=1e10, export_demand_ratio=0.0, quality_weight=0.0,
                access_weight=0.0, scale_weight=0.0, growth_share=0.0)  # (no firm grows to the limit)
    a = MSMEModel(rng=8, office_budget=3e10, targeting="neediest", **city)
    b = MSMEModel(rng=8, office_budget=1e9, **city)
    served = set()
    for _ in range(36):
        a.step()
        b.step()
        served |= set(a.city.office.served_ids.tolist()) | set(b.city.office.served_ids.tolist())
    ta, tb = a.city.firms, b.city.firms
    assert len(served) > 50 and ta.next_id == tb.next_id  # different offices, the same entrants
    alive_a, alive_b = set(ta["firm_id"].tolist()), set(tb["firm_id"].tolist())
    assert (alive_a ^ alive_b) <= served  # only served firms may close in one scenario only
    common = np.array(sorted((alive_a & alive_b) - served))
    assert len(common) > 0.8 * ta.n
    ra, rb = ta.row_of[common], tb.row_of[common]
    for col in ("capital", "sales", "sales_12m", "log_quality", "ability", "access", "size_class",
                "utilisation", "entry_month"):
        assert np.array_equal(ta[col][ra], tb[col][rb]), col


def test_a_firms_draws_do_not_depend_on_its_row():
    keys = Keys(11)
    ids = np.arange(1000, 2000)
    perm = np.random.default_rng(0).permutation(len(ids))
    for draw in (keys.uniform, lambda *a: keys.normal_pair(*a)[0], lambda *a: keys.uniform_pair(*a)[1],
                 lambda *a: np.asarray(keys.uniform_triple(*a)[2])):
        assert np.array_equal(draw(Purpose.EXIT, 7, ids)[perm], draw(Purpose.EXIT, 7, ids[perm]))


def test_the_monthly_step_does_not_depend_on_row_order():
    m = MSMEModel(rng=3, **KW)
    t = m.city.firms
    perm = np.random.default_rng(1).permutation(t.n)
    shuffled = FirmTable(t.capacity)
    shuffled.append({name: t[name][perm] for name in COLUMNS if name != "firm_id"}, t.n)
    shuffled.cols["firm_id"][: t.n] = t["firm_id"][perm]
    shuffled.row_of[:] = -1
    shuffled.row_of[t["firm_id"][perm]] = np.arange(t.n)
    shuffled.next_id = t.next_id
    other = City(m.params, Keys(3), shuffled)
    for _ in range(6):
        m.step()
        other.step()
    a, b = m.city.firms, other.firms
    assert a.next_id == b.next_id and a.n == b.n
    order = b.row_of[a["firm_id"]]
    assert (order >= 0).all()
    for col in ("capital", "sales", "log_quality", "access", "registered", "times_served"):
        np.testing.assert_allclose(a[col], b[col][order], rtol=1e-9, err_msg=col)


def test_streams_differ_by_purpose_month_and_seed():
    ids = np.arange(10_000)
    base = Keys(1).uniform(Purpose.EXIT, 5, ids)
    for other in (Keys(1).uniform(Purpose.PIPELINE, 5, ids), Keys(1).uniform(Purpose.EXIT, 6, ids),
                  Keys(2).uniform(Purpose.EXIT, 5, ids), Keys(1).uniform(Purpose.EXIT, -5, ids)):
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.05
        assert not np.array_equal(base, other)
    assert np.array_equal(base, Keys(1).uniform(Purpose.EXIT, 5, ids))


@pytest.mark.parametrize("n", [10_000, 200_000])
def test_keyed_draws_have_their_distributions(n):
    from scipy import stats
    keys = Keys(2026)
    ids = np.arange(n)
    u = keys.uniform(Purpose.EXIT, 3, ids)
    assert stats.kstest(u, "uniform").pvalue > 0.001 and (u >= 0).all() and (u < 1).all()
    triple = [np.asarray(u) for u in keys.uniform_triple(Purpose.EXIT, 3, ids)]
    for x in triple:
        assert stats.kstest(x, "uniform").pvalue > 0.001 and (x > 0).all() and (x < 1).all()
    for x, y in ((0, 1), (0, 2), (1, 2)):
        assert abs(np.corrcoef(triple[x], triple[y])[0, 1]) < 4 / np.sqrt(n)
    a, b = keys.uniform_pair(Purpose.DIAGNOSIS, 3, ids)
    assert stats.kstest(a, "uniform").pvalue > 0.001 and stats.kstest(b, "uniform").pvalue > 0.001
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(n)
    z1, z2 = keys.normal_pair(Purpose.SHOCKS, 3, ids)
    assert stats.kstest(z1, "norm").pvalue > 0.001 and stats.kstest(z2, "norm").pvalue > 0.001
    assert abs(np.corrcoef(z1, z2)[0, 1]) < 4 / np.sqrt(n)
    assert abs(np.corrcoef(z1[:-1], z1[1:])[0, 1]) < 4 / np.sqrt(n)  # neighbouring ids independent
    counts = keys.generator(Purpose.ENTRY_COUNT, 3).poisson(50.0, n)
    assert abs(counts.mean() - 50) < 4 * np.sqrt(50 / n)


def test_a_packed_uniform_compares_exactly_as_its_floats():
    """``Uniform21.below(h)`` (integer arithmetic) == ``floats < h`` for every field, including
    probabilities exactly on, and one float step either side of, the 21-bit grid."""
    keys = Keys(5)
    ids = np.arange(200_000)
    grid = (np.arange(0, 2**21, 9973) + 0.5) * 2.0**-21
    hs = [0.0, -1.0, 1.0, 2.0, 1e-9, 0.3, 0.999999, 2.0**-22, 2.0**-21, 3 * 2.0**-22]
    hs += [*grid[:40], *np.nextafter(grid[:40], 0), *np.nextafter(grid[:40], 1)]
    for u in keys.uniform_triple(Purpose.EXIT, 9, ids):
        floats = np.asarray(u)
        assert np.array_equal(u[ids[::7]], floats[::7])
        for h in hs:
            assert np.array_equal(u.below(h), floats < h), (u.shift, h)
        for h in floats[:50]:  # a drawn value itself is not below itself
            assert np.array_equal(u.below(h), floats < h)


def test_every_purpose_is_its_own_stream():
    """Two purposes with one number would silently share a stream (e.g. a new purpose numbered as
    an old one): ``Purpose`` is unique, and its numbers are never reused."""
    from sim.keyed import Purpose
    assert len(Purpose) == len(Purpose.__members__) == len({int(p) for p in Purpose})
    assert Purpose.POOL == 19 and Purpose.CHAIN == 20
