"""Accounting invariants of a running city, over random parameters (hypothesis).

Each invariant compares two things the model computes separately (a stored value and one recomputed
from the firms, a flow and a stock), so a bug in either side breaks it.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import phases
from sim.classes import classify
from sim.model import MSMEModel


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), margin=st.floats(0.15, 0.4), shock_sd=st.floats(0.0, 0.8),
       entry_rate=st.floats(0.0, 0.04), growth_share=st.floats(0.0, 1.0),
       law=st.sampled_from(["pp7_2021", "law20_2008"]), export_ratio=st.floats(0.0, 2.0))
def test_accounting_invariants(seed, margin, shock_sd, entry_rate, growth_share, law, export_ratio):
    m = MSMEModel(rng=seed, n_firms=400, burn_in_months=36, margin=margin, shock_sd=shock_sd,
                  entry_rate=entry_rate, growth_share=growth_share, size_law=law,
                  export_demand_ratio=export_ratio, office_budget=3e10)
    p = m.params
    for _ in range(18):
        before = m.city.firms.n
        peak_before = np.full(m.city.firms.next_id, -1, np.int64)
        peak_before[m.city.firms["firm_id"]] = m.city.firms["peak_class"]
        m.step()
        t, row = m.city.firms, m.city.recorder.rows[-1]
        incumbents = t["entry_month"] < m.month  # this month's entrants have not been tested yet
        assert (t["capital"][incumbents] >= p.exit_capital).all()
        # sales never exceed capacity, nor the market's demand
        assert (t["utilisation"][incumbents] <= 1 + 1e-6).all()
        # (firms' sales are single-precision weight x price: the sum may pass demand by ~5e-8 of it)
        assert (t["sales"] - t["export_sales"]).sum() <= m.city.city_demand() * (1 + 1e-6)
        assert t["export_sales"].sum() <= export_ratio * m.city.city_demand() * (1 + 1e-6) + 1e-6
        low = p.export_access_threshold - p.export_access_spread / 2
        assert (t["export_sales"][t["access"] <= low] == 0).all()
        # the 12-month sum kept incrementally equals the history
        assert np.allclose(t["sales_12m"], t["sales_history"].sum(axis=1), rtol=1e-9, atol=1e-3)
        # the stored class is the law's class of the firm's current capital and sales
        age = m.city.age()
        assert (t["size_class"] == classify(law, t["capital"], phases.annualised_sales(t["sales_12m"], age),
                                            age)).all()
        # the firm stock follows its flows
        assert t.n == before + row["entries"] - row["exits"]
        assert row["grad_assisted"] + row["grad_never_assisted"] == row["grad_micro_small"] + row["grad_small_medium"]
        assert (row["graduated_served"] + row["graduated_never_served"]
                == row["graduated_small"] + row["graduated_medium"])
        # graduations are the firms whose highest class so far rose past micro (past small) this
        # month; that record never falls and is at least the firm's class now
        peak = np.full(t.next_id, -1, np.int64)
        peak[t["firm_id"]] = t["peak_class"]
        both = (peak_before >= 0) & (peak[: len(peak_before)] >= 0)
        was, now = peak_before[both], peak[: len(peak_before)][both]
        assert (now >= was).all() and (t["peak_class"] >= t["size_class"]).all()
        assert row["graduated_small"] == np.count_nonzero((was == 0) & (now >= 1))
        assert row["graduated_medium"] == np.count_nonzero((was <= 1) & (now >= 2))
        assert row["workers"] >= np.count_nonzero(t["size_class"] < 3)  # at least one per MSME
        # a loan is outstanding exactly while instalments remain
        assert ((t["loan_months_left"] > 0) == (t["loan_balance"] > 1e-6)).all()
        # row_of maps every live firm id to its row
        assert (t.row_of[t["firm_id"]] == np.arange(t.n)).all()
    out = m.outcomes
    assert np.allclose(out["export_share"].iloc[1:] * out["sales"].iloc[1:], out["export_sales"].iloc[1:])
    s = m.city.recorder.survival_curve().dropna()
    assert ((s >= 0) & (s <= 1)).all()
    assert s.empty or s.iloc[0] == 1.0  # every entrant is alive at the end of its first month
