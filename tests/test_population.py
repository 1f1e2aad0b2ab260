"""The starting city: the burn-in's pooled moments and the weighted draw (sim/population.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.classes import classify
from sim.engine import City
from sim.keyed import Keys, Purpose
from sim.params import Parameters
from sim.population import burn_in, burn_in_parameters, entrants_table, initial_table, weighted_draw

P = Parameters(n_firms=600, burn_in_firms=600, burn_in_months=240, burn_in_slices=4, burn_in_chains=1)
MONTH_COLUMNS = ("entry_month", "apply_month", "served_month", "volatility_until")


def _moments(p, keep=(), keys=None, share=None):
    """Firms alive, and firms above micro under either law, at each of the burn-in's pooled
    moments, replayed step by step as ``burn_in`` runs them; with ``keep``, also those columns of
    the rows the pool should hold (every firm above micro, and the keyed share of the micro firms
    that ``burn_in``'s rule picks: 1 / ``share``, by default one over the slices), as the city has
    them at that moment. ``keys``: a chain's keys (default: the first chain's, ``burn_in_seed``)."""
    pb = burn_in_parameters(p)
    keys = keys or Keys(p.burn_in_seed)
    share = share or p.burn_in_slices
    city = City(pb, keys, entrants_table(pb, keys, p.burn_in_firms), record=False)
    k, gap = p.burn_in_slices, p.burn_in_months // (2 * p.burn_in_slices)
    city.run(p.burn_in_months - (k - 1) * gap)
    out = []
    for i in range(k):
        if i:
            city.run(gap)
        age = city.age()
        above = np.zeros(city.firms.n, bool)
        for law in ("law20_2008", "pp7_2021"):
            above |= classify(law, city.firms["capital"], city.annual_sales, age) > 0
        micro = np.flatnonzero(~above)
        picked = keys.generator(Purpose.POOL, city.month).choice(micro, size=round(micro.size / share),
                                                                replace=False)
        rows = np.sort(np.concatenate([np.flatnonzero(above), picked]))
        cols = {c: city.firms[c][rows].copy() for c in keep}
        out.append((city.month, city.firms.n, int(above.sum()), micro.size, cols))
    return out


def test_the_pool_is_the_average_of_its_moments():
    moments = _moments(P)
    assert [m[0] for m in moments] == [150, 180, 210, 240]  # every 30 months over the second half
    pool = burn_in(P)
    w = pool["pool_weight"]
    assert set(np.unique(w)) <= {1.0, 0.25}
    # every firm above micro at every moment is in, a quarter each: their weight is the moments' mean
    assert w[w < 1].sum() == sum(m[2] for m in moments) / 4
    assert np.count_nonzero(w < 1) == sum(m[2] for m in moments)
    # and a quarter (rounded) of each moment's micro firms: the total weight is the moments' mean city
    assert np.count_nonzero(w == 1) == sum(round(m[3] / 4) for m in moments)
    assert abs(w.sum() - np.mean([m[1] for m in moments])) <= 4 * 0.5
    # months count from the firm's own moment: nobody entered after it
    assert pool["entry_month"].max() <= 0


def test_the_pool_holds_each_moments_firms_as_its_rule_picks_them():
    """Firm by firm: each moment's keyed share of micro firms (keyed by that moment's month), in
    order, with months counted from the moment."""
    moments = _moments(P, keep=("capital", *MONTH_COLUMNS))
    pool = burn_in(P)
    np.testing.assert_array_equal(pool["capital"], np.concatenate([m[4]["capital"] for m in moments]))
    for col in MONTH_COLUMNS:
        np.testing.assert_array_equal(pool[col], np.concatenate([m[4][col] - m[0] for m in moments]),
                                      err_msg=col)


def test_chains_are_independent_burn_ins_pooled_with_equal_weight():
    """Two chains: the first from burn_in_seed's keys, the second from keys derived from them; each
    chain's moments as one chain would pool them, but with half the weight and half the micro share,
    so the pool is still about one city, and its upper tail the average of both chains."""
    p = P.replace(burn_in_chains=2)
    root = Keys(p.burn_in_seed)
    chains = [_moments(p, keep=("capital", "entry_month"), keys=k, share=2 * p.burn_in_slices)
              for k in (root, Keys(root.key(Purpose.CHAIN, 1)))]
    pool = burn_in(p)
    rows = [m[4] for chain in chains for m in chain]
    np.testing.assert_array_equal(pool["capital"], np.concatenate([r["capital"] for r in rows]))
    np.testing.assert_array_equal(pool["entry_month"],
                                  np.concatenate([m[4]["entry_month"] - m[0] for c in chains for m in c]))
    w = pool["pool_weight"]
    assert set(np.unique(w)) <= {1.0, 1 / 8}
    above = [m[2] for chain in chains for m in chain]
    assert np.count_nonzero(w < 1) == sum(above) and w[w < 1].sum() == pytest.approx(sum(above) / 8)
    assert abs(w.sum() - np.mean([m[1] for chain in chains for m in chain])) <= 8 * 0.5
    # the chains differ (independent luck), and one chain alone is the old single burn-in
    assert [m[2] for m in chains[0]] != [m[2] for m in chains[1]]
    one = burn_in(P)
    first = np.concatenate([m[4]["capital"] for m in _moments(P, keep=("capital",))])
    np.testing.assert_array_equal(one["capital"], first)


def test_every_further_chain_has_its_own_keys():
    """Three chains: each from its own derived keys (not copies of one another), in order."""
    p = P.replace(burn_in_chains=3, burn_in_slices=2)
    root = Keys(p.burn_in_seed)
    chains = [_moments(p, keep=("capital",), keys=k, share=3 * p.burn_in_slices)
              for k in (root, *(Keys(root.key(Purpose.CHAIN, c)) for c in (1, 2)))]
    pool = burn_in(p)
    np.testing.assert_array_equal(pool["capital"],
                                  np.concatenate([m[4]["capital"] for chain in chains for m in chain]))
    firms = [tuple(m[1] for m in chain) for chain in chains]
    assert len(set(firms)) == 3


def test_one_slice_is_the_burn_ins_end():
    p = P.replace(burn_in_slices=1)
    (month, alive, *_), = _moments(p)
    pool = burn_in(p)
    assert month == 240 and len(pool["capital"]) == alive and (pool["pool_weight"] == 1).all()


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.sampled_from([1.0, 0.1, 0.25, 0.5]), min_size=1, max_size=300),
       scale=st.floats(0.05, 4.0), seed=st.integers(0, 2**32))
def test_weighted_draw_keeps_the_pool_composition_to_whole_firms(weights, scale, seed):
    w = np.array(weights)
    rows = weighted_draw(w, scale, np.random.default_rng(seed))
    count = int(round(scale * w.sum()))
    assert len(rows) == count
    copies = np.bincount(rows, minlength=len(w))
    if count:
        expected = count * w / w.sum()
        assert (copies >= np.floor(expected - 1e-9)).all() and (copies <= np.ceil(expected + 1e-9)).all()
        if count <= w.sum():  # a city no larger than the burn-in's draws no firm twice
            assert copies.max() <= 1


def test_a_row_is_drawn_in_proportion_to_its_weight_and_in_any_company():
    # a random start: one row of weight 1 among four of 0.25, one row drawn: it is row 0 half the time
    w = np.array([1.0, 0.25, 0.25, 0.25, 0.25])
    hits = sum(0 in weighted_draw(w, 0.5, np.random.default_rng(s)) for s in range(4000))
    assert 0.45 < hits / 4000 < 0.55  # (about 0.2 if the first row in the order always won)
    # a random order: any two rows can be drawn together (in a fixed order, neighbours never are)
    pairs = {tuple(sorted(weighted_draw(np.full(4, 0.5), 1.0, np.random.default_rng(s)))) for s in range(500)}
    assert {(0, 1), (2, 3), (0, 2)} <= pairs


def test_a_city_smaller_than_the_burn_in_is_scaled_by_the_burn_ins_size():
    p = P.replace(n_firms=300, burn_in_firms=600)  # the burn-in has min(300, 600) = 300 firms
    pool = burn_in(p)
    assert initial_table(p, Keys(3)).n == round(pool["pool_weight"].sum())


def test_a_run_starts_from_a_draw_scaled_to_n_firms():
    pool = burn_in(P)
    table = initial_table(P.replace(n_firms=1500), Keys(3))
    assert table.n == round(pool["pool_weight"].sum() * 1500 / 600)
    again = initial_table(P.replace(n_firms=1500), Keys(3))
    assert np.array_equal(table["capital"], again["capital"])  # keyed by the run's seed
    other = initial_table(P.replace(n_firms=1500), Keys(4))
    assert not np.array_equal(table["capital"], other["capital"])
