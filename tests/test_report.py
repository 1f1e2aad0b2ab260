"""The end-of-sweep summary (sim.analysis.report), pinned as text on hand-built tables."""

import json

import numpy as np
import pandas as pd
import pytest

from sim import analysis

from .test_headlines import _run_table


def _tables(scenarios=("baseline", "merger"), points=({},), baseline="baseline", reps=3):
    runs, monthly, run_id = [], [], 0
    for sc_i, scenario in enumerate(scenarios):
        for point, factors in enumerate(points):
            for rep in range(reps):
                runs.append(dict(run_id=run_id, scenario=scenario, point=point, replicate=rep,
                                 factors=json.dumps(factors),
                                 baseline=baseline if baseline and scenario != baseline else None))
                table = _run_table(run_id, 24, scenario, rep, shift=rep + 2.0 * sc_i + 5.0 * point)
                table["point"] = point
                monthly.append(table)
                run_id += 1
    return {"runs": pd.DataFrame(runs), "monthly": pd.concat(monthly, ignore_index=True)}


def test_interval_known_answers():
    assert analysis.interval([1.0, 3.0]) == pytest.approx((2.0, 2.0 - 12.7062047, 2.0 + 12.7062047))
    mean, lo, hi = analysis.interval([5.0])
    assert mean == 5.0 and np.isnan(lo) and np.isnan(hi)
    assert analysis.interval(np.array([1, 2, 3]), level=0.5)[1] == pytest.approx(2 - 0.8164966 * 0.5773503 / 1)


def test_report_text():
    text = analysis.report(_tables())
    lines = text.splitlines()
    assert lines[0] == "  mean [95 % interval] across seeds"
    assert lines[1] == "    graduations out of micro and small (each firm once per class)"
    # baseline: 3 * sum(1..24) + 24 * shift, shift = 0, 1, 2 -> 900, 924, 948
    assert lines[2].split() == ["baseline", "924", "[864,", "984]", "n=3"]
    assert lines[3].split() == ["merger", "972", "[912,", "1,032]", "n=3"]
    i = lines.index("  difference from baseline, same seeds (paired)")
    assert lines[i + 1] == "    graduations out of micro and small (each firm once per class)"
    assert lines[i + 2].split() == ["merger", "48", "[48,", "48]", "n=3"]  # +2 a month, 24 months
    j = lines.index("    firms served by the office", i)
    assert lines[j + 1].split() == ["merger", "0", "[0,", "0]", "n=3"]
    assert "design points" not in text and "effects on served firms" not in text
    assert text == text.rstrip() and "\n\n\n" not in text
    assert lines[i - 1] == ""  # a blank line between the two tables


def test_report_compares_with_the_named_baseline_even_when_it_is_not_first():
    text = analysis.report(_tables(scenarios=("merger", "baseline")))
    assert "difference from baseline, same seeds (paired)" in text
    i = text.index("difference from baseline")
    assert text[i:].splitlines()[2].split()[:2] == ["merger", "-48"]
    unnamed = analysis.report(_tables(scenarios=("merger", "baseline"), baseline=None))
    assert "difference from merger, same seeds (paired)" in unnamed


def test_report_lists_design_points_and_labels_rows_by_point():
    text = analysis.report(_tables(points=({"alpha": 0.75}, {"alpha": 0.8125, "targeting": "random"})))
    lines = text.splitlines()
    assert lines[:4] == ["  design points", "    #0: alpha=0.75", "    #1: alpha=0.8125, targeting=random", ""]
    i = lines.index("    graduations out of micro and small (each firm once per class)")
    assert [ln.split()[:2] for ln in lines[i + 1:i + 5]] == [
        ["baseline", "#0"], ["baseline", "#1"], ["merger", "#0"], ["merger", "#1"]]


def test_report_of_nothing():
    assert analysis.report({"runs": pd.DataFrame(), "monthly": pd.DataFrame()}) == \
        "  no finished runs to summarise"
    assert analysis.report({"runs": pd.DataFrame()}) == "  no finished runs to summarise"


def test_report_adds_effects_after_the_paired_differences():
    tables = _tables()
    rows = []
    for rep in range(3):
        rows.append(dict(scenario="merger", point=0, replicate=rep, part="net", horizon=24,
                         instrument="all", measure="alive", n=100, diff=-3.0 - rep))
    tables["effects"] = pd.DataFrame(rows)
    lines = analysis.report(tables).splitlines()
    i = lines.index("  effects on served firms and on the rest of the city (vs baseline, same firms, same seeds)")
    assert lines.index("  difference from baseline, same seeds (paired)") < i
    assert lines[i + 1] == "    at the end, the whole city: firms"
    assert lines[i + 2].split()[:2] == ["merger", "-4"]


def test_whole_number_headlines_below_10_get_one_decimal():
    assert analysis._fmt("graduations", -0.3) == "-0.3" and analysis._fmt("graduations", 0.3) == "0.3"
    assert analysis._fmt("graduations", 0.0) == "0" and analysis._fmt("graduations", -12.0) == "-12"
    assert analysis._fmt("graduations", 1234.0) == "1,234"
    assert analysis._fmt("sales_last_year", 2.5e9) == "2.5"  # formats with decimals keep theirs


def test_forest_legend_names_each_drawn_scenario_once(monkeypatch):
    """Scenario b has no finite point in the first outcome (its baseline mean is 0): the legend
    still names it, from its first drawn point, and names a only once."""
    from sim import report
    seen = {}

    def capture(fig):
        seen["labels"] = fig.axes[0].get_legend_handles_labels()[1]
        return b""
    monkeypatch.setattr(report, "_png", capture)
    rows = [dict(outcome=o, scenario=s, baseline=0.0 if (o, s) == ("graduations", "b") else 10.0,
                 mean=1.0, t_low=0.5, t_high=1.5, baseline_scenario="base")
            for o in ("graduations", "served") for s in ("a", "b")]
    report.fig_forest(pd.DataFrame(rows), {"a": "red", "b": "blue"})
    assert seen["labels"] == ["a", "b"]
