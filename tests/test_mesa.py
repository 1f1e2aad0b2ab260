"""The mesa agent layer agrees with the arrays: agents, AgentSet, DataCollector, batch_run."""

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.agents import FirmAgent, FirmExitedError
from sim.model import MSMEModel
from sim.run import run

KW = dict(n_firms=2000, burn_in_months=120)


@pytest.fixture
def model():
    m = MSMEModel(rng=3, **KW)
    for _ in range(6):
        m.step()
    return m


def test_agents_are_the_live_firms(model):
    ids = sorted(a.unique_id for a in model.agents)
    assert ids == sorted(model.city.firms["firm_id"].tolist())
    assert all(isinstance(a, FirmAgent) for a in model.agents)
    assert len(model.agents_by_type[FirmAgent]) == model.city.firms.n


def test_agg_select_groupby_agree_with_arrays(model):
    t = model.city.firms
    assert model.agents.agg("capital", sum) == pytest.approx(t["capital"].sum(), rel=1e-12)
    assert model.agents.agg("sales", max) == t["sales"].max()
    small = model.agents.select(lambda a: a.size_class != "micro")
    assert len(small) == np.count_nonzero(t["size_class"] > 0)
    counts = model.agents.groupby("district").count()
    expected = np.bincount(t["district"], minlength=model.params.n_districts)
    assert counts == {d: int(c) for d, c in enumerate(expected) if c}
    by_sector = model.agents.groupby("sector").agg("capital", sum)
    assert sum(by_sector.values()) == pytest.approx(t["capital"].sum(), rel=1e-12)


def test_agents_follow_entries_and_exits(model):
    before = {a.unique_id: a for a in model.agents}
    model.step()
    now = {a.unique_id for a in model.agents}
    assert now == set(model.city.firms["firm_id"].tolist())
    exited = [a for fid, a in before.items() if fid not in now]
    assert exited, "some firms exit every month at this size"
    gone = exited[0]
    assert not gone.alive
    with pytest.raises(FirmExitedError):
        _ = gone.capital
    stayed = next(a for fid, a in before.items() if fid in now)
    assert stayed.alive and stayed.capital == model.city.firms["capital"][
        model.city.firms.row_of[stayed.unique_id]]


def test_agents_are_read_only(model):
    a = next(iter(model.agents))
    with pytest.raises(AttributeError, match="read-only"):
        a.capital = 1.0


def test_datacollector_agent_reporters_match_arrays():
    m = MSMEModel(rng=4, **KW)
    dc = mesa.DataCollector(model_reporters={"firms": lambda mm: len(mm.agents)},
                            agent_reporters={"capital": "capital", "size": "size_class"})
    for _ in range(3):
        m.step()
        dc.collect(m)
    agents = dc.get_agent_vars_dataframe()
    last = agents.xs(m.time, level="Step")
    t = m.city.firms
    assert len(last) == t.n
    assert last["capital"].sum() == pytest.approx(t["capital"].sum(), rel=1e-12)
    assert dc.get_model_vars_dataframe()["firms"].iloc[-1] == t.n


def test_model_datacollector_reports_the_outcome_table():
    m = MSMEModel(rng=4, **KW)
    for _ in range(4):
        m.step()
    dc = m.datacollector.get_model_vars_dataframe()
    out = m.outcomes
    assert dc["firms"].tolist() == out["firms"].tolist()
    assert dc["sales"].tolist() == out["sales"].tolist()


def test_batch_run_uses_the_seeds_and_agrees_with_run():
    rows = mesa.batch_run(MSMEModel, parameters={**KW, "margin": [0.25]}, rng=[21, 22],
                          max_steps=5, number_processes=1, display_progress=False)
    df = pd.DataFrame(rows)
    for seed, it in ((21, 0), (22, 1)):
        got = df[df["iteration"] == it].set_index("Step")["firms"]
        ref = run(seed=seed, months=5, margin=0.25, **KW).monthly.set_index("month")["firms"]
        assert got.tolist() == ref.loc[got.index].tolist()


def test_agent_layer_costs_nothing_until_read():
    m = MSMEModel(rng=5, **KW)
    for _ in range(3):
        m.step()
    assert len(m._all_agents) == 0  # nobody asked for agents yet
    assert len(m.agents) == m.city.firms.n
