"""Sensitivity analysis: plausible ranges, Saltelli and Morris designs, SALib's estimators on
functions with known indices, and the command on a small stored study."""

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import sensitivity
from sim.experiment import StudyError, load_study, morris_trajectories, saltelli_sample
from sim.params import PLAUSIBLE, ParameterError, Parameters, salib_problem, uncertainties
from sim.population import burn_in_key

CLI = [sys.executable, "-m", "sim.cli"]


# -- plausible ranges ------------------------------------------------------------------------------
def test_every_uncertainty_declares_a_plausible_range_inside_its_limits():
    meta = {f.name: f.metadata for f in fields(Parameters)}
    uncertain = {n for n, m in meta.items() if m["role"] == "uncertainty"}
    assert set(uncertainties()) == uncertain == set(PLAUSIBLE)
    for u in uncertainties().values():
        m = meta[u.name]
        assert m["low"] <= u.low < u.high <= m["high"], u.name
        assert u.low <= u.default <= u.high, u.name  # the default is a plausible value
        assert u.source and u.unit == m["unit"]


def test_salib_problem_lists_ranges_and_refuses_other_names():
    prob = salib_problem(["margin", "alpha"])
    assert prob == {"num_vars": 2, "names": ["alpha", "margin"],
                    "bounds": [list(PLAUSIBLE["alpha"][:2]), list(PLAUSIBLE["margin"][:2])]}
    with pytest.raises(ParameterError, match="not an uncertain parameter: 'office_budget'"):
        uncertainties(["office_budget", "margin"])


# -- estimators with known answers -------------------------------------------------------------------
def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    """At the documented sample size (1,024 base samples, 5,120 evaluations), every first-order
    and total index is within 0.05 of its analytic value (Ishigami & Homma 1990; Sobol' 1993)."""
    a, b = 7.0, 0.1
    v = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    unit = saltelli_sample(3, 1024, seed=1)
    assert unit.shape == (1024 * 5, 3)
    X = -np.pi + 2 * np.pi * unit
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    res = sensitivity.sobol_indices(problem, ishigami(X), resamples=200)
    assert np.abs(res["S1"].to_numpy() - s1).max() < 0.05
    assert np.abs(res["ST"].to_numpy() - st).max() < 0.05
    assert (res["S1_low"] < res["S1"]).all() and (res["ST"] < res["ST_high"]).all()


def test_sobol_indices_of_a_constant_outcome_are_zero():
    prob = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    res = sensitivity.sobol_indices(prob, np.ones(16 * 4))
    assert (res[["S1", "ST"]].to_numpy() == 0).all()


@pytest.mark.parametrize("levels", [4, 6])  # (4 is SALib's default; 6 shows it is passed on)
def test_morris_measures_of_a_linear_function_are_its_slopes_times_ranges(levels):
    bounds = [[0.0, 2.0], [10.0, 20.0], [-1.0, 1.0]]
    slopes = np.array([3.0, -0.5, 0.0])
    unit = morris_trajectories(3, 20, levels, seed=5)
    X = np.array([lo for lo, _ in bounds]) + unit * np.array([hi - lo for lo, hi in bounds])
    prob = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": bounds}
    res = sensitivity.morris_measures(prob, X, X @ slopes, levels=levels, resamples=100)
    widths = np.array([hi - lo for lo, hi in bounds])
    np.testing.assert_allclose(res["mu"], slopes * widths, atol=1e-9)
    np.testing.assert_allclose(res["mu_star"], np.abs(slopes) * widths, atol=1e-9)
    np.testing.assert_allclose(res["sigma"], 0.0, atol=1e-9)
    assert (res["mu_star_low"] <= res["mu_star"]).all() and (res["mu_star"] <= res["mu_star_high"]).all()
    np.testing.assert_allclose(res["mu_star_low"] + res["mu_star_high"], 2 * res["mu_star"])


def test_sobol_intervals_are_each_index_plus_minus_its_own_half_width(monkeypatch):
    import SALib.analyze.sobol as salib_sobol
    monkeypatch.setattr(salib_sobol, "analyze", lambda *a, **k: {
        "S1": np.array([0.5]), "S1_conf": np.array([0.1]), "ST": np.array([0.6]), "ST_conf": np.array([0.3])})
    res = sensitivity.sobol_indices({"num_vars": 1, "names": ["a"], "bounds": [[0, 1]]}, np.arange(6.0))
    np.testing.assert_allclose(res.loc[0, ["S1_low", "S1_high", "ST_low", "ST_high"]].astype(float),
                               [0.4, 0.6, 0.3, 0.9])


# -- study files -------------------------------------------------------------------------------------
def _study(tmp_path, design: str, extra: str = "") -> str:
    path = tmp_path / "s.toml"
    path.write_text(f'description = "t"\nscenarios = ["baseline"]\nreplicates = 1\nyears = 1\n{extra}'
                    f"[parameters]\nn_firms = 800\nburn_in_months = 60\n[design]\n{design}")
    return str(path)


def test_a_saltelli_study_expands_to_samples_times_factors_plus_two(tmp_path):
    s = load_study(_study(tmp_path, 'method = "saltelli"\nsamples = 4\nseed = 2\n[design.factors]\n'
                                    'margin = "plausible"\nalpha = { low = 0.6, high = 0.9 }\n'))
    assert len(s.points) == 4 * (2 + 2)
    assert s.design == {"method": "saltelli", "names": ["margin", "alpha"],
                        "bounds": [list(PLAUSIBLE["margin"][:2]), [0.6, 0.9]], "seed": 2, "samples": 4}
    margins = [p["margin"] for p in s.points]
    assert min(margins) >= PLAUSIBLE["margin"][0] and max(margins) <= PLAUSIBLE["margin"][1]


@pytest.mark.parametrize("design,fragment", [
    ('method = "saltelli"\nsamples = 6\n[design.factors]\nmargin = "plausible"\n', "need a power of 2"),
    ('method = "lhs"\n[design.factors]\noffice_budget = "plausible"\n', "declares no plausible range"),
    ('method = "lhs"\n[design.factors]\nmargin = "likely"\n', 'or "plausible"'),
])
def test_bad_sensitivity_designs_are_refused(tmp_path, design, fragment):
    with pytest.raises(StudyError, match=fragment):
        load_study(_study(tmp_path, design))


# -- the command on a stored study ---------------------------------------------------------------------
@pytest.mark.subprocess
def test_sensitivity_command_on_a_small_saltelli_study(tmp_path):
    study = _study(tmp_path, 'method = "saltelli"\nsamples = 2\nseed = 1\n[design.factors]\n'
                             'fixed_cost = "plausible"\ntraining_effect = "plausible"\n')
    r = subprocess.run([*CLI, "sweep", study, "--out", "res", "--workers", "0", "--quiet"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*CLI, "sensitivity", "res", "--outcomes", "firms_end", "sales_last_year",
                        "--resamples", "100"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Sobol' indices from a Saltelli design: 2 base samples x (2 factors + 2) = 8 points" in r.stdout
    table = pd.read_csv(tmp_path / "res" / "sensitivity.csv")
    assert set(table["factor"]) == {"fixed_cost", "training_effect"}
    assert set(table["outcome"]) == {"firms_end", "sales_last_year"} and table["S1"].notna().all()
    assert (tmp_path / "res" / "sensitivity.png").stat().st_size > 10_000
    assert "| `fixed_cost` | [50000, 1e+06] |" in (tmp_path / "res" / "sensitivity.md").read_text()


@pytest.mark.subprocess
def test_sensitivity_refuses_a_study_without_a_sensitivity_design(tmp_path):
    study = _study(tmp_path, 'method = "points"\n[[design.points]]\nmargin = 0.2\n')
    r = subprocess.run([*CLI, "sweep", study, "--out", "res", "--workers", "0", "--quiet"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*CLI, "sensitivity", "res"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "design.method is 'saltelli'" in r.stderr and "'points'" in r.stderr


def test_point_means_refuse_an_unfinished_design():
    record = {"method": "saltelli", "names": ["a"], "bounds": [[0, 1]], "samples": 2, "seed": 0}
    runs = pd.DataFrame({"run_id": [0], "scenario": ["s"], "point": [0], "replicate": [0],
                         "status": ["done"], "factors": [json.dumps({"a": 0.5})]})
    monthly = pd.DataFrame({"run_id": [0, 0], "scenario": ["s", "s"], "point": [0, 0],
                            "replicate": [0, 0], "month": [0, 1], "graduated_small": [0, 1],
                            "graduated_medium": [0, 0], "small": [1, 1], "medium": [0, 0],
                            "firms": [5, 5], "sales": [1.0, 1.0], "export_share": [0.1, 0.1],
                            "served": [0, 0], "graduated_served": [0, 0], "registered_share": [0.4, 0.4]})
    with pytest.raises(Exception, match="finished runs at 1 of the design's 6 points"):
        sensitivity.point_means({"runs": runs, "monthly": monthly}, record, "s", ["firms_end"])


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "experiments").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_shipped_study_loads(path):
    study = load_study(path)
    assert study.runs() and study.description
    if path.name == "sensitivity.toml":
        assert study.design["method"] == "saltelli" and len(study.points) == 32 * (4 + 2)
        assert len({burn_in_key(spec.params) for spec in study.runs()}) == 1  # levers: one city
