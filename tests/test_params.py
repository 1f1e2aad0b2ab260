import math

import pytest

from sim.params import ParameterError, Parameters, parameter_table


def test_defaults_are_valid_and_documented():
    p = Parameters()
    rows = parameter_table()
    assert {r["name"] for r in rows} == set(p.to_dict())
    for r in rows:
        assert r["unit"] and r["source"] and r["doc"], r["name"]
        assert r["role"] in {"uncertainty", "lever", "setting"}


@pytest.mark.parametrize("name,value,fragment", [
    ("n_firms", -5, "outside its allowed range"),
    ("growth_share", 1.5, "outside its allowed range [0, 1]"),
    ("margin", math.nan, "finite"),
    ("alpha", "high", "must be a number"),
    ("n_firms", 10.5, "whole number"),
    ("size_law", "law99", "choose one of"),
    ("exit_hazard", True, "must be a number"),
])
def test_bad_values_name_parameter_value_and_range(name, value, fragment):
    with pytest.raises(ParameterError) as err:
        Parameters(**{name: value})
    assert f"'{name}'" in str(err.value)
    assert fragment in str(err.value)


def test_unknown_name_suggests_nearest():
    with pytest.raises(ParameterError, match="did you mean 'alpha'"):
        Parameters.from_dict({"alpah": 0.5})


def test_aware_at_least_registered():
    with pytest.raises(ParameterError, match="initial_aware_share"):
        Parameters(initial_aware_share=0.1, initial_registered_share=0.3)


def test_frozen():
    with pytest.raises(AttributeError):
        Parameters().alpha = 0.5
