"""Known answers for benchmarks/bench_pairing.py, the script whose tables benchmarks/README.md and
the issue-8 targets quote (pairing statistics, and the split of paired differences by group)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_spec = importlib.util.spec_from_file_location(
    "bench_pairing", Path(__file__).parents[1] / "benchmarks" / "bench_pairing.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_pairing_of_a_constant_shift_is_perfect():
    b = np.array([3.0, 5.0, 4.0, 8.0])
    r = bench.pairing(b + 2.0, b)
    assert r["corr"] == pytest.approx(1.0) and r["sd_ratio"] == 0.0 and r["vrf"] == float("inf")


def test_pairing_known_answer():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    # var(a) = 7/3, var(b) = 1, diff = (0, -1, 2): var 7/3; corr = cov / (sd_a sd_b) = 0.5 / sqrt(7/3)
    r = bench.pairing(a, b)
    assert r["corr"] == pytest.approx(0.5 / np.sqrt(7 / 3))
    assert r["sd_ratio"] == pytest.approx(np.sqrt(7 / 3) / np.sqrt((7 / 3 + 1) / 2))
    assert r["vrf"] == pytest.approx((7 / 3 + 1) / (7 / 3))


def test_decomposition_means_and_sds_by_group_with_sales_in_billions():
    rows = []
    for served, other in [(2.0, -1.0), (4.0, -3.0)]:  # two seeds
        rows += [dict(scenario="pkg", measure="higher_class", part="served_by_scenario", diff=served),
                 dict(scenario="pkg", measure="higher_class", part="everyone_else", diff=other),
                 dict(scenario="pkg", measure="sales", part="net", diff=1e9 * (served + other)),
                 dict(scenario="pkg", measure="workers", part="net", diff=5.0),  # not a listed measure
                 dict(scenario="pkg", measure="alive", part="treated_only", diff=7.0)]  # not a listed group
    d = bench.decomposition(pd.DataFrame(rows)).set_index(["measure", "group"])
    assert len(d) == 3 and (d["seeds"] == 2).all()
    assert d.loc[("higher_class", "served_by_scenario"), "mean"] == pytest.approx(3.0)
    assert d.loc[("higher_class", "served_by_scenario"), "sd"] == pytest.approx(np.sqrt(2.0))
    assert d.loc[("higher_class", "everyone_else"), "mean"] == pytest.approx(-2.0)
    assert d.loc[("sales", "net"), "mean"] == pytest.approx(1.0) and d.loc[("sales", "net"), "sd"] == 0.0
