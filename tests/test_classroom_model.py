"""The classroom page's model (sim.app.ClassroomModel), without a browser: how the page's controls
become parameters, and the side-by-side city on the same seed."""

import numpy as np
import pytest

from sim.app import ClassroomModel, chart_options, map_option, model_params, size_option

SMALL = dict(n_firms=800, rng=4)


def test_side_by_side_with_the_same_settings_gives_the_same_city():
    m = ClassroomModel(preset="baseline", compare="baseline", **SMALL)
    for _ in range(6):
        m.step()
    a, b = m.city.firms, m.twin.city.firms
    assert m.twin.seed == m.seed and a.n == b.n
    for col in ("firm_id", "capital", "sales", "registered", "times_served"):
        assert np.array_equal(a[col], b[col]), col
    m.fire_now("opd_merger")  # only this city
    m.step()
    assert m.city.office.capacity_now < m.twin.city.office.capacity_now


def test_sliders_set_levers_the_preset_does_not_and_weights_are_normalised():
    m = ClassroomModel(preset="baseline", compare="nothing", outreach=0.05, office_budget_bn=6.0,
                       weight_equipment=1.0, weight_training=1.0, weight_market_access=0.0,
                       weight_credit=0.0, **SMALL)
    p = m.params
    assert m.twin is None and p.outreach == 0.05 and p.office_budget == 6e9
    assert (p.mix_equipment, p.mix_training, p.mix_market_access, p.mix_credit) == (0.5, 0.5, 0.0, 0.0)
    # a lever the preset sets wins over the slider; its events come with it
    r = ClassroomModel(preset="recommended_package", compare="nothing", office_capacity=0.3,
                       coordination=0.1, outreach=0.05, **SMALL)
    assert r.params.office_capacity == 0.8 and r.params.coordination == 0.8
    e = ClassroomModel(preset="opd_merger", compare="nothing", **SMALL)
    assert [ev.type for ev in e.events] == ["opd_merger"]


def test_the_page_starts_from_its_controls_defaults_and_draws_every_chart():
    params = model_params(800)
    start = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    m = ClassroomModel(rng=1, **start)
    assert m.params.outreach == pytest.approx(0.02) and m.twin is not None
    for _ in range(3):
        m.step()
    charts = chart_options(m)
    assert len(charts) == 6 and all(len(c["xAxis"]["data"]) == 4 for c in charts)
    capacity = charts[2]["series"]
    assert [s["name"] for s in capacity] == ["capacity", "capacity (baseline)"]
    assert capacity[0]["data"] == [60.0] * 4
    tiles = map_option(m, "firms")["series"][0]["data"]
    assert len(tiles) == m.params.n_districts and sum(c[2] for c in tiles) == m.city.firms.n
    bars = size_option(m)["series"][0]["data"]
    assert sum(b or 0 for b in bars) == m.city.firms.n


def test_the_side_by_side_city_runs_the_chosen_scenario_and_the_map_averages():
    m = ClassroomModel(preset="training_focus", compare="credit_focus", **SMALL)
    assert (m.params.mix_training, m.twin.params.mix_credit) == (1.0, 1.0)
    tiles = map_option(m, "registered, % of firms")["series"][0]["data"]
    t = m.city.firms
    district0 = t["district"] == 0
    assert tiles[0][2] == pytest.approx(100 * t["registered"][district0].mean(), abs=0.05)
    assert all(0 <= c[2] <= 100 for c in tiles)


def test_graduation_charts_are_cumulative():
    from types import SimpleNamespace

    from sim.params import INSTRUMENTS
    keys = ["micro", "small", "medium", "office_capacity", "queue_length", "aware_share", "registered_share",
            *[f"spend_{i}" for i in INSTRUMENTS]]
    rows = [dict(month=k, graduated_served=g, graduated_never_served=1, **{x: 1 for x in keys})
            for k, g in enumerate([0, 2, 1, 3])]
    fake = SimpleNamespace(city=SimpleNamespace(recorder=SimpleNamespace(rows=rows)), twin=None)
    served, never = chart_options(fake)[1]["series"]
    assert served["data"] == [0, 2, 3, 6] and never["data"] == [1, 2, 3, 4]
