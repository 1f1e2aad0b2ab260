"""Cost ratios count only the instruments' spending: scenarios that change the office itself (staff,
coordination, a database, outreach, M&E) or add a merger are starred and their unpriced changes
listed, in the sweep's summary, `msme-sim compare` and the report."""

import json

import pandas as pd

from sim import analysis, compare
from sim.params import Parameters, levers

DEFAULTS = Parameters().to_dict()


def test_every_lever_is_either_priced_or_listed_as_unpriced():
    assert analysis.PRICED_LEVERS <= set(levers())  # a misspelt name would hide a lever
    unpriced = set(analysis.unpriced_levers())
    assert unpriced | analysis.PRICED_LEVERS == set(levers()) and not unpriced & analysis.PRICED_LEVERS
    for name in ("office_capacity", "coordination", "data_integration", "outreach", "service_clarity",
                 "targeting", "monitoring_evaluation", "office_throughput"):
        assert name in unpriced
    for name in ("office_budget", "grant_size", "mix_credit", "loan_size"):
        assert name not in unpriced


def _run(run_id, scenario, point=0, events=(), **changed):
    params = {**DEFAULTS, "outreach": 0.05, **changed}  # a study-wide change, in every scenario
    return dict(run_id=run_id, scenario=scenario, point=point, replicate=0,
                parameters=json.dumps(params), events=json.dumps([{"type": e, "month": 3} for e in events]))


def _runs():
    return pd.DataFrame([
        _run(0, "baseline", events=["covid_shock"]),
        _run(1, "baseline", point=1, events=["covid_shock"], coordination=0.9),
        _run(2, "package", events=["covid_shock", "regulation_change", "regulation_change", "opd_merger"],
             coordination=0.8, targeting="diagnosis", office_budget=4e9),
        _run(3, "package", point=1, events=["covid_shock"], coordination=0.9),
        _run(4, "richer", office_budget=6e9, grant_size=1e7),  # priced changes only
        _run(5, "richer", office_budget=6e9, grant_size=1e7),  # a second seed: counted once
    ])


def test_unpriced_changes_known_answer():
    changes = analysis.unpriced_changes(_runs(), "baseline")
    assert changes == {("package", 0): ["coordination 0.4 -> 0.8", "targeting first_come -> diagnosis",
                                        "event regulation_change x2", "event opd_merger"]}
    # at point 1 the package matches that point's baseline; the budget is priced; so is "richer"
    assert analysis.unpriced_changes(_runs().drop(columns="parameters"), "baseline") == {}
    assert analysis.unpriced_changes(None, "baseline") == {}


def _effects():
    rows = []
    for scenario in ("package", "richer"):
        for rep, (spend, gain) in enumerate([(10e6, 2.0), (12e6, 2.2), (14e6, 2.4)]):
            for measure, diff in (("spend", spend), ("job_years", gain), ("graduations", gain),
                                  ("sales_total", gain)):
                rows.append(dict(scenario=scenario, point=0, replicate=rep, part="cost", horizon=48,
                                 instrument="all", measure=measure, n=0, diff=diff))
    return pd.DataFrame(rows).assign(baseline_name="baseline")


def test_the_summary_stars_unpriced_scenarios_and_lists_their_changes():
    lines = analysis.effects_report(_effects(), runs=_runs())
    i = lines.index("    extra spending per graduation added, Rp M")
    assert lines[i + 1].split()[:3] == ["package", "*", "5.5"]  # Rp 12 M / 2.2 graduations
    assert lines[i + 2].split()[:2] == ["richer", "5.5"]  # priced changes only: no star
    note = "\n".join(lines[lines.index(next(x for x in lines if x.startswith("    * spending"))):])
    assert "package: coordination 0.4 -> 0.8, targeting first_come -> diagnosis" in note
    assert "richer" not in note
    # under each section label, the package's row is starred exactly when the label is a cost ratio
    # (the spending row, an effect, is not)
    label, seen = None, {}
    for x in lines:
        if x.startswith("    ") and not x.startswith("      "):
            label = x.strip()
        elif x.startswith("      package"):
            seen[label] = x.split()[1] == "*"
    assert seen == {lab: lab in analysis.COST_LABELS for lab in seen}
    assert any(seen.values()) and not all(seen.values())
    fx = pd.concat([_effects(), _effects().query("measure == 'spend'").assign(
        part="net", measure="workers", n=10)], ignore_index=True)  # an effect row besides the costs
    with_effect = analysis.effects_report(fx, runs=_runs())
    i = with_effect.index("    at the end, the whole city: workers")
    assert with_effect[i + 1].split()[0] == "package" and with_effect[i + 1].split()[1] != "*"
    plain = analysis.effects_report(_effects())  # no runs table: nothing to say
    assert not any("*" in x for x in plain)


def test_compare_markdown_stars_and_lists_the_same():
    table = pd.DataFrame([dict(scenario="package", point=0, label="x", mean=1.0, t_low=0.5, t_high=1.5,
                               bca_low=0.5, bca_high=1.5, relative=0.1, share_better=1.0, share_worse=0.0, n=3,
                               p=0.01, p_holm=0.01, scale=1, baseline_scenario="baseline",
                               outcome="graduations")])
    md = compare.markdown(table, _effects(), _runs())
    assert "| package \\* | extra spending per graduation added, Rp M |" in md
    assert "| richer | extra spending per graduation added, Rp M |" in md
    assert "- `package`: coordination 0.4 -> 0.8, targeting first_come -> diagnosis, " \
           "event regulation_change x2, event opd_merger" in md
    assert "\\* Spending is what the office paid" in md
    assert "\\*" not in compare.markdown(table, _effects())
    fx = pd.concat([_effects(), _effects().query("measure == 'spend'").assign(
        part="net", measure="workers", n=10)], ignore_index=True)
    md = compare.markdown(table, fx, _runs())
    assert "| package | at the end, the whole city: workers |" in md  # effects are not starred
