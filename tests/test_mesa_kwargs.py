"""MSMEModel takes every keyword mesa's own tools pass: seed, rng, scenario (SolaraViz's Reset,
batch_run), and fires events on demand (for interactive use)."""

import mesa
import pytest
from mesa.experimental.scenarios import Scenario
from mesa.visualization.solara_viz import _build_model_init_kwargs

from sim.model import MSMEModel
from sim.params import ParameterError

SMALL = dict(n_firms=800, burn_in_months=60)


def test_seed_is_the_same_as_rng_and_both_must_agree():
    a, b = MSMEModel(seed=5, **SMALL), MSMEModel(rng=5, **SMALL)
    assert a.seed == b.seed == 5 and a.scenario.rng == 5
    a.step(), b.step()
    assert a.outcomes.equals(b.outcomes)
    assert MSMEModel(rng=5, seed=5, **SMALL).seed == 5
    with pytest.raises(ParameterError, match="disagree"):
        MSMEModel(rng=5, seed=6, **SMALL)


def test_solaraviz_reset_builds_a_model_with_the_sliders_values():
    """What mesa's ModelController.do_reset does: the model's parameters from the sliders, plus a
    new Scenario of the model's scenario class (rng None: a fresh seed)."""
    model = MSMEModel(rng=1, **SMALL)
    kwargs = _build_model_init_kwargs(model, {**SMALL, "outreach": 0.05, "targeting": "diagnosis"},
                                      add_scenario_when_empty=True, require_model_accepts_scenario=True)
    assert isinstance(kwargs["scenario"], Scenario)
    fresh = type(model)(**kwargs)
    assert fresh.params.outreach == 0.05 and fresh.params.targeting == "diagnosis"
    assert fresh.scenario.rng == fresh.seed and fresh.seed != 1  # a new seed, recorded
    fresh.step()
    assert fresh.month == 1


def test_a_mesa_scenario_carries_the_seed_and_parameters():
    m = MSMEModel(scenario=Scenario(rng=9, outreach=0.04, not_a_parameter=1), **SMALL)
    assert m.seed == 9 and m.params.outreach == 0.04
    with pytest.raises(ParameterError, match="disagree"):
        MSMEModel(scenario=Scenario(rng=9), rng=8, **SMALL)


def test_an_msme_sim_scenario_by_name_brings_its_parameters_and_events():
    m = MSMEModel(scenario="opd_merger", rng=2, **SMALL)
    assert [e.type for e in m.events] == ["opd_merger"]
    base = MSMEModel(rng=2, **SMALL)
    assert m.params.office_capacity == base.params.office_capacity


def test_batch_run_with_scenario_free_parameters():
    rows = mesa.batch_run(MSMEModel, parameters={**{k: [v] for k, v in SMALL.items()}, "outreach": [0.02]},
                          rng=[1, 2], max_steps=3, number_processes=1, display_progress=False)
    assert len(rows) == 2 and {r["seed"] for r in rows} == {1, 2}


def test_fire_schedules_an_event_next_month_with_defaults():
    m = MSMEModel(rng=3, **SMALL)
    m.step()
    before = m.city.office.capacity_now
    event = m.fire("opd_merger", depth=0.5)
    assert event.values["month"] == 2 and event.values["announce_before"] == 0
    assert event.values["record_loss"] == 0.5  # the default
    m.step()
    assert m.city.office.capacity_now == pytest.approx(before * 0.5)
    m.fire("demand_shock")
    m.step()
    assert m.city.city_demand() < m.city.city_demand(month=1)
    with pytest.raises(ParameterError, match="unknown event type"):
        m.fire("earthquake")
    with pytest.raises(ParameterError, match="outside"):
        m.fire("austerity", budget_cut=2.0)
    with pytest.raises(ParameterError, match="has no field"):
        m.fire("austerity", month=9)
