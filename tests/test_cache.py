"""The burn-in cache never serves a run a city built with other parameters (sim/population.py)."""

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.params import BURN_IN_IRRELEVANT, Parameters, levers
from sim.population import burn_in, burn_in_key, stationary_population

BASE = Parameters(n_firms=300, burn_in_firms=300, burn_in_months=24)
SHAPING = [f.name for f in fields(Parameters)
           if f.metadata["role"] != "lever" and f.name not in BURN_IN_IRRELEVANT]


@st.composite
def other_value(draw, names):
    """A parameter name and a valid value different from BASE's (cheap to burn in)."""
    name = draw(st.sampled_from(names))
    meta = next(f.metadata for f in fields(Parameters) if f.name == name)
    old = getattr(BASE, name)
    if isinstance(old, bool):
        return name, not old
    if meta["choices"]:
        return name, draw(st.sampled_from([c for c in meta["choices"] if c != old]))
    low, high = meta["low"], meta["high"]
    if name == "burn_in_months":
        high = 36
    if meta["integer"]:
        value = draw(st.integers(int(low), int(min(high, 10**6))).filter(lambda v: v != old))
    else:
        value = draw(st.floats(low, high, allow_nan=False).filter(lambda v: v != old))
    return name, value


def test_the_shaping_parameters_are_the_non_levers():
    assert set(SHAPING) | set(levers()) | BURN_IN_IRRELEVANT == {f.name for f in fields(Parameters)}
    # the only settings the stationary population does not depend on (each tested below)
    assert BURN_IN_IRRELEVANT == {"n_firms", "size_law", "burn_in_firms"}


@settings(max_examples=300, deadline=None)
@given(change=other_value(SHAPING))
def test_any_parameter_that_shapes_the_burn_in_changes_its_key(change):
    name, value = change
    assert burn_in_key(BASE.replace(**{name: value})) != burn_in_key(BASE), change


@settings(max_examples=100, deadline=None)
@given(change=other_value([*levers(), *BURN_IN_IRRELEVANT]))
def test_levers_and_run_settings_share_one_burn_in(change):
    name, value = change
    if name in ("n_firms", "burn_in_firms"):
        value = max(value, 300)  # the burn-in's size is min(n_firms, burn_in_firms)
    try:
        other = BASE.replace(**{name: value})
    except ValueError:  # an instrument mix that no longer sums to 1
        return
    assert burn_in_key(other) == burn_in_key(BASE), change


@settings(max_examples=25, deadline=None)
@given(change=other_value(SHAPING))
def test_a_warm_cache_never_serves_a_city_built_with_other_parameters(change, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MSME_SIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        stationary_population(BASE)  # warm: BASE's city is in the cache
        other = BASE.replace(**{change[0]: change[1]})
        served = stationary_population(other)
    fresh = burn_in(other)
    assert served.keys() == fresh.keys()
    for col in fresh:
        np.testing.assert_array_equal(served[col], fresh[col], err_msg=f"{change}: {col}")


def test_a_lever_or_the_size_law_does_not_change_the_starting_city():
    a = burn_in(BASE)
    for change in (dict(office_budget=0.0, targeting="neediest"), dict(size_law="law20_2008"),
                   dict(n_firms=5000)):
        b = burn_in(BASE.replace(**change))
        for col in a:
            if col == "size_class" and "size_law" in change:
                continue  # the stored classes follow the burn-in's law; every City reclassifies (below)
            np.testing.assert_array_equal(a[col], b[col], err_msg=f"{change}: {col}")


def test_a_city_classifies_its_firms_under_its_own_law_whatever_the_cache_holds(tmp_path, monkeypatch):
    from sim.classes import classify
    from sim.engine import City
    from sim.keyed import Keys
    from sim.population import initial_table
    monkeypatch.setenv("MSME_SIM_CACHE", str(tmp_path))
    # many above Rp 50 M of assets, and more demand (exports at the pre-2026-11-29 scale) so that
    # some firms also sell above Rp 300 M: the city must hold firms above micro under Law 20/2008
    p = BASE.replace(size_law="law20_2008", entrant_capital_median=60e6, export_demand_ratio=0.25)
    stationary_population(p.replace(size_law="pp7_2021"))  # the cache now holds PP 7/2021 classes
    city = City(p, Keys(1), initial_table(p, Keys(1)))
    t = city.firms
    expected = classify("law20_2008", t["capital"], city.annual_sales, city.age())
    assert (expected > 0).any()
    np.testing.assert_array_equal(t["size_class"], expected)


def test_a_private_cache_burns_in_once_leaves_nothing_and_changes_nothing(tmp_path, monkeypatch):
    """calibrate's evaluations run several seeds of a new parameter set inside ``private_cache``."""
    from sim.keyed import Keys
    from sim.population import cache_dir, initial_table, private_cache
    monkeypatch.setenv("MSME_SIM_CACHE", str(tmp_path / "user"))
    p = BASE.replace(entry_rate=0.021)
    cold = [initial_table(p, Keys(s), use_cache=False) for s in (1, 2)]
    with private_cache() as folder:
        assert cache_dir() == folder and folder.is_dir()
        warm = [initial_table(p, Keys(s)) for s in (1, 2)]
        assert len(list(folder.glob("stationary-*.npz"))) == 1  # one burn-in for both seeds
    assert not folder.exists() and not (tmp_path / "user").exists()  # removed; the user's cache untouched
    assert cache_dir() == tmp_path / "user"
    for a, b in zip(cold, warm, strict=True):
        assert all(np.array_equal(a[name], b[name]) for name in a.cols)
