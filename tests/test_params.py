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


def test_numpy_numbers_and_whole_floats_are_taken_as_plain_numbers():
    import numpy as np
    p = Parameters(n_firms=np.int64(5000), reapply_months=np.int32(29), alpha=np.float32(0.75),
                   margin=np.float64(0.2), n_districts=5.0, burn_in_months=120.0,
                   monitoring_evaluation=np.bool_(True))
    assert p.n_firms == 5000 and type(p.n_firms) is int and type(p.reapply_months) is int
    assert type(p.n_districts) is int and type(p.burn_in_months) is int
    assert type(p.alpha) is float and p.alpha == pytest.approx(0.75) and type(p.margin) is float
    assert p.monitoring_evaluation is True
    assert p == Parameters(n_firms=5000, reapply_months=29, alpha=float(np.float32(0.75)), margin=0.2,
                           n_districts=5, burn_in_months=120, monitoring_evaluation=True)
    with pytest.raises(ParameterError, match="whole number"):
        Parameters(n_firms=np.float64(10.5))


@pytest.mark.parametrize("itype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("ftype", ["float16", "float32", "float64"])
def test_numpy_scalars_of_every_width_work_in_parameters_run_and_the_model(itype, ftype):
    import numpy as np

    from sim.model import MSMEModel
    from sim.run import run
    i, f = np.dtype(itype).type, np.dtype(ftype).type
    p = Parameters(reapply_months=i(29), margin=f(0.25), office=np.bool_(False))
    assert type(p.reapply_months) is int and type(p.margin) is float and p.office is False
    r = run(seed=i(3), months=i(2), n_firms=i(100), burn_in_months=i(24), margin=f(0.25))
    assert len(r.monthly) == 3 and r.seed == 3 and type(r.seed) is int
    m = MSMEModel(rng=i(4), n_firms=i(100), burn_in_months=i(24), alpha=f(0.75))
    m.step()
    assert m.seed == 4 and m.month == 1
