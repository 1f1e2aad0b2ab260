import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model import MSMEModel


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), margin=st.floats(0.15, 0.4), shock_sd=st.floats(0.0, 0.8),
       entry_rate=st.floats(0.0, 0.04), growth_share=st.floats(0.0, 1.0),
       law=st.sampled_from(["pp7_2021", "law20_2008"]))
def test_accounting_invariants(seed, margin, shock_sd, entry_rate, growth_share, law):
    m = MSMEModel(rng=seed, n_firms=400, burn_in_months=36, margin=margin, shock_sd=shock_sd,
                  entry_rate=entry_rate, growth_share=growth_share, size_law=law)
    for _ in range(18):
        m.step()
        t = m.city.firms
        assert (t["capital"] > 0).all()  # no negative capital among survivors
        incumbents = t["entry_month"] < m.month  # this month's entrants have not been tested yet
        assert (t["capital"][incumbents] >= m.params.exit_capital).all()
        assert ((t["size_class"] >= 0) & (t["size_class"] <= 3)).all()  # one class each
        assert (t["sales"] >= 0).all() and (t["export_sales"] <= t["sales"] + 1e-6).all()
        assert np.allclose(t["sales_12m"], t["sales_history"].sum(axis=1))
    out = m.outcomes
    classes = out[["micro", "small", "medium", "large"]].sum(axis=1)
    assert (classes == out["firms"]).all()
    flows = out["firms"].shift() + out["entries"] - out["exits"]
    assert (flows.iloc[1:] == out["firms"].iloc[1:]).all()
    assert ((out["export_share"] >= 0) & (out["export_share"] <= 1)).all()
    s = m.city.recorder.survival_curve()
    assert ((s.dropna() >= 0) & (s.dropna() <= 1)).all()
