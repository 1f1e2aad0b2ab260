"""The mesa agent layer agrees with the arrays: agents, AgentSet, DataCollector, batch_run."""

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.agents import FirmAgent, FirmExitedError, OfficeAgent
from sim.model import MSMEModel
from sim.run import run

KW = dict(n_firms=2000, burn_in_months=120)


@pytest.fixture
def model():
    m = MSMEModel(rng=3, **KW)
    for _ in range(6):
        m.step()
    return m


def test_agents_are_the_live_firms_and_the_office(model):
    ids = sorted(a.unique_id for a in model.firms)
    assert ids == sorted(model.city.firms["firm_id"].tolist())
    assert all(isinstance(a, FirmAgent) for a in model.firms)
    assert len(model.agents) == model.city.firms.n + 1
    (office,) = model.agents_by_type[OfficeAgent]
    assert office is model.office and office.unique_id == -1
    assert office.budget_left == model.city.office.budget_left
    assert office.queue_length == int(model.city.firms["queued"].sum())
    assert sum(office.instrument_mix.values()) == pytest.approx(1.0)


def test_agg_select_groupby_agree_with_arrays(model):
    t = model.city.firms
    assert model.firms.agg("capital", sum) == pytest.approx(t["capital"].sum(), rel=1e-12)
    assert model.firms.agg("sales", max) == t["sales"].max()
    small = model.agents.select(agent_type=FirmAgent).select(lambda a: a.size_class != "micro")
    assert len(small) == np.count_nonzero(t["size_class"] > 0)
    counts = model.firms.groupby("district").count()
    expected = np.bincount(t["district"], minlength=model.params.n_districts)
    assert counts == {d: int(c) for d, c in enumerate(expected) if c}
    by_sector = model.firms.groupby("sector").agg("capital", sum)
    assert sum(by_sector.values()) == pytest.approx(t["capital"].sum(), rel=1e-12)


def test_agents_follow_entries_and_exits(model):
    before = {a.unique_id: a for a in model.firms}
    model.step()
    now = {a.unique_id for a in model.firms}
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
    a = next(iter(model.firms))
    with pytest.raises(AttributeError, match="read-only"):
        a.capital = 1.0
    with pytest.raises(AttributeError, match="read-only"):
        model.office.budget = 0.0


def test_datacollector_agent_reporters_match_arrays():
    m = MSMEModel(rng=4, **KW)
    dc = mesa.DataCollector(model_reporters={"firms": lambda mm: len(mm.firms)},
                            agenttype_reporters={FirmAgent: {"capital": "capital", "size": "size_class"}})
    for _ in range(3):
        m.step()
        dc.collect(m)
    agents = dc.get_agenttype_vars_dataframe(FirmAgent)
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
    assert len(m._all_agents) == 1  # only the office: nobody asked for the firms yet
    assert len(m.firms) == m.city.firms.n
