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


def test_instrument_mix_must_sum_to_one():
    with pytest.raises(ParameterError, match="mix_equipment=0.9.*sum to 1.35"):
        Parameters(mix_equipment=0.9)
    Parameters(mix_equipment=0.25, mix_training=0.25, mix_market_access=0.25, mix_credit=0.25)


def test_bool_and_choice_levers():
    with pytest.raises(ParameterError, match="'monitoring_evaluation' = 1 must be true or false"):
        Parameters(monitoring_evaluation=1)
    with pytest.raises(ParameterError, match="choose one of first_come, random"):
        Parameters(targeting="lottery")


def test_frozen():
    with pytest.raises(AttributeError):
        Parameters().alpha = 0.5
